"""A reminder pass dated past the working-day data counts Monday–Friday and warns the coordinator."""

from __future__ import annotations

from sqlalchemy import select

from bot import texts
from bot.reminders.dispatch import run_pass
from bot.services import Services
from bot.tasks import workdays
from storage.db import Database
from storage.models import OutboxMessage
from tests.support.notices import as_sent
from tests.unit.reminders.fakes import RecordingChannel
from tests.unit.reminders.helpers import add_contact, at, load_tasks, task_toml

Channels = dict[str, RecordingChannel]


async def _calendar_notices(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list((await s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "calendar"))).all())


async def test_a_pass_in_an_uncovered_year_counts_weekdays_and_warns_the_coordinator(
    services: Services, channels: Channels, db: Database
) -> None:
    now = at(2027, 10, 1, 10)  # a Friday; the 2027 arrangement is not published, so a working day
    assert workdays.covered_until(now.date()) is None
    await load_tasks(db, task_toml("T1", deadline="2027-10-01"), now)
    await add_contact(db, "市生态环境局", "o-eco", now=now)
    await add_contact(db, "市卫健委", "o-health", now=now)

    report = await run_pass(services, now)
    assert [m.recipient for m in channels["mp"].sent] == ["o-eco"]
    assert channels["mp"].sent[0].data["thing3"] == "今天到期"
    assert report.calendar_notices == 1
    (notice,) = await _calendar_notices(db)
    assert notice.recipient == "o-eco"  # the coordinator department's contact only
    kind, sent = as_sent(services.config, notice)
    assert kind == "template" and sent["data"]["thing3"] == texts.CALENDAR_STATE_ENDED
    assert sent["data"]["time2"] == "2026年12月31日 23:59"

    await run_pass(services, at(2027, 10, 4, 10))
    assert len(await _calendar_notices(db)) == 1  # told once, not on every pass


async def test_the_coordinator_is_told_60_days_before_coverage_ends(services: Services, db: Database) -> None:
    await add_contact(db, "市生态环境局", "o-eco", now=at(2026, 10, 1))
    early = await run_pass(services, at(2026, 10, 30, 10))  # 62 days before 2026-12-31
    assert early.calendar_notices == 0 and await _calendar_notices(db) == []

    due = await run_pass(services, at(2026, 11, 2, 10))  # 59 days before
    assert due.calendar_notices == 1
    (notice,) = await _calendar_notices(db)
    assert as_sent(services.config, notice)[1]["data"]["thing3"] == texts.CALENDAR_STATE_ENDING.format(days=59)
    assert notice.status == "pending"
    await run_pass(services, at(2026, 11, 3, 10))
    assert len(await _calendar_notices(db)) == 1
