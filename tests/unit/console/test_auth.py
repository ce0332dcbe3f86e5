"""Log-in, log-out, sessions, CSRF and lock-out, over real HTTP."""

from __future__ import annotations

from tests.conftest import RunningService
from tests.unit.console.helpers import make_staff


async def test_login_logout_roundtrip(console_service: RunningService, client_factory) -> None:
    await make_staff(console_service.services, "wang", "市生态环境局")
    client = await client_factory()
    status, _text, response = await client.get("/console/reports")
    assert status == 303 and response.headers["Location"].startswith("/console/login")
    assert await client.login("wang") == 303
    status, text, _ = await client.get("/console/reports")
    assert status == 200 and "wang" in text and "举报案件" in text
    status, _text, response = await client.post("/console/logout")
    assert status == 303
    status, _text, _ = await client.get("/console/reports")
    assert status == 303
