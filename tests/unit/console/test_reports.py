"""Report list, case page, actions, photos and visibility, over real HTTP."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import OutboxMessage
from storage.models.console import AuditEntry
from tests.conftest import RunningService
from tests.unit.console.helpers import make_staff, sample_jpeg, seed_report


async def test_list_case_page_and_photo(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await make_staff(services, "eco", "市生态环境局")
    photo = sample_jpeg()
    case_no = await seed_report(services, photos=(photo,))
    client = await client_factory()
    assert await client.login("eco") == 303
    status, text, _ = await client.get("/console/reports")
    assert status == 200 and case_no in text
    status, text, _ = await client.get(f"/console/reports/{case_no}")
    assert status == 200
    assert "偷排黑色废水" in text and "uri.amap.com/marker?position=110.987600,35.031200" in text
    url = re.search(r'<img src="(/console/photos/[^"]+)"', text).group(1)
    status, _body, response = await client.get(url)
    assert status == 200 and response.content_type == "image/jpeg"
    assert response.body_bytes == photo
