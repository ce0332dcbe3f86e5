"""Overdue cases through the reminders engine: one reminder per ladder step to the handling department's
contacts, exactly once with two dispatchers racing (separate engines, as two processes), none after the
case is decided, and the coordinator's weekly digest."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.cases.reminders import digest_day
from bot.reminders.dispatch import run_pass
from bot.reminders.ladder import Ladder
from bot.reports.workflow import change_status
from bot.services import Services
from bot.tasks import workdays
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from storage.models.reminders import ReminderDelivery, ReminderMessage
from tests.conftest import make_config
from tests.support.clock import FakeClock
from tests.unit.console.helpers import seed_report
from tests.unit.reminders.fakes import RecordingChannel
from tests.unit.reminders.helpers import add_contact, at

FIRST_OVERDUE = date(2025, 11, 19)  # received Mon 3 Nov 2025: the 15 days end with Tue 18 Nov


def working_days(first: date, last: date) -> list[date]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if workdays.is_working_day(d)]


async def test_overdue_case_reminded_once_per_rung_across_two_dispatchers(db_url: str, tmp_path: Path) -> None:
    config = make_config(tmp_path, db_url, YCBOT_REMINDERS_SEED_FILE="")
    setup = Database(db_url)
    await upgrade(setup)
    await seed_departments(setup, duties().units)
    received = at(2025, 11, 3, 10)
    owner = Services(config=config, database=setup, clock=FakeClock(received))
    case_no = await seed_report(owner, category="pesticide", county="夏县", at=received)
    late_no = await seed_report(owner, category="pesticide", county="夏县", latitude=35.3, at=received)
    agri = [await add_contact(setup, "市农业农村局", f"o-agri-{i}", now=received) for i in range(2)]
    await add_contact(setup, "市生态环境局", "o-coordinator", now=received)
    channels = [RecordingChannel("mp"), RecordingChannel("mp")]
    dbs = [Database(db_url), Database(db_url)]
    workers = [
        Services(config=config, database=d, channels={"mp": c, "wecom": RecordingChannel("wecom")})
        for d, c in zip(dbs, channels, strict=True)
    ]
    ladder = Ladder.from_config(config.reminders)
    decided_on = date(2025, 12, 10)
    try:
        for day in working_days(FIRST_OVERDUE - timedelta(days=2), date(2025, 12, 31)):
            if day == decided_on:  # the first case is finally accepted this morning, before the pass
                async with setup.session() as session:
                    await change_status(session, owner, case_no, "accepted", actor="t", now=at(2025, 12, 10, 8))
                    await session.commit()
            now = at(day.year, day.month, day.day, 10)
            await asyncio.gather(*(run_pass(w, now) for w in workers))
            await asyncio.gather(*(run_pass(w, now) for w in workers))  # a second pass sends nothing new
        async with setup.session() as session:
            rows = (
                await session.execute(
                    select(ReminderDelivery.task_id, ReminderDelivery.contact_id, ReminderDelivery.on_date,
                           ReminderDelivery.status)
                )
            ).all()  # fmt: skip
            messages = list((await session.scalars(select(ReminderMessage))).all())
    finally:
        for d in [*dbs, setup]:
            await d.dispose()

    rungs = [d for d in working_days(FIRST_OVERDUE, date(2025, 12, 31))
             if ladder.overdue_rung(workdays.working_days_between(FIRST_OVERDUE - timedelta(days=1), d))]  # fmt: skip
    assert rungs[:4] == [date(2025, 11, 19), date(2025, 11, 20), date(2025, 11, 21), date(2025, 11, 28)]
    for contact in agri:
        late_days = sorted(d for t, c, d, s in rows if t == f"case:{late_no}" and c == contact and s == "sent")
        assert late_days == rungs  # every rung, once each
        early_days = sorted(d for t, c, d, s in rows if t == f"case:{case_no}" and c == contact and s == "sent")
        assert early_days == [d for d in rungs if d < decided_on]  # nothing after the decision
    # One message per contact and day (both cases in one digest), each sent exactly once in all.
    sent = Counter(m.client_msg_id for c in channels for m in c.sent)
    assert set(sent.values()) == {1}
    agri_messages = [m for m in messages if m.contact_id in agri]
    assert len(agri_messages) == 2 * len(rungs)
    first = min(agri_messages, key=lambda m: m.id)
    assert case_no in first.payload["detail"] and late_no in first.payload["detail"]
    assert "受理决定时限" in first.payload["detail"]

    # The coordinator: one digest each week there were overdue cases, on that week's first working day.
    digests = sorted(d for t, c, d, s in rows if t == "cases:weekly" and s == "sent")
    expected = [d for d in working_days(FIRST_OVERDUE, date(2025, 12, 31)) if digest_day(d, 1)]
    assert digests == expected and len(digests) == 6
    digest = next(m for m in messages if "超期案件" in m.payload["detail"])
    assert "市农业农村局：超期案件 2 件" in digest.payload["detail"]


def test_digest_day_is_the_first_working_day_of_the_week() -> None:
    assert digest_day(date(2025, 12, 1), 1)  # a Monday
    assert not digest_day(date(2025, 12, 2), 1)
    assert not digest_day(date(2025, 12, 1), 0)  # off
    # National Day week 2025: 1-8 October are holidays, so that week has no working day on or after Monday
    # until Thursday 9 October (working day), which is the digest day.
    assert digest_day(date(2025, 10, 9), 1)
