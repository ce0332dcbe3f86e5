"""Planning and dispatching reminders: every step reads and writes our tables, so passes are idempotent
and two processes (or a restart) never send a reminder twice.

A pass (``run_pass``) does three things, all computed from the ``now`` it is given:

1. ``plan``: write one ``ReminderDelivery`` per (task, period, contact, kind, day) the ladder asks for
   today (insert-or-ignore on that unique key). Days the service missed are not replayed: reminders
   more than ``catch_up_grace_days`` old are marked skipped and each affected contact gets ONE
   ``catchup`` delivery (an overdue digest) instead.
2. ``batch``: inside the sending window, fold each contact's due deliveries into one ``ReminderMessage``
   (the digest), dropping those whose department has finished meanwhile. Contacts are locked with
   FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite transactions are serialized (BEGIN IMMEDIATE).
3. ``send``: claim due messages (SKIP LOCKED / compare-and-set on a claim token), send them with the
   message key as ``client_msg_id``, record the outcome. A claim that was never settled (the process
   died mid-send) is taken over after ``claim_seconds`` and resent with the same key. Busy errors retry
   with backoff; permanent ones (43004 not following, invalid user) mark the message dead, flag the
   contact unreachable and notify the coordinating department.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import ChannelError
from bot.config import Config
from bot.notifications import notify_department, route_for
from bot.services import Services
from bot.wechat.typed_values import Value
from handlers import texts
from scheduler import calendar as workdays
from scheduler.ladder import Ladder
from scheduler.reminder_render import Item, render
from scheduler.runner import ServiceScheduler
from storage.contacts import mark_unreachable
from storage.db import Database
from storage.models import Department
from storage.models.reminders import (
    Contact,
    ReminderDelivery,
    ReminderMessage,
    ReminderPlannerState,
    Task,
    TaskDepartment,
    TaskStatus,
)
from storage.tasks import ensure_seed_tasks, list_tasks, occurrences

log = logging.getLogger(__name__)

PLANNER = "planner"
CATCHUP = "catchup"
MAX_CATCHUP_SPAN_DAYS = 366
INSERT_CHUNK = 1000
BATCH_CONTACTS = 200
MAX_BACKOFF = timedelta(hours=1)
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
    from pathlib import Path

    from bot.config import PROJECT_ROOT

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


async def batch(database: Database, config: Config, now: datetime) -> int:
    """Fold each contact's due deliveries into one message; returns how many messages were created."""
    ladder = Ladder.from_config(config.reminders)
    if not ladder.may_send(now):
        return 0
    oldest_fresh = ladder.today(now) - timedelta(days=ladder.grace_days)
    due = and_(
        ReminderDelivery.status == "planned",
        ReminderDelivery.send_after <= now,
        or_(ReminderDelivery.on_date >= oldest_fresh, ReminderDelivery.kind == CATCHUP),
    )
    created = 0
    while True:
        async with database.session() as session:
            contact_ids = list(
                (
                    await session.scalars(
                        select(ReminderDelivery.contact_id).where(due).distinct().limit(BATCH_CONTACTS)
                    )
                ).all()
            )
            if not contact_ids:
                return created
            query = select(Contact).where(Contact.id.in_(contact_ids)).order_by(Contact.id)
            if not database.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            contacts = list((await session.scalars(query)).all())
            if not contacts:
                return created  # another dispatcher holds them all
            rows = list(
                (
                    await session.execute(
                        select(*DELIVERY_COLUMNS)
                        .where(due, ReminderDelivery.contact_id.in_([c.id for c in contacts]))
                        .order_by(ReminderDelivery.id)
                    )
                ).all()
            )
            created += await _batch_contacts(session, config, contacts, rows, now)
            await session.commit()


async def _batch_contacts(
    session: AsyncSession, config: Config, contacts: list[Contact], rows: list[Any], now: datetime
) -> int:
    by_contact: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_contact[row.contact_id].append(row)
    task_ids = {r.task_id for r in rows if r.task_id}
    tasks = {t.id: t for t in (await session.scalars(select(Task).where(Task.id.in_(task_ids)))).all()}
    assigned: dict[str, list[int]] = defaultdict(list)
    for task_id, dept_id in (
        await session.execute(
            select(TaskDepartment.task_id, TaskDepartment.department_id).where(TaskDepartment.task_id.in_(task_ids))
        )
    ).all():
        assigned[task_id].append(dept_id)
    done = {
        (t, d, p)
        for t, d, p in (
            await session.execute(
                select(TaskStatus.task_id, TaskStatus.department_id, TaskStatus.period).where(
                    TaskStatus.task_id.in_(task_ids), TaskStatus.status == "done"
                )
            )
        ).all()
    }
    dept_names = dict((await session.execute(select(Department.id, Department.name))).all())
    created = 0
    cancelled: list[int] = []
    for contact in contacts:
        mine = by_contact.get(contact.id, [])
        route = route_for(config, contact)
        if contact.status != "active" or route is None:
            cancelled += [row.id for row in mine]
            continue
        items: list[Item] = []
        live: list[Any] = []
        for row in mine:
            item = await _item_for(session, config, row, tasks, assigned, done, dept_names, now)
            if item is None:
                cancelled.append(row.id)
                continue
            items.extend(item)
            live.append(row)
        if not live or not items:
            cancelled += [row.id for row in live]
            continue
        channel, recipient = route
        token = secrets.token_urlsafe(16)[:22]
        url = f"{config.server.public_base_url.rstrip('/')}/reminders/m/{token}"
        unit = dept_names.get(contact.department_id, "")
        payload = render(config, channel, unit=unit, name=contact.name, items=items, url=url)
        key = f"rm{contact.id}-{live[0].on_date:%Y%m%d}-{live[0].id}"
        message = ReminderMessage(
            key=key,
            view_token=token,
            contact_id=contact.id,
            channel=channel,
            recipient=recipient,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(message)
        await session.flush()
        await _set_rows(session, [row.id for row in live], status="batched", message_id=message.id)
        created += 1
    await _set_rows(session, cancelled, status="cancelled")
    return created


async def _set_rows(session: AsyncSession, ids: list[int], **values: Any) -> None:
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start : start + INSERT_CHUNK]
        await session.execute(update(ReminderDelivery).where(ReminderDelivery.id.in_(chunk)).values(**values))


async def _item_for(
    session: AsyncSession,
    config: Config,
    row: Any,
    tasks: dict[str, Task],
    assigned: dict[str, list[int]],
    done: set[tuple[str, int, str]],
    dept_names: dict[int, str],
    now: datetime,
) -> list[Item] | None:
    """The digest lines for one delivery, or None when it no longer applies (done, task retired)."""
    if row.kind == CATCHUP:
        views = await list_tasks(
            session,
            department=dept_names.get(row.department_id, ""),
            now=now,
            timezone=config.reminders.timezone,
            open_only=True,
        )
        overdue = [v for v in views if v.status == "overdue"] or [v for v in views if v.working_days_left <= 1]
        lines = [
            Item(
                kind="overdue" if v.status == "overdue" else "due",
                task_id=v.id,
                citation=v.citation,
                title=v.title,
                due=v.due_date,
                n=v.overdue_working_days,
            )
            for v in overdue
        ]
        return [Item(kind=CATCHUP), *lines]
    task = tasks.get(row.task_id)
    if task is None or not task.active:
        return None
    n = int((row.detail or {}).get("n", 0))
    base = {"task_id": task.id, "citation": task.citation, "title": task.title, "due": row.due_date, "n": n}
    if row.kind == "escalate":
        open_units = [dept_names.get(d, "") for d in assigned.get(task.id, []) if (task.id, d, row.period) not in done]
        return [Item(kind="escalate", open_units=open_units, **base)] if open_units else None
    if (task.id, row.department_id, row.period) in done or row.department_id not in assigned.get(task.id, []):
        return None
    return [Item(kind=row.kind, **base)]


# ---- sending ------------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    unreachable: list[int] = field(default_factory=list)


def _due_messages(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(ReminderMessage.status == "pending", ReminderMessage.next_attempt_at <= now),
        and_(ReminderMessage.status == "sending", ReminderMessage.claimed_until < now),
    )


@dataclass
class Claim:
    token: str
    messages: list[ReminderMessage]
    contact_status: dict[int, str]


async def claim(database: Database, config: Config, now: datetime, limit: int) -> Claim:
    """Take up to ``limit`` due messages for this dispatcher, with their contacts' current status."""
    token = secrets.token_hex(8)
    lease = now + timedelta(seconds=config.reminders.claim_seconds)
    async with database.session() as session:
        query = select(ReminderMessage.id).where(_due_messages(now)).order_by(ReminderMessage.id).limit(limit)
        if not database.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list((await session.scalars(query)).all())
        if not ids:
            return Claim(token, [], {})
        await session.execute(
            update(ReminderMessage)
            .where(ReminderMessage.id.in_(ids), _due_messages(now))
            .values(
                status="sending",
                claimed_until=lease,
                claim_token=token,
                attempts=ReminderMessage.attempts + 1,
            )
        )
        await session.commit()
        claimed = list(
            (
                await session.scalars(
                    select(ReminderMessage).where(ReminderMessage.claim_token == token).order_by(ReminderMessage.id)
                )
            ).all()
        )
        statuses = dict(
            (
                await session.execute(
                    select(Contact.id, Contact.status).where(Contact.id.in_({m.contact_id for m in claimed}))
                )
            ).all()
        )
        return Claim(token, claimed, statuses)


async def send_due(services: Services, now: datetime) -> SendReport:
    """Send every due message (inside the sending window); returns what happened."""
    config = services.config
    ladder = Ladder.from_config(config.reminders)
    report = SendReport()
    if not ladder.may_send(now):
        return report
    while True:
        claimed = await claim(services.database, config, now, config.reminders.batch_size)
        for message in claimed.messages:
            status = claimed.contact_status.get(message.contact_id, "removed")
            await _send_one(services, message, status, claimed.token, now, report)
        if len(claimed.messages) < config.reminders.batch_size:
            return report


async def _send_one(
    services: Services, message: ReminderMessage, contact_status: str, token: str, now: datetime, report: SendReport
) -> None:
    database = services.database
    if contact_status != "active":
        async with database.session() as session:
            await _settle(session, message, token, "dead", now, error="contact is not active")
            await session.commit()
        report.dead += 1
        return
    try:
        await _deliver(services, message)
    except ChannelError as exc:
        await _failed(services, message, token, exc, now, report)
        return
    except LookupError as exc:  # the channel is not configured (e.g. WeCom without credentials)
        await _failed(services, message, token, ChannelError(str(exc)), now, report)
        return
    async with database.session() as session:
        if await _settle(session, message, token, "sent", now):
            report.sent += 1
        await session.commit()


async def _deliver(services: Services, message: ReminderMessage) -> None:
    payload = message.payload
    channel = services.channel(message.channel)
    if message.channel == "wecom":
        data = {"title": payload["title"], "description": payload["description"]}
        await channel.send_template(message.recipient, "", data, url=payload.get("url"), client_msg_id=message.key)
        return
    if not payload.get("template_id"):
        raise ChannelError("[reminders] template_id is not configured", errcode=None, permanent=False)
    await channel.send_template(
        message.recipient, payload["template_id"], payload["data"], url=payload.get("url"), client_msg_id=message.key
    )


async def _settle(
    session: AsyncSession,
    message: ReminderMessage,
    token: str,
    status: str,
    now: datetime,
    *,
    error: str = "",
    next_attempt_at: datetime | None = None,
) -> bool:
    """Record the outcome of our claim; False when the claim was lost (another dispatcher took over)."""
    values: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error[:1000]}
    if status == "sent":
        values["sent_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = await session.execute(
        update(ReminderMessage)
        .where(
            ReminderMessage.id == message.id, ReminderMessage.claim_token == token, ReminderMessage.status == "sending"
        )
        .values(**values)
    )
    if not result.rowcount:
        return False
    if status in ("sent", "dead"):
        delivery_values: dict[str, Any] = {"status": status}
        if status == "sent":
            delivery_values["sent_at"] = now
        await session.execute(
            update(ReminderDelivery).where(ReminderDelivery.message_id == message.id).values(**delivery_values)
        )
    return True


def backoff(config: Config, attempts: int) -> timedelta:
    delay = timedelta(seconds=config.reminders.retry_base_seconds * 2 ** max(0, attempts - 1))
    return min(delay, MAX_BACKOFF)


async def _failed(
    services: Services,
    message: ReminderMessage,
    token: str,
    exc: ChannelError,
    now: datetime,
    report: SendReport,
) -> None:
    config = services.config
    error = f"{exc.errcode if exc.errcode is not None else ''} {exc}".strip()
    async with services.database.session() as session:
        if exc.permanent:
            if await _settle(session, message, token, "dead", now, error=error):
                report.dead += 1
                if await mark_unreachable(session, message.contact_id, error, now=now):
                    report.unreachable.append(message.contact_id)
                    contact = await session.get(Contact, message.contact_id)
                    if contact is not None:
                        await _tell_coordinator(session, services, contact, exc, now)
        elif message.attempts >= config.reminders.max_attempts:
            if await _settle(session, message, token, "dead", now, error=f"gave up after {message.attempts}: {error}"):
                report.dead += 1
        elif await _settle(
            session,
            message,
            token,
            "pending",
            now,
            error=error,
            next_attempt_at=now + backoff(config, message.attempts),
        ):
            report.retried += 1
        await session.commit()
    log.warning("reminder %s to contact %s failed: %s", message.key, message.contact_id, error)


async def _tell_coordinator(
    session: AsyncSession, services: Services, contact: Contact, exc: ChannelError, now: datetime
) -> None:
    config = services.config
    dept = await session.get(Department, contact.department_id)
    reason = texts.UNREACHABLE_REASON_UNFOLLOWED if exc.errcode == 43004 else texts.UNREACHABLE_REASON_INVALID
    values = {
        "department": dept.name if dept else "",
        "name": contact.name or f"#{contact.id}",
        "reason": reason,
        "date": Ladder.from_config(config.reminders).local(now).strftime("%Y年%m月%d日"),
    }
    # The moment goes in as a datetime so that a time- or date-typed key gets the form WeChat requires.
    moment = Ladder.from_config(config.reminders).local(now).replace(second=0, microsecond=0)
    fields: dict[str, Value] = {
        label: moment if template == "{date}" else template.format(**values)
        for label, template in texts.UNREACHABLE_FIELDS.items()
    }
    await notify_department(
        session,
        services,
        department=config.reminders.coordinator_department,
        title=texts.UNREACHABLE_TITLE,
        fields=fields,
        detail=texts.UNREACHABLE_DETAIL.format(**values),
        url=config.server.public_base_url,
        dedup_key=f"reminders:unreachable:{contact.id}:{now:%Y%m%d}",
        now=now,
        purpose="reminders",
    )


# ---- one pass ----------------------------------------------------------------------------------


@dataclass
class PassReport:
    plan: PlanReport
    messages: int
    send: SendReport
    window_open: bool


async def run_pass(services: Services, now: datetime | None = None) -> PassReport:
    """Plan, batch and send as of ``now`` (default: the services' clock)."""
    now = now or services.now()
    planned = await plan(services.database, services.config, now)
    messages = await batch(services.database, services.config, now)
    sent = await send_due(services, now)
    window = Ladder.from_config(services.config.reminders).may_send(now)
    return PassReport(planned, messages, sent, window)


def register(scheduler: ServiceScheduler, services: Services) -> None:
    """The reminder jobs: a pass every ``dispatch_interval_seconds`` and one at ``send_hour`` (the daily
    digest goes out on time). APScheduler is only the clock; a pass reads and claims rows in the database."""
    cfg = services.config.reminders

    async def tick() -> None:
        await run_pass(services)

    scheduler.every("reminders", cfg.dispatch_interval_seconds, tick)
    hour, minute = (int(part) for part in cfg.send_hour.split(":"))
    scheduler.daily("reminders-daily-digest", hour, minute, tick)


# ---- acknowledgements -------------------------------------------------------------------------


async def acknowledge_last(session: AsyncSession, contact: Contact, now: datetime) -> tuple[str, int]:
    """收到: mark the contact's most recent sent message (and its deliveries) acknowledged.

    Returns (outcome, deliveries): outcome is ``ok``, ``already`` or ``none``.
    """
    message = await session.scalar(
        select(ReminderMessage)
        .where(ReminderMessage.contact_id == contact.id, ReminderMessage.status == "sent")
        .order_by(ReminderMessage.sent_at.desc(), ReminderMessage.id.desc())
        .limit(1)
    )
    if message is None:
        return "none", 0
    if message.acknowledged_at is not None:
        return "already", 0
    message.acknowledged_at = now
    result = await session.execute(
        update(ReminderDelivery)
        .where(ReminderDelivery.message_id == message.id, ReminderDelivery.acknowledged_at.is_(None))
        .values(acknowledged_at=now)
    )
    return "ok", int(result.rowcount or 0)


# ---- what an operator sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewLine:
    day: date
    department: str
    contact_id: int
    contact_name: str
    task_id: str
    kind: str
    due_date: date | None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


async def preview(database: Database, config: Config, now: datetime, days: int) -> list[PreviewLine]:
    """The reminders the ladder would plan on the next ``days`` calendar days (today included), as things
    stand now; nothing is written."""
    ladder = Ladder.from_config(config.reminders)
    today = ladder.today(now)
    async with database.session() as session:
        snap = await load_snapshot(session, config)
        names = dict((await session.execute(select(Contact.id, Contact.name))).all())
    lines: list[PreviewLine] = []
    for i in range(days):
        day = today + timedelta(days=i)
        if not workdays.is_working_day(day):
            continue
        for row in rungs_for_day(snap, ladder, day, now):
            lines.append(
                PreviewLine(
                    day=day,
                    department=snap.dept_names.get(row["department_id"], ""),
                    contact_id=row["contact_id"],
                    contact_name=names.get(row["contact_id"], ""),
                    task_id=row["task_id"],
                    kind=row["kind"],
                    due_date=row["due_date"],
                )
            )
    return lines


@dataclass(frozen=True)
class MessageView:
    id: int
    key: str
    contact_id: int
    department: str
    contact_name: str
    channel: str
    status: str
    attempts: int
    deliveries: int
    created_at: datetime
    sent_at: datetime | None
    acknowledged_at: datetime | None
    last_error: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


async def list_messages(session: AsyncSession, *, status: str | None = None, limit: int = 100) -> list[MessageView]:
    counts = (
        select(ReminderDelivery.message_id, func.count().label("n"))
        .where(ReminderDelivery.message_id.is_not(None))
        .group_by(ReminderDelivery.message_id)
        .subquery()
    )
    query = (
        select(ReminderMessage, Contact.name, Department.name, counts.c.n)
        .join(Contact, Contact.id == ReminderMessage.contact_id)
        .join(Department, Department.id == Contact.department_id)
        .outerjoin(counts, counts.c.message_id == ReminderMessage.id)
        .order_by(ReminderMessage.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(ReminderMessage.status == status)
    return [
        MessageView(
            id=m.id,
            key=m.key,
            contact_id=m.contact_id,
            department=dept,
            contact_name=name,
            channel=m.channel,
            status=m.status,
            attempts=m.attempts,
            deliveries=int(n or 0),
            created_at=m.created_at,
            sent_at=m.sent_at,
            acknowledged_at=m.acknowledged_at,
            last_error=m.last_error,
        )
        for m, name, dept, n in (await session.execute(query)).all()
    ]


def summarize(items: Iterable[PreviewLine]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for item in items:
        out[item.kind.split("-")[0]] += 1
    return dict(out)
