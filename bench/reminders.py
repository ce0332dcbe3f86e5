"""Reminder planning and dispatch at scale: 10,000 tasks × 3 contacts, beside a baseline in the same run.

    .venv/bin/python bench/reminders.py [--tasks 10000] [--contacts 3] [--repeat 5] [--days 20] [--postgres]

Each task is assigned to one of the 27 departments the plan names; every department has ``--contacts``
officials, so each task reaches that many people. The channel is an in-process fake (no network), so
the figures are the service's own cost: the ladder, the database writes, the digests, the claims.

* peak: every task is due the same day, so one pass plans tasks × contacts deliveries and folds them into
  one digest per contact. Repeated ``--repeat`` times on emptied reminder tables.
* idle: the same pass again right after (nothing new to plan or send): the cost of running every few minutes.
* daily: deadlines spread over 60 working days; one pass per working day for ``--days`` days.
* baseline: a bare multi-row INSERT of the same number of delivery rows (the database's write floor),
  timed in the same process, so the ratio says what planning adds on top of writing the rows.

SQLite (a fresh file, the default deployment) always; ``--postgres`` also runs against a private
database created on the server in ``YCBOT_TEST_PG`` and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert, select  # noqa: E402

from bot.config import load_config  # noqa: E402
from bot.outbound.channels.base import SendResult  # noqa: E402
from bot.reminders.digest import batch  # noqa: E402
from bot.reminders.dispatch import run_pass, send_due  # noqa: E402
from bot.reminders.planner import plan  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.tasks import workdays  # noqa: E402
from knowledge.duties import duties  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.departments import seed_departments  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Department, OutboxMessage  # noqa: E402
from storage.models.reminders import (  # noqa: E402
    DIGEST_PURPOSE,
    Contact,
    ContactAddress,
    ReminderDelivery,
    ReminderMessage,
    ReminderPlannerState,
    Task,
    TaskDepartment,
)

SHANGHAI_OFFSET = timedelta(hours=8)
START = date(2025, 11, 3)  # a Monday


class NullChannel:
    """Accepts every message at once; counts them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent = 0

    async def send_text(self, recipient: str, content: str) -> SendResult:
        self.sent += 1
        return SendResult()

    async def send_template(
        self,
        recipient: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> SendResult:
        self.sent += 1
        return SendResult(msg_id=str(self.sent))


def at10(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC) - SHANGHAI_OFFSET


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def populate(db: Database, tasks: int, contacts: int, due_of) -> int:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    async with db.session() as session:
        depts = list((await session.scalars(select(Department.id).order_by(Department.id))).all())
        contact_rows = [
            {
                "department_id": d,
                "name": f"联络人{d}-{i}",
                "channel": "mp",
                "status": "active",
                "status_reason": "",
                "created_at": now,
                "bound_at": now,
                "updated_at": now,
            }
            for d in depts
            for i in range(contacts)
        ]
        await session.execute(insert(Contact), contact_rows)
        ids = (await session.scalars(select(Contact.id).order_by(Contact.id))).all()
        address_rows = [
            {"contact_id": cid, "channel": "mp", "address": f"o-bench-{cid}", "created_at": now} for cid in ids
        ]
        await session.execute(insert(ContactAddress), address_rows)
        task_rows, assign_rows = [], []
        for i in range(tasks):
            dept = depts[i % len(depts)]
            task_rows.append(
                {
                    "id": f"B{i:05d}",
                    "citation": "二（二）1",
                    "title": f"基准任务{i}",
                    "deliverable": "",
                    "lead_department_id": dept,
                    "recurrence": "once",
                    "deadline": due_of(i),
                    "deadline_rule": "last_working_day",
                    "deadline_text": "",
                    "deadline_basis": "",
                    "active": True,
                    "sort_order": i,
                    "source": "bench",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            assign_rows.append({"task_id": f"B{i:05d}", "department_id": dept, "role": "lead"})
        for start in range(0, tasks, 2000):
            await session.execute(insert(Task), task_rows[start : start + 2000])
            await session.execute(insert(TaskDepartment), assign_rows[start : start + 2000])
        await session.commit()
    return len(depts) * contacts


async def clear_reminders(db: Database) -> None:
    async with db.session() as session:
        await session.execute(delete(ReminderDelivery))
        await session.execute(delete(ReminderMessage))
        await session.execute(delete(OutboxMessage).where(OutboxMessage.purpose == DIGEST_PURPOSE))
        await session.execute(delete(ReminderPlannerState))
        await session.commit()


async def baseline_insert(db: Database, rows: int, contact_ids: list[int], dept_ids: list[int]) -> float:
    """A bare multi-row INSERT of ``rows`` delivery rows (then removed): the write floor."""
    now = datetime.now(UTC)
    far = date(2099, 1, 1)
    data = [
        {
            "task_id": f"X{i:06d}",
            "period": "once",
            "contact_id": contact_ids[i % len(contact_ids)],
            "department_id": dept_ids[i % len(dept_ids)],
            "kind": "before-1",
            "on_date": far,
            "due_date": far,
            "send_after": now,
            "status": "planned",
            "detail": {"n": 1},
            "created_at": now,
        }
        for i in range(rows)
    ]
    async with db.session() as session:
        t0 = time.perf_counter()
        for start in range(0, rows, 1000):
            await session.execute(insert(ReminderDelivery), data[start : start + 1000])
        await session.commit()
        elapsed = time.perf_counter() - t0
        await session.execute(delete(ReminderDelivery).where(ReminderDelivery.on_date == far))
        await session.commit()
    return elapsed


@dataclass
class PassTimes:
    plan: float
    batch: float
    send: float
    planned: int
    messages: int
    sent: int

    @property
    def total(self) -> float:
        return self.plan + self.batch + self.send


async def one_pass(services: Services, now: datetime) -> PassTimes:
    t0 = time.perf_counter()
    report = await plan(services.database, services.config, now)
    t1 = time.perf_counter()
    messages = await batch(services.database, services.config, now)
    t2 = time.perf_counter()
    sent = await send_due(services, now)
    t3 = time.perf_counter()
    return PassTimes(t1 - t0, t2 - t1, t3 - t2, report.planned, messages, sent.sent)


def line(label: str, values: list[float], unit_count: int | None = None, unit: str = "") -> str:
    med, p99 = statistics.median(values), pct(values, 0.99)
    rate = f"  {unit_count / med:,.0f} {unit}/s" if unit_count and med > 0 else ""
    return f"  {label:34} median {med * 1000:9.1f} ms   p99 {p99 * 1000:9.1f} ms{rate}"


async def run(url: str, label: str, args: argparse.Namespace, tmp: Path) -> None:
    config = load_config(
        ROOT / "config.example.toml",
        env={
            "YCBOT_STORAGE_URL": url,
            "YCBOT_STORAGE_MEDIA_DIR": str(tmp / "media"),
            "YCBOT_SCHEDULER_ENABLED": "false",
            "YCBOT_REMINDERS_SEED_FILE": "",
            "YCBOT_REMINDERS_BATCH_SIZE": "500",
        },
    )
    print(f"\n== {label}: {args.tasks:,} tasks × {args.contacts} contacts each ==")

    # ---- peak: every task due on the same day ------------------------------------------------
    due = workdays.add_working_days(START, 1)
    db = Database(url)
    await upgrade(db)
    await seed_departments(db, duties().units)
    contacts = await populate(db, args.tasks, args.contacts, lambda i: due)
    channel = NullChannel("mp")
    services = Services(config=config, database=db, channels={"mp": channel, "wecom": NullChannel("wecom")})
    async with db.session() as session:
        contact_ids = list((await session.scalars(select(Contact.id))).all())
        dept_ids = list((await session.scalars(select(Department.id))).all())
    peaks: list[PassTimes] = []
    idles: list[float] = []
    baselines: list[float] = []
    for _ in range(args.repeat):
        await clear_reminders(db)
        baselines.append(await baseline_insert(db, args.tasks * args.contacts, contact_ids, dept_ids))
        peaks.append(await one_pass(services, at10(START)))
        t0 = time.perf_counter()
        idle = await run_pass(services, at10(START))
        idles.append(time.perf_counter() - t0)
        assert idle.plan.planned == 0 and idle.send.sent == 0, "a second pass must not send again"
    last = peaks[-1]
    deliveries = args.tasks * args.contacts
    assert last.planned == deliveries and last.messages == contacts and last.sent == contacts, last
    print(f"peak pass (before-1 for every task): {last.planned:,} deliveries → {last.messages} digests, ×{args.repeat}")
    print(line("plan (ladder + insert)", [p.plan for p in peaks], deliveries, "deliveries"))
    print(line("batch (digests)", [p.batch for p in peaks], deliveries, "deliveries"))
    print(line("send (outbox worker: claim + send + settle)", [p.send for p in peaks], contacts, "messages"))
    print(line("whole pass", [p.total for p in peaks], deliveries, "deliveries"))
    print(line("idle pass right after", idles))
    print(line("baseline: bare INSERT of the rows", baselines, deliveries, "rows"))
    ratio = statistics.median([p.plan for p in peaks]) / statistics.median(baselines)
    print(
        f"  plan / baseline insert: {ratio:.2f}×; whole pass / baseline: "
        f"{statistics.median([p.total for p in peaks]) / statistics.median(baselines):.2f}×"
    )
    await db.dispose()

    # ---- daily: deadlines spread over 60 working days ----------------------------------------
    if url.startswith("sqlite"):
        await asyncio.to_thread(remove_sqlite_files, Path(url.removeprefix("sqlite:///")))
    else:
        await reset_pg(url)
    db = Database(url)
    await upgrade(db)
    await seed_departments(db, duties().units)
    await populate(db, args.tasks, args.contacts, lambda i: workdays.add_working_days(START, 1 + i % 60))
    services = Services(config=config, database=db, channels={"mp": NullChannel("mp"), "wecom": NullChannel("wecom")})
    days, day = [], START
    while len(days) < args.days:
        if workdays.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    daily = [await one_pass(services, at10(d)) for d in days]
    planned = sum(p.planned for p in daily)
    print(
        f"daily passes over {len(days)} working days: {planned:,} deliveries, "
        f"{sum(p.messages for p in daily):,} digests in total"
    )
    print(line("plan", [p.plan for p in daily]))
    print(line("whole pass", [p.total for p in daily], int(planned / len(daily)), "deliveries"))
    await db.dispose()


def remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


async def reset_pg(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=3, help="contacts per department (each task reaches them)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="also run on a private PostgreSQL database")
    args = parser.parse_args()
    if not (1 <= args.tasks <= 200_000 and 1 <= args.contacts <= 20 and 1 <= args.repeat <= 100):
        parser.error("--tasks 1..200000, --contacts 1..20, --repeat 1..100")
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        await run(f"sqlite:///{tmp}/bench.db", "SQLite (file)", args, Path(tmp))
        if args.postgres:
            import asyncpg

            admin = os.environ.get("YCBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
            name = f"ycbot_bench_{os.getpid()}_{secrets.token_hex(3)}"
            conn = await asyncpg.connect(admin)
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()
            try:
                await run(f"{admin.rsplit('/', 1)[0]}/{name}", "PostgreSQL", args, Path(tmp))
            finally:
                conn = await asyncpg.connect(admin)
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
