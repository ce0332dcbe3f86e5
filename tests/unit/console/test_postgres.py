"""The console's queries on PostgreSQL: filters, visibility, actions, exports and Open311 in one pass."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import openpyxl
import pytest

from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.unit.console.helpers import ConsoleClient, make_staff, sample_jpeg, seed_report

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_service(tmp_path: Path, pg_url: str) -> AsyncIterator[RunningService]:
    config = make_config(tmp_path, pg_url, YCBOT_CONSOLE_SECRET_KEY="pg-console-key")
    running = await start_service(config, object(), FakeClock())
    yield running
    await stop_service(running)


async def test_console_on_postgres(pg_service: RunningService) -> None:
    services = pg_service.services
    await make_staff(services, "eco", "市生态环境局")
    await make_staff(services, "linyi", "临猗县政府")
    start = services.now()
    eco_case = await seed_report(services, description="排放100%_含氟废水", photos=(sample_jpeg(),))
    linyi_case = await seed_report(
        services, category="pesticide", county="临猗县", latitude=35.15, longitude=110.77, at=start + timedelta(days=3)
    )
    client = ConsoleClient(pg_service.url)
    county = ConsoleClient(pg_service.url)
    try:
        assert await client.login("eco") == 303
        _, text, _ = await client.get("/console/reports?" + urlencode({"q": "100%_"}))
        assert 'id="total">1<' in text and eco_case in text
        _, text, _ = await client.get("/console/reports?" + urlencode({"q": "%"}))
        assert 'id="total">1<' in text
        day = (start + timedelta(hours=8)).date()
        _, text, _ = await client.get("/console/reports?" + urlencode({"date_from": day, "date_to": day}))
        assert 'id="total">1<' in text
        assert (await client.get(f"/console/reports/{linyi_case}"))[0] == 404
        accept = {"action": "accept", "public_summary": "工厂排放废水"}
        status, _, _ = await client.post(f"/console/reports/{eco_case}/action", accept)
        assert status == 303
        _, _, response = await client.get("/console/reports/export.xlsx?status=accepted")
        rows = list(openpyxl.load_workbook(io.BytesIO(response.body_bytes)).active.iter_rows(values_only=True))
        assert [row[0] for row in rows[1:]] == [eco_case]

        assert await county.login("linyi") == 303
        _, text, _ = await county.get("/console/reports")
        assert linyi_case in text and eco_case not in text

        async with client.http.get(pg_service.url + "/open311/v2/requests.json") as r:
            body = json.loads(await r.read())
        assert [item["service_request_id"] for item in body] == [eco_case]
        assert body[0]["lat"] == 35.032  # GCJ-02 35.0312 published as WGS84, rounded
    finally:
        await client.close()
        await county.close()
