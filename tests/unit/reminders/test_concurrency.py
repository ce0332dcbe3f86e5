"""Two dispatchers on one database (separate engines, as two processes would have) send each message once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bot.reminders.digest import batch
from bot.reminders.dispatch import run_pass, send_due
from bot.reminders.planner import plan
from bot.services import Services
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from storage.models.reminders import ReminderDelivery, ReminderMessage
from tests.conftest import make_config
from tests.unit.reminders.fakes import RecordingChannel
from tests.unit.reminders.helpers import add_contact, at, load_tasks, task_toml

COUNTIES = ["盐湖区", "临猗县", "万荣县", "闻喜县", "稷山县", "新绛县", "绛县", "垣曲县", "夏县", "平陆县"]


async def _race(url: str, tmp_path: Path, rounds: int) -> tuple[Counter[str], int, list[int]]:
    config = make_config(tmp_path, url, YCBOT_REMINDERS_SEED_FILE="", YCBOT_REMINDERS_BATCH_SIZE="3")
    setup = Database(url)
    await upgrade(setup)
    await seed_departments(setup, duties().units)
    now = at(2025, 12, 30, 10)
    text = "".join(task_toml(f"T{i}", local="all", title=f"任务{i}") for i in range(1, 6))
    await load_tasks(setup, text, now)
    contacts = 0
    for county in COUNTIES:
        for j in range(3):
            await add_contact(setup, county, f"o-{county}-{j}", now=now)
            contacts += 1
    channels = [RecordingChannel("mp"), RecordingChannel("mp")]
    dbs = [Database(url), Database(url)]
    try:
        workers = [
            Services(config=config, database=d, channels={"mp": c, "wecom": RecordingChannel("wecom")})
            for d, c in zip(dbs, channels, strict=True)
        ]
        # Each phase raced on its own (so both dispatchers find work to fight over), then whole passes.
        await asyncio.gather(*(plan(w.database, config, now) for w in workers))
        await asyncio.gather(*(batch(w.database, config, now) for w in workers))
        await asyncio.gather(*(send_due(w, now) for w in workers))
        for _ in range(rounds):
            await asyncio.gather(*(run_pass(w, now) for w in workers))
        async with setup.session() as s:
            messages = int(await s.scalar(select(func.count()).select_from(ReminderMessage)) or 0)
            batched = int(
                await s.scalar(
                    select(func.count()).select_from(ReminderDelivery).where(ReminderDelivery.status == "sent")
                )
                or 0
            )
        assert messages == contacts
        assert batched == contacts * 5
        sent = Counter(m.client_msg_id or "" for c in channels for m in c.sent)
        return sent, contacts, [len(c.sent) for c in channels]
    finally:
        for d in [*dbs, setup]:
            await d.dispose()


async def test_two_dispatchers_on_postgresql_send_each_message_once(pg_url: str, tmp_path: Path) -> None:
    sent, contacts, per_worker = await _race(pg_url, tmp_path, rounds=3)
    assert len(sent) == contacts
    assert all(n > 0 for n in per_worker), f"both dispatchers should have sent some: {per_worker}"
    assert set(sent.values()) == {1}, [k for k, n in sent.items() if n > 1]


async def test_two_dispatchers_on_sqlite_send_each_message_once(sqlite_url: str, tmp_path: Path) -> None:
    sent, contacts, _ = await _race(sqlite_url, tmp_path, rounds=2)
    assert len(sent) == contacts and set(sent.values()) == {1}
