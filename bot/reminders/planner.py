"""Planning reminders. Every step of a reminder pass reads and writes our tables, so passes are idempotent
and two processes (or a restart) never send a reminder twice.

A pass (``bot.reminders.dispatch.run_pass``) does three things, all computed from the ``now`` it is given
(step 1 is this module, step 2 ``bot.reminders.digest``, step 3 ``bot.reminders.sending``):

1. ``plan``: write one ``ReminderDelivery`` per (task, period, contact, kind, day) the ladder asks for
   today (insert-or-ignore on that unique key). Days the service missed are not replayed: reminders
   more than ``catch_up_grace_days`` old are marked skipped and each affected contact gets ONE
   ``catchup`` delivery (an overdue digest) instead.
2. ``batch``: inside the sending window, fold each contact's due deliveries into one ``ReminderMessage``
   (the digest), dropping those whose department has finished meanwhile, and queue it in the outbox
   under its key. Contacts are locked with FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite transactions are
   serialized (BEGIN IMMEDIATE).
3. ``send``: the one outbox worker sends the digest with its key as ``client_msg_id`` (its claims, lease
   and backoff: ``bot.outbound.worker``); a claim never settled (the process died mid-send) is taken over
   after ``[outbox] lease_seconds`` and resent with the same key. Permanent errors (43004 not following,
   invalid user) mark the digest dead, flag the contact unreachable and notify the coordinating department.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.reminders import case_rows
from bot.config import PROJECT_ROOT, Config
from bot.reminders.ladder import Ladder
from bot.tasks import workdays
from bot.tasks.planfile import ensure_seed_tasks
from bot.tasks.schedule import occurrences
from storage.db import Database
from storage.models import Department, OutboxMessage
from storage.models.reminders import (
    Contact,
    ReminderDelivery,
    ReminderMessage,
    ReminderPlannerState,
    Task,
    TaskDepartment,
    TaskStatus,
)

log = logging.getLogger(__name__)

PLANNER = "planner"
CATCHUP = "catchup"
MAX_CATCHUP_SPAN_DAYS = 366
INSERT_CHUNK = 1000
DELIVERY_COLUMNS = (
    ReminderDelivery.id,
    ReminderDelivery.task_id,
    ReminderDelivery.period,
    ReminderDelivery.contact_id,
    ReminderDelivery.department_id,
    ReminderDelivery.kind,
    ReminderDelivery.on_date,
    ReminderDelivery.due_date,
    ReminderDelivery.detail,
)


# ---- what the database says right now ---------------------------------------------------------


@dataclass
class Snapshot:
    tasks: list[Task]
    assign: dict[str, list[tuple[int, str]]]
    done: dict[tuple[str, int], set[str]]
    contacts: dict[int, list[int]]  # department id → active contact ids
    dept_names: dict[int, str]
    coordinator_id: int | None

    def open_departments(self, task: Task, period: str) -> list[int]:
        return [d for d, _ in self.assign.get(task.id, ()) if period not in self.done.get((task.id, d), ())]

    def escalation_targets(self, task: Task, open_depts: list[int]) -> list[int]:
        """The lead unit; the coordinator too when the lead is itself late or has no contact to tell."""
        lead, coordinator = task.lead_department_id, self.coordinator_id
        targets = [lead]
        if coordinator is not None and coordinator != lead and (lead in open_depts or not self.contacts.get(lead)):
            targets.append(coordinator)
        return targets


async def load_snapshot(session: AsyncSession, config: Config) -> Snapshot:
    tasks = list((await session.scalars(select(Task).where(Task.active.is_(True)).order_by(Task.id))).all())
    assign: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for task_id, dept_id, role in (
        await session.execute(select(TaskDepartment.task_id, TaskDepartment.department_id, TaskDepartment.role))
    ).all():
        assign[task_id].append((dept_id, role))
    done: dict[tuple[str, int], set[str]] = defaultdict(set)
    for task_id, dept_id, period in (
        await session.execute(
            select(TaskStatus.task_id, TaskStatus.department_id, TaskStatus.period).where(TaskStatus.status == "done")
        )
    ).all():
        done[(task_id, dept_id)].add(period)
    contacts: dict[int, list[int]] = defaultdict(list)
    for contact_id, dept_id in (
        await session.execute(
            select(Contact.id, Contact.department_id).where(Contact.status == "active").order_by(Contact.id)
        )
    ).all():
        contacts[dept_id].append(contact_id)
    dept_names = dict((await session.execute(select(Department.id, Department.name))).all())
    coordinator = next((i for i, n in dept_names.items() if n == config.reminders.coordinator_department), None)
    return Snapshot(tasks, dict(assign), dict(done), dict(contacts), dept_names, coordinator)


# ---- planning ----------------------------------------------------------------------------------


def _row(
    task_id: str,
    period: str,
    contact_id: int,
    dept_id: int,
    kind: str,
    day: date,
    due: date | None,
    send_after: datetime,
    now: datetime,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "period": period,
        "contact_id": contact_id,
        "department_id": dept_id,
        "kind": kind,
        "on_date": day,
        "due_date": due,
        "send_after": send_after,
        "status": "planned",
        "detail": detail,
        "created_at": now,
    }


def rungs_for_day(snap: Snapshot, ladder: Ladder, day: date, now: datetime) -> list[dict[str, Any]]:
    """The deliveries the ladder asks for on working day ``day``."""
    send_after = ladder.send_at(day)
    rows: list[dict[str, Any]] = []
    for task in snap.tasks:
        for occ in occurrences(task, day):
            offset = workdays.working_days_between(occ.due, day)
            if offset < -ladder.horizon:
                continue
            kind = ladder.kind_at(offset)
            escalate = offset > 0 and ladder.escalates(offset)
            if kind is None and not escalate:
                continue
            open_depts = snap.open_departments(task, occ.period)
            if not open_depts:
                continue
            if kind is not None:
                for dept in open_depts:
                    for contact in snap.contacts.get(dept, ()):
                        detail = {"n": abs(offset)}
                        rows.append(
                            _row(task.id, occ.period, contact, dept, kind, day, occ.due, send_after, now, detail)
                        )
            if escalate:
                targets = snap.escalation_targets(task, open_depts)
                for dept in targets:
                    for contact in snap.contacts.get(dept, ()):
                        rows.append(
                            _row(
                                task.id,
                                occ.period,
                                contact,
                                dept,
                                "escalate",
                                day,
                                occ.due,
                                send_after,
                                now,
                                {"n": offset},
                            )
                        )
    return rows


def missed_contacts(snap: Snapshot, ladder: Ladder, first: date, last: date) -> set[int]:
    """Contacts who would have had a reminder on a working day in [first, last] (the service was down)."""
    first = max(first, last - timedelta(days=MAX_CATCHUP_SPAN_DAYS))
    missed: set[int] = set()
    for task in snap.tasks:
        occs = {o.period: o for o in [*occurrences(task, first), *occurrences(task, last)]}
        for occ in occs.values():
            open_depts = snap.open_departments(task, occ.period)
            if not open_depts:
                continue
            if ladder.has_rung_between(occ.due, first, last):
                for dept in open_depts:
                    missed.update(snap.contacts.get(dept, ()))
            if ladder.has_rung_between(occ.due, first, last, escalation=True):
                for dept in snap.escalation_targets(task, open_depts):
                    missed.update(snap.contacts.get(dept, ()))
    return missed


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


@dataclass
class PlanReport:
    today: date
    planned: int = 0
    skipped: int = 0
    catch_up: int = 0
    missed_days: list[date] = field(default_factory=list)
    seeded: int = 0


async def seed_tasks(database: Database, config: Config, now: datetime) -> int:
    """Load ``[reminders] seed_file`` when there are no tasks at all (first start); returns how many were added."""
    if not config.reminders.seed_file:
        return 0
    async with database.session() as session:
        try:
            seeded = await ensure_seed_tasks(session, _seed_path(config), now=now)
            if seeded:
                await session.commit()
            return seeded
        except IntegrityError:  # another process seeded the empty table at the same moment
            await session.rollback()
            return 0


async def plan(database: Database, config: Config, now: datetime) -> PlanReport:
    """Write today's deliveries (and a catch-up digest for missed days); safe to run any number of times."""
    ladder = Ladder.from_config(config.reminders)
    today = ladder.today(now)
    report = PlanReport(today=today)
    report.seeded = await seed_tasks(database, config, now)
    oldest_fresh = today - timedelta(days=ladder.grace_days)
    async with database.session() as session:
        snap = await load_snapshot(session, config)
        state = await session.get(ReminderPlannerState, PLANNER)
        last = state.planned_through if state else None
        stale_rows = (
            await session.execute(
                select(ReminderDelivery.id, ReminderDelivery.contact_id).where(
                    ReminderDelivery.status == "planned",
                    ReminderDelivery.on_date < oldest_fresh,
                    ReminderDelivery.kind != CATCHUP,
                )
            )
        ).all()
        stale_messages = (
            await session.execute(
                select(ReminderMessage.id, ReminderMessage.contact_id).where(
                    ReminderMessage.status == "pending",
                    ReminderMessage.created_at < ladder.send_at(oldest_fresh),
                )
            )
        ).all()
    fresh_days = [today]
    if last is not None and last < today:
        span = [last + timedelta(days=i) for i in range(1, (today - last).days + 1)]
        fresh_days = [d for d in span if d >= oldest_fresh]
        report.missed_days = [d for d in span if d < oldest_fresh and workdays.is_working_day(d)]
    rows: list[dict[str, Any]] = []
    for day in fresh_days:
        if workdays.is_working_day(day):
            rows += rungs_for_day(snap, ladder, day, now)
    async with database.session() as session:
        rows += await case_rows(session, config, snap, ladder, fresh_days, now, make_row=_row)
    catch_up = {contact for _, contact in stale_rows} | {contact for _, contact in stale_messages}
    if report.missed_days:
        catch_up |= missed_contacts(snap, ladder, report.missed_days[0], report.missed_days[-1])
    contact_dept = {c: d for d, cs in snap.contacts.items() for c in cs}
    catch_up_at = ladder.send_at(today)
    for contact in sorted(catch_up):
        if contact in contact_dept:
            rows.append(_row("", "", contact, contact_dept[contact], CATCHUP, today, None, catch_up_at, now, {}))
    async with database.session() as session:
        if stale_rows:
            report.skipped += await _set_status(
                session, ReminderDelivery, [i for i, _ in stale_rows], "skipped", "planned"
            )
        if stale_messages:
            ids = [i for i, _ in stale_messages]
            report.skipped += await _set_status(session, ReminderMessage, ids, "skipped", "pending")
            await session.execute(
                update(ReminderDelivery).where(ReminderDelivery.message_id.in_(ids)).values(status="skipped")
            )
            keys = select(ReminderMessage.key).where(ReminderMessage.id.in_(ids))
            await session.execute(  # their outbox rows are not sent any more (a catch-up replaces them)
                update(OutboxMessage)
                .where(OutboxMessage.dedup_key.in_(keys), OutboxMessage.status == "pending")
                .values(status="skipped")
            )
        new_rows = await _without_existing(session, rows)
        insert = _insert(session)
        for start in range(0, len(new_rows), INSERT_CHUNK):
            stmt = insert(ReminderDelivery).on_conflict_do_nothing(
                index_elements=["task_id", "period", "contact_id", "kind", "on_date"]
            )
            await session.execute(stmt, new_rows[start : start + INSERT_CHUNK])
        report.planned = sum(1 for r in new_rows if r["kind"] != CATCHUP)
        report.catch_up = sum(1 for r in new_rows if r["kind"] == CATCHUP)
        await _advance_state(session, today, now)
        await session.commit()
    return report


def _seed_path(config: Config):  # type: ignore[no-untyped-def]

    path = Path(config.reminders.seed_file)
    return path if path.is_absolute() else PROJECT_ROOT / path


async def _set_status(session: AsyncSession, model: Any, ids: Sequence[int], status: str, only_from: str) -> int:
    total = 0
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = list(ids[start : start + INSERT_CHUNK])
        result = await session.execute(
            update(model).where(model.id.in_(chunk), model.status == only_from).values(status=status)
        )
        total += result.rowcount or 0
    return total


async def _without_existing(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop rows whose key is already stored (cheaper than thousands of conflicting inserts per pass)."""
    if not rows:
        return rows
    days = sorted({r["on_date"] for r in rows})
    existing = set(
        (
            await session.execute(
                select(
                    ReminderDelivery.task_id,
                    ReminderDelivery.period,
                    ReminderDelivery.contact_id,
                    ReminderDelivery.kind,
                    ReminderDelivery.on_date,
                ).where(ReminderDelivery.on_date.in_(days))
            )
        ).all()
    )
    return [r for r in rows if (r["task_id"], r["period"], r["contact_id"], r["kind"], r["on_date"]) not in existing]


async def _advance_state(session: AsyncSession, today: date, now: datetime) -> None:
    insert = _insert(session)
    await session.execute(
        insert(ReminderPlannerState)
        .values(name=PLANNER, planned_through=None, updated_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    await session.execute(
        update(ReminderPlannerState)
        .where(
            ReminderPlannerState.name == PLANNER,
            or_(ReminderPlannerState.planned_through.is_(None), ReminderPlannerState.planned_through < today),
        )
        .values(planned_through=today, updated_at=now)
    )


# ---- batching deliveries into digests -----------------------------------------------------------


# ---- sending ------------------------------------------------------------------------------------


# ---- one pass ----------------------------------------------------------------------------------


# ---- acknowledgements -------------------------------------------------------------------------


# ---- what an operator sees ---------------------------------------------------------------------










