"""Planning and dispatch with a controlled clock: digests, idempotence, retries, dead contacts, catch-up,
escalation, holidays. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.outbound.channels.base import ChannelError
from bot.reminders.dispatch import run_pass
from bot.services import Services
from bot.tasks import workdays
from bot.tasks.completion import mark_done
from storage.db import Database
from storage.models import OutboxMessage
from storage.models.reminders import DIGEST_PURPOSE, Contact, ReminderDelivery, ReminderMessage
from tests.support.notices import as_sent
from tests.unit.reminders.fakes import RecordingChannel, SimulatedCrash
from tests.unit.reminders.helpers import add_contact, at, load_tasks, task_toml

Channels = dict[str, RecordingChannel]


async def _count(db: Database, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_one_digest_per_contact_and_a_second_pass_sends_nothing(
    services: Services, channels: Channels, db: Database
) -> None:
    now = at(2025, 12, 30, 10)  # one working day before 2025-12-31
    await load_tasks(db, task_toml("T1") + task_toml("T2", title="第二项任务") + task_toml("T3", lead="市卫健委"), now)
    await add_contact(db, "市生态环境局", "o-eco", name="赵", now=now)
    await add_contact(db, "市卫健委", "o-health", now=now)

    report = await run_pass(services, now)
    assert report.plan.planned == 3 and report.messages == 2 and report.send.sent == 2
    sent = {m.recipient: m for m in channels["mp"].sent}
    assert set(sent) == {"o-eco", "o-health"}
    eco = sent["o-eco"]
    assert eco.data["thing1"] == "2项任务提醒"
    assert eco.data["time2"] == "2025年12月31日 23:59"  # a time key carries a time of day
    assert all(len(v) <= 20 and "\n" not in v for v in eco.data.values())
    assert eco.client_msg_id and eco.client_msg_id.startswith("rm")
    assert eco.url and "/reminders/m/" in eco.url
    async with db.session() as s:
        detail = (await s.scalar(select(ReminderMessage.payload).where(ReminderMessage.recipient == "o-eco")))["detail"]
    assert "T1" in detail and "T2" in detail and "T3" not in detail and "还剩1个工作日" in detail

    again = await run_pass(services, now)
    assert (again.plan.planned, again.messages, again.send.sent) == (0, 0, 0)
    later = await run_pass(services, at(2025, 12, 30, 16))
    assert later.send.sent == 0
    assert len(channels["mp"].sent) == 2


async def test_deadline_day_and_done_departments(services: Services, channels: Channels, db: Database) -> None:
    now = at(2025, 12, 31, 9, 30)
    await load_tasks(db, task_toml("T1", co=("市卫健委",)), now)
    await add_contact(db, "市生态环境局", "o-eco", now=now)
    await add_contact(db, "市卫健委", "o-health", now=now)
    async with db.session() as s:
        await mark_done(s, "T1", "卫健委", actor="test", now=now)
        await s.commit()
    await run_pass(services, now)
    assert [m.recipient for m in channels["mp"].sent] == ["o-eco"]
    assert channels["mp"].sent[0].data["thing3"] == "今天到期"


async def test_done_after_planning_cancels_the_waiting_reminder(
    services: Services, channels: Channels, db: Database
) -> None:
    early = at(2025, 12, 30, 7)  # planned before the 09:00 opening
    await load_tasks(db, task_toml("T1"), early)
    await add_contact(db, "市生态环境局", "o-eco", now=early)
    report = await run_pass(services, early)
    assert report.plan.planned == 1 and not report.window_open and channels["mp"].sent == []
    async with db.session() as s:
        await mark_done(s, "t1", "市生态环境局", actor="赵", now=early)
        await s.commit()
    await run_pass(services, at(2025, 12, 30, 9, 5))
    assert channels["mp"].sent == []
    assert await _count(db, ReminderDelivery, ReminderDelivery.status == "cancelled") == 1


async def test_quiet_hours_hold_until_the_next_morning(services: Services, channels: Channels, db: Database) -> None:
    evening = at(2025, 12, 29, 21)
    await load_tasks(db, task_toml("T1", deadline="2025-12-30"), evening)
    await add_contact(db, "市生态环境局", "o-eco", now=evening)
    await run_pass(services, evening)  # before-1 is planned for today but it is 21:00
    assert channels["mp"].sent == []
    await run_pass(services, at(2025, 12, 30, 8))
    assert channels["mp"].sent == []
    await run_pass(services, at(2025, 12, 30, 9))
    [message] = channels["mp"].sent
    assert message.data["thing1"] == "2项任务提醒"  # yesterday's before-1 and today's due, in one digest


async def test_a_reminder_falling_in_the_national_day_holiday_waits_for_the_next_working_day(
    services: Services, channels: Channels, db: Database
) -> None:
    # Due 2025-10-03 (inside 国庆), and a deadline that extends to the next working day: 2025-10-09.
    start = at(2025, 9, 30, 10)
    await load_tasks(db, task_toml("T1", deadline="2025-10-03", rule="next_working_day"), start)
    await add_contact(db, "市生态环境局", "o-eco", now=start)
    await run_pass(services, start)
    first = list(channels["mp"].sent)
    assert [m.data["thing3"] for m in first] == ["还剩1个工作日"]  # 09-30 is the working day before 10-09
    for day in range(1, 9):
        await run_pass(services, at(2025, 10, day, 10))
    assert channels["mp"].sent == first, "nothing goes out during the holiday"
    await run_pass(services, at(2025, 10, 9, 10))
    assert [m.data["thing3"] for m in channels["mp"].sent[len(first) :]] == ["今天到期"]


async def test_by_deadline_on_a_holiday_means_the_working_day_before(
    services: Services, channels: Channels, db: Database
) -> None:
    now = at(2025, 9, 30, 10)
    await load_tasks(db, task_toml("T1", deadline="2025-10-03"), now)
    await add_contact(db, "市生态环境局", "o-eco", now=now)
    await run_pass(services, now)
    assert [m.data["thing3"] for m in channels["mp"].sent] == ["今天到期"]


async def test_restart_mid_send_resends_with_the_same_key(services: Services, channels: Channels, db: Database) -> None:
    now = at(2025, 12, 30, 10)
    await load_tasks(db, task_toml("T1"), now)
    await add_contact(db, "市生态环境局", "o-eco", now=now)
    channels["mp"].crash_after_send = True
    try:
        await run_pass(services, now)
        raise AssertionError("the simulated crash did not happen")
    except SimulatedCrash:
        pass
    async with db.session() as s:
        message = await s.scalar(select(ReminderMessage))
        assert message is not None
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == message.key))
        assert row is not None and row.status == "sending"  # the digest's outbox row, claimed
    # Another pass while the claim is still held sends nothing; once it lapses the same key is resent.
    await run_pass(services, at(2025, 12, 30, 10, 2))
    assert len(channels["mp"].sent) == 1
    await run_pass(services, at(2025, 12, 30, 10, 6))
    first, second = channels["mp"].sent
    assert first.client_msg_id == second.client_msg_id == message.key
    assert first.data == second.data
    async with db.session() as s:
        settled = await s.get(ReminderMessage, message.id)
        assert settled is not None and settled.status == "sent"
        assert (await s.get(OutboxMessage, row.id)).attempts == 2


async def test_busy_error_is_retried_with_backoff_and_delivered_once(
    services: Services, channels: Channels, db: Database
) -> None:
    now = at(2025, 12, 30, 10)
    await load_tasks(db, task_toml("T1"), now)
    await add_contact(db, "市生态环境局", "o-eco", now=now)
    channels["mp"].failures = [ChannelError("system busy", errcode=-1), ChannelError("system busy", errcode=-1)]
    first = await run_pass(services, now)
    assert first.send.retried == 1 and channels["mp"].sent == []
    assert (await run_pass(services, at(2025, 12, 30, 10, 0))).send.sent == 0  # not before the backoff
    await run_pass(services, at(2025, 12, 30, 10, 1))
    assert channels["mp"].sent == []  # second failure; next try after 2 minutes
    await run_pass(services, at(2025, 12, 30, 10, 3))
    assert len(channels["mp"].sent) == 1
    await run_pass(services, at(2025, 12, 30, 11))
    assert len(channels["mp"].sent) == 1 and channels["mp"].calls == 3


async def test_not_following_marks_the_contact_and_tells_the_coordinator(
    services: Services, channels: Channels, db: Database
) -> None:
    now = at(2025, 12, 30, 10)
    await load_tasks(db, task_toml("T1", lead="市卫健委", co=("市生态环境局",)), now)
    gone = await add_contact(db, "市卫健委", "o-gone", name="钱", now=now)
    await add_contact(db, "市生态环境局", "o-coordinator", now=now)
    channels["mp"].failures = [ChannelError("require subscribe", errcode=43004)]
    report = await run_pass(services, now)
    assert report.send.dead == 1 and report.send.unreachable == [gone]
    async with db.session() as s:
        contact = await s.get(Contact, gone)
        assert contact is not None and contact.status == "unreachable" and "43004" in contact.status_reason
        notices = (await s.scalars(select(OutboxMessage).where(OutboxMessage.purpose != DIGEST_PURPOSE))).all()
    assert [(n.recipient, n.kind) for n in notices] == [("o-coordinator", "notice")]
    kind, sent = as_sent(services.config, notices[0])
    assert kind == "template" and "钱" in sent["data"]["thing1"]
    calls = channels["mp"].calls
    for day in (30, 31):
        await run_pass(services, at(2025, 12, day, 15))
    await run_pass(services, at(2026, 1, 5, 10))
    assert all(m.recipient != "o-gone" for m in channels["mp"].sent)
    assert channels["mp"].calls - calls == len(channels["mp"].sent) - 1  # nobody retried the dead contact


async def test_downtime_is_caught_up_with_one_digest(services: Services, channels: Channels, db: Database) -> None:
    due = "2025-12-31"
    before = at(2025, 12, 1, 10)
    await load_tasks(db, task_toml("T1", deadline=due) + task_toml("T2", deadline="2025-12-19"), before)
    await add_contact(db, "市生态环境局", "o-eco", now=before)
    await run_pass(services, before)  # the planner has now run up to 2025-12-01
    sent_before = len(channels["mp"].sent)
    # Down until 2026-01-08: before-7 and before-1 and due of T1, and most of T2's ladder, were missed.
    back = at(2026, 1, 8, 10)
    report = await run_pass(services, back)
    assert report.plan.catch_up == 1 and report.plan.missed_days
    new = channels["mp"].sent[sent_before:]
    assert len(new) == 1, "one digest, not a replay of every missed reminder"
    assert new[0].data["thing3"] == "逾期任务汇总"
    async with db.session() as s:
        detail = (await s.scalar(select(ReminderMessage.payload).order_by(ReminderMessage.id.desc())))["detail"]
    assert "T1" in detail and "T2" in detail and "未能按时发出" in detail
    assert (await run_pass(services, at(2026, 1, 8, 15))).send.sent == 0


async def test_escalation_goes_to_the_lead_unit(services: Services, channels: Channels, db: Database) -> None:
    due = "2025-12-31"
    third = workdays.add_working_days(workdays.year_end_deadline(2025), 3)
    now = at(third.year, third.month, third.day, 10)
    await load_tasks(db, task_toml("T1", deadline=due, co=("市卫健委",), local='["盐湖区"]'), now)
    await add_contact(db, "市生态环境局", "o-lead", now=now)
    await add_contact(db, "盐湖区政府", "o-county", now=now)
    async with db.session() as s:
        await mark_done(s, "T1", "市卫健委", actor="test", now=now)
        await s.commit()
    await run_pass(services, now)
    sent = {m.recipient: m for m in channels["mp"].sent}
    assert sent["o-county"].data["thing3"] == "已逾期3个工作日"
    assert sent["o-lead"].data["thing1"] == "2项任务提醒"  # its own overdue reminder and the escalation
    async with db.session() as s:
        kinds = set((await s.scalars(select(ReminderDelivery.kind).where(ReminderDelivery.contact_id == 1))).all())
        payload = await s.scalar(select(ReminderMessage.payload).where(ReminderMessage.recipient == "o-lead"))
        detail = payload["detail"]
    assert kinds == {"overdue", "escalate"}
    assert "盐湖区政府" in detail and "市卫健委" not in detail.split("仍未完成的单位：")[1]


async def test_yearly_duties_recur_and_are_done_per_year(services: Services, channels: Channels, db: Database) -> None:
    now = at(2025, 12, 30, 10)
    await load_tasks(db, task_toml("T9", due="12-31"), now)
    await add_contact(db, "市生态环境局", "o-eco", now=now)
    async with db.session() as s:
        done = await mark_done(s, "T9", "市生态环境局", actor="t", now=at(2025, 1, 10), period="2024")
        await s.commit()
    assert done.period == "2024" and done.due_date.isoformat() == "2024-12-31"
    await run_pass(services, now)
    [message] = channels["mp"].sent
    assert message.data["thing3"] == "还剩1个工作日"
    async with db.session() as s:
        periods = set((await s.scalars(select(ReminderDelivery.period))).all())
    assert periods == {"2025"}


async def test_wecom_contacts_get_a_textcard(services: Services, channels: Channels, db: Database) -> None:
    now = at(2025, 12, 30, 10)
    await load_tasks(db, task_toml("T1"), now)
    await add_contact(db, "市生态环境局", "", userid="zhao.liu", now=now)
    await run_pass(services, now)
    [card] = channels["wecom"].sent
    assert card.recipient == "zhao.liu" and card.client_msg_id
    assert card.data["title"] == "新污染物治理任务提醒" and "T1" in card.data["description"]
    assert len(card.data["description"].encode()) <= 512


async def test_escalation_reaches_the_coordinator_when_the_lead_has_no_contact(
    services: Services, channels: Channels, db: Database
) -> None:
    third = workdays.add_working_days(workdays.year_end_deadline(2025), 3)
    now = at(third.year, third.month, third.day, 10)
    await load_tasks(db, task_toml("T1", lead="市商务局", local='["夏县"]'), now)
    await add_contact(db, "市生态环境局", "o-coordinator", now=now)
    await add_contact(db, "夏县政府", "o-county", now=now)
    await run_pass(services, now)
    sent = {m.recipient: m for m in channels["mp"].sent}
    assert sent["o-coordinator"].data["thing3"] == "督办：2个单位逾期"  # 市商务局 and 夏县政府 are both late
    assert sent["o-county"].data["thing3"] == "已逾期3个工作日"
