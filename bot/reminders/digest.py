"""Batching: inside the sending window, fold each contact's due deliveries into one digest message, queued in
the outbox under the digest's key (``bot.reminders.sending`` is what the outbox worker does with it)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.reminders import case_items, is_case_delivery
from bot.config import Config
from bot.outbound.notify import route_for
from bot.reminders.ladder import Ladder
from bot.reminders.planner import CATCHUP, DELIVERY_COLUMNS, INSERT_CHUNK
from bot.reminders.render import Item, render
from bot.tasks.status import list_tasks
from storage.db import Database
from storage.models import Department
from storage.models.reminders import (
    DIGEST_PURPOSE,
    Contact,
    ReminderDelivery,
    ReminderMessage,
    Task,
    TaskDepartment,
    TaskStatus,
)
from storage.outbox import enqueue

BATCH_CONTACTS = 200


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
        notice, detail = render(config, unit=unit, name=contact.name, items=items, url=url)
        key = f"rm{contact.id}-{live[0].on_date:%Y%m%d}-{live[0].id}"
        message = ReminderMessage(
            key=key,
            view_token=token,
            contact_id=contact.id,
            channel=channel,
            recipient=recipient,
            payload={"detail": detail, **notice.as_payload()},  # the page shows the detail
            status="pending",
            created_at=now,
        )
        session.add(message)
        await session.flush()
        await enqueue(
            session,
            channel=channel,
            kind="notice",
            recipient=recipient,
            payload=notice.as_payload(),
            now=now,
            dedup_key=key,
            purpose=DIGEST_PURPOSE,
        )
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
    if is_case_delivery(row.task_id):
        return await case_items(session, config, row, now)
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
