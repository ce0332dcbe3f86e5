"""GET /metrics: real pushes, a report with photos, a reminder pass and the outbox worker, read back."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.outbound.worker import OutboxWorker
from bot.reminders.dispatch import run_pass
from bot.reports.photos import download_pending_photos
from storage.contacts import add_wecom_contact, resolve_department
from tests.conftest import RunningService, start_service, stop_service
from tests.e2e.test_reports import api_service, file_report  # noqa: F401  (fixture)
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi
from tests.unit.reminders.helpers import load_tasks, task_toml
from tests.unit.reports import imagefactory as imgs

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(service: RunningService, headers: dict[str, str] | None = None) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(f"{service.url}/metrics", headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_what_the_service_did(
    api_service: RunningService,  # noqa: F811  (the fixture imported above)
    fake_wechat: FakeWechatApi,
) -> None:
    service = api_service
    before = await scrape(service)
    now = service.clock()
    async with service.services.database.session() as session:
        await add_wecom_contact(session, await resolve_department(session, "市生态环境局"), "epb", name="值班", now=now)
        await session.commit()
    # Pushes: a knowledge question, a report with a photo, and three refused requests.
    await service.wx.send_text("metrics-user", "PFOS是什么")
    fake_wechat.put_media("M1", imgs.jpeg(), "image/jpeg")
    await file_report(service, "metrics-user", photos=("M1",))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{service.url}/wechat", params={"signature": "x", "timestamp": "1", "nonce": "n"}) as r:
            assert r.status == 403
        signed = service.wx.signer.request("<xml>", "plaintext", timestamp=int(service.clock().timestamp()))
        async with http.post(f"{service.url}/wechat", params=signed.query, data=b"not xml") as r:
            assert r.status == 400
        big = b"<xml>" + b"a" * (service.config.server.max_body_bytes + 10) + b"</xml>"
        async with http.post(f"{service.url}/wechat", params=signed.query, data=big) as r:
            assert r.status == 413
    assert (await download_pending_photos(service.services, now=now)).stored == 1
    await OutboxWorker(service.services).run_once()  # the new-case notice to the department's WeCom contact
    database = service.services.database
    await load_tasks(database, task_toml("T1", deadline="2026-11-20"), now)
    pass_report = await run_pass(service.services, now)
    assert pass_report.send.sent == 1

    after = await scrape(service)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    pushes = 1 + 8  # the question; the wizard: 举报, category, description, location, photo, 完成, 匿名, 确认
    assert grew("ycbot_callback_seconds_count", outcome="answered") == pushes
    for status in ("403", "400", "413"):
        assert grew("ycbot_callback_seconds_count", outcome=f"rejected_{status}") == 1
    assert sum(grew("ycbot_knowledge_answers_total", kind=k) for k in ("answer", "partial", "unsure", "chemical")) >= 1
    assert grew("ycbot_photo_downloads_total", result="stored") == 1
    assert grew("ycbot_deliveries_total", channel="wecom", source="outbox", result="sent", errcode="") == 1
    assert grew("ycbot_deliveries_total", channel="wecom", source="reminder", result="sent", errcode="") == 1
    assert grew("ycbot_reminders_total", step="planned") >= 1
    assert grew("ycbot_reminders_total", step="sent") == 1
    # Read from the database at scrape time.
    assert value(after, "ycbot_outbox_rows", state="sent", purpose="notice") == 1
    assert value(after, "ycbot_calendar_covered_until", calendar_covered_until="2026-12-31") > 0
    assert value(after, "ycbot_db_pool_capacity") >= 1
    assert ("ycbot_outbox_oldest_pending_seconds", ()) in after


async def test_a_token_protects_metrics(tmp_path, sqlite_url: str, knowledge_base, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_config

    running = await start_service(
        make_config(tmp_path, sqlite_url, YCBOT_METRICS_TOKEN="s3cret-scrape"), knowledge_base, clock
    )
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{running.url}/metrics") as resp:
                assert resp.status == 403
            async with http.get(f"{running.url}/metrics", headers={"Authorization": "Bearer wrong"}) as resp:
                assert resp.status == 403
        assert await scrape(running, {"Authorization": "Bearer s3cret-scrape"})
    finally:
        await stop_service(running)


@pytest.mark.parametrize(
    ("authorization", "remote", "token", "ok"),
    [
        ("", "127.0.0.1", "", True),
        ("", "::1", "", True),
        ("", "10.0.0.5", "", False),  # nginx or anyone else on the network, without a token
        ("", None, "", False),
        ("Bearer t", "10.0.0.5", "t", True),
        ("Bearer t", "127.0.0.1", "other", False),
        ("Basic t", "127.0.0.1", "t", False),
    ],
)
def test_who_may_scrape(authorization: str, remote: str | None, token: str, ok: bool) -> None:
    assert metrics.allowed(authorization, remote, token) is ok
