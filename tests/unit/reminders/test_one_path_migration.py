"""Upgrading to one path out: reminder digests that were waiting in the old engine become outbox rows and go
out once, with their own key; a downgrade gives the old columns back."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from bot.reminders.dispatch import run_pass
from bot.services import Services
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import alembic_config, upgrade
from storage.models import OutboxMessage
from storage.models.reminders import DIGEST_PURPOSE, ReminderMessage
from tests.conftest import make_config
from tests.unit.reminders.fakes import RecordingChannel
from tests.unit.reminders.helpers import add_contact, at

BEFORE = "0005_notices"
TS = sa.DateTime(timezone=True)
OLD_MESSAGES = sa.table(
    "reminder_messages",
    *(sa.column(name) for name in ("key", "view_token", "contact_id", "channel", "recipient", "status")),
    sa.column("payload", sa.JSON),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", TS),
    sa.column("claimed_until", TS),
    sa.column("claim_token", sa.String),
    sa.column("last_error", sa.Text),
    sa.column("created_at", TS),
    sa.column("sent_at", TS),
)


async def _migrate(database: Database, revision: str, *, down: bool = False) -> None:
    url = database.url.render_as_string(hide_password=False)

    def run(connection: sa.Connection) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)

    async with database.engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()


def _message(key: str, contact: int, status: str, attempts: int, error: str = "") -> dict[str, object]:
    now = at(2025, 12, 30, 9)
    return {
        "key": key, "view_token": f"v-{key}", "contact_id": contact, "channel": "mp", "recipient": "o-eco",
        "status": status, "attempts": attempts, "next_attempt_at": now,
        "claimed_until": now if status == "sending" else None, "claim_token": "t" if status == "sending" else "",
        "last_error": error, "created_at": now, "sent_at": now if status == "sent" else None,
        "payload": {"template_id": "TPL", "data": {"thing1": {"value": f"提醒{key}"}}, "url": "http://x/m",
                    "detail": f"全文{key}"},
    }  # fmt: skip


async def test_waiting_digests_move_to_the_outbox_and_are_sent_once(db_url: str, tmp_path: Path) -> None:
    database = Database(db_url)
    try:
        await _migrate(database, BEFORE)
        await seed_departments(database, duties().units)
        contact = await add_contact(database, "市生态环境局", "o-eco", now=at(2025, 12, 30, 9))
        async with database.session() as s:
            await s.execute(
                sa.insert(OLD_MESSAGES),
                [
                    _message("rm-pending", contact, "pending", 0),
                    _message("rm-claimed", contact, "sending", 1),
                    _message("rm-dead", contact, "dead", 8, "-1 system busy"),
                    _message("rm-sent", contact, "sent", 1),
                ],
            )
            await s.commit()

        await upgrade(database)
        async with database.session() as s:
            rows = {r.dedup_key: r for r in (await s.scalars(select(OutboxMessage))).all()}
            statuses = dict((await s.execute(select(ReminderMessage.key, ReminderMessage.status))).all())
            detail = await s.scalar(select(ReminderMessage.payload).where(ReminderMessage.key == "rm-pending"))
        assert set(rows) == {"rm-pending", "rm-claimed", "rm-dead"}  # a sent digest needs no row
        assert {k: (r.status, r.attempts, r.purpose) for k, r in rows.items()} == {
            "rm-pending": ("pending", 0, DIGEST_PURPOSE),
            "rm-claimed": ("pending", 1, DIGEST_PURPOSE),
            "rm-dead": ("dead", 8, DIGEST_PURPOSE),
        }
        assert rows["rm-dead"].last_error == "-1 system busy"
        assert "detail" not in rows["rm-pending"].payload and detail["detail"] == "全文rm-pending"
        assert statuses == {"rm-pending": "pending", "rm-claimed": "pending", "rm-dead": "dead", "rm-sent": "sent"}

        channel = RecordingChannel("mp")
        services = Services(
            config=make_config(tmp_path, db_url),
            database=database,
            channels={"mp": channel, "wecom": RecordingChannel("wecom")},
        )
        report = await run_pass(services, at(2025, 12, 30, 10))
        assert report.send.sent == 2
        assert sorted(m.client_msg_id or "" for m in channel.sent) == ["rm-claimed", "rm-pending"]
        await run_pass(services, at(2025, 12, 30, 11))
        assert len(channel.sent) == 2

        await _migrate(database, BEFORE, down=True)
        async with database.session() as s:
            query = sa.select(OLD_MESSAGES.c.key, OLD_MESSAGES.c.status, OLD_MESSAGES.c.attempts)
            back = {key: (status, attempts) for key, status, attempts in await s.execute(query)}
        assert back["rm-pending"] == ("sent", 1) and back["rm-dead"] == ("dead", 8)
    finally:
        await database.dispose()
