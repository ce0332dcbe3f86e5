"""The dispatcher through the real 公众号 client against the fake WeChat API on loopback: busy answers,
a recipient who does not follow, and a crash between WeChat accepting a message and us recording it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.outbound.channels.base import Channel, SendResult
from bot.outbound.channels.factory import build_api_channels, close_channels
from bot.outbound.channels.http import RetryPolicy
from bot.reminders.dispatch import run_pass
from bot.services import Services
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.models.reminders import DIGEST_PURPOSE, Contact
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config
from tests.unit.reminders.fakes import SimulatedCrash
from tests.unit.reminders.helpers import add_contact, at, load_tasks, task_toml

TEMPLATE = "/cgi-bin/message/template/send"
NOW = at(2025, 12, 30, 10)


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
async def api_services(tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi) -> AsyncIterator[Services]:
    config = make_api_config(
        tmp_path, sqlite_url, fake_wechat, YCBOT_REMINDERS_TEMPLATE_ID="TPL-1", YCBOT_REMINDERS_SEED_FILE=""
    )
    fake_wechat.add_template("TPL-1", ["thing1", "time2", "thing3", "thing4"])  # picked in the admin
    fake_wechat.follow("o-health", "o-gone", "o-coordinator")  # bound officials follow the account
    db = Database(sqlite_url)
    await upgrade(db)
    await seed_departments(db, duties().units)
    clock = FakeClock(NOW)
    # One try per call inside the client: retrying a busy answer is left to the dispatcher here.
    channels = build_api_channels(config, db, clock=clock, retry=RetryPolicy(busy_tries=1, sleep=_no_sleep))
    services = Services(config=config, database=db, channels=channels, clock=clock)
    await load_tasks(db, task_toml("T1", lead="市卫健委"), NOW)
    try:
        yield services
    finally:
        await close_channels(channels)
        await db.dispose()


async def test_busy_answer_is_retried_and_delivered_once(api_services: Services, fake_wechat: FakeWechatApi) -> None:
    await add_contact(api_services.database, "市卫健委", "o-health", now=NOW)
    fake_wechat.fail_next(TEMPLATE, errcode=-1)
    first = await run_pass(api_services, NOW)
    assert first.send.retried == 1 and fake_wechat.sent_to("o-health") == []
    second = await run_pass(api_services, at(2025, 12, 30, 10, 1))
    assert second.send.sent == 1
    await run_pass(api_services, at(2025, 12, 30, 11))
    [delivered] = fake_wechat.sent_to("o-health")
    assert delivered.body["template_id"] == "TPL-1" and delivered.body["data"]["thing3"]["value"] == "还剩1个工作日"
    assert fake_wechat.count(TEMPLATE) == 2


async def test_not_following_stops_sending_and_tells_the_coordinator(
    api_services: Services, fake_wechat: FakeWechatApi
) -> None:
    gone = await add_contact(api_services.database, "市卫健委", "o-gone", name="钱", now=NOW)
    await add_contact(api_services.database, "市生态环境局", "o-coordinator", now=NOW)
    fake_wechat.set_errcode_for("o-gone", 43004)
    report = await run_pass(api_services, NOW)
    assert report.send.dead == 1 and report.send.unreachable == [gone]
    async with api_services.database.session() as s:
        contact = await s.get(Contact, gone)
        assert contact is not None and contact.status == "unreachable"
        [notice] = (await s.scalars(select(OutboxMessage).where(OutboxMessage.purpose != DIGEST_PURPOSE))).all()
    assert notice.recipient == "o-coordinator" and notice.purpose == "reminders"
    for day in (30, 31):
        await run_pass(api_services, at(2025, 12, day, 16))
    tries = [c for c in fake_wechat.calls_to(TEMPLATE) if c.body.get("touser") == "o-gone"]
    assert len(tries) == 1, "no further attempts to a contact who does not follow"


@dataclass
class CrashAfterSend:
    """The real channel, but the process dies right after WeChat accepted the first message."""

    inner: Channel
    name: str = "mp"
    crashed: bool = False

    async def send_template(self, recipient: str, template_id: str, data: dict[str, str], **kw: Any) -> SendResult:
        result = await self.inner.send_template(recipient, template_id, data, **kw)
        if not self.crashed:
            self.crashed = True
            raise SimulatedCrash("died before recording the send")
        return result

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)


async def test_restart_mid_send_resends_with_the_same_key_and_wechat_drops_the_copy(
    api_services: Services, fake_wechat: FakeWechatApi
) -> None:
    await add_contact(api_services.database, "市卫健委", "o-health", now=NOW)
    real = api_services.channels["mp"]
    api_services.channels["mp"] = CrashAfterSend(real)  # type: ignore[assignment]
    with pytest.raises(SimulatedCrash):
        await run_pass(api_services, NOW)
    api_services.channels["mp"] = real
    # "Restart": the claim lapses after [outbox] lease_seconds (300 s) and the message is sent again.
    assert (await run_pass(api_services, at(2025, 12, 30, 10, 4))).send.sent == 0
    assert (await run_pass(api_services, at(2025, 12, 30, 10, 6))).send.sent == 1
    first, second = fake_wechat.calls_to(TEMPLATE)
    assert first.body["client_msg_id"] == second.body["client_msg_id"]
    assert len(fake_wechat.sent_to("o-health")) == 1, "WeChat drops the resend by client_msg_id"
