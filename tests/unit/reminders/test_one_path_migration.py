"""Upgrading to one path out: reminder digests that were waiting in the old engine become outbox rows and go
out once, with their own key (a downgrade gives the old columns back); contacts' openids and WeCom userids
become (channel, address) rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from bot.outbound.notify import route_for
from bot.reminders.dispatch import run_pass
from bot.services import Services
from knowledge.duties import duties
from storage import failed_deliveries as fd
from storage.contacts import contact_for_openid, find_contact, resolve_department, unbind
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import alembic_config, upgrade
from storage.models import OutboxMessage
from storage.models.reminders import DIGEST_PURPOSE, ContactAddress, ReminderMessage
from tests.conftest import make_config
from tests.unit.reminders.fakes import RecordingChannel
from tests.unit.reminders.helpers import at

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


OLD_DELIVERIES = sa.table(
    "reminder_deliveries",
    *(sa.column(n) for n in ("task_id", "period", "contact_id", "department_id", "kind", "status", "message_id")),
    sa.column("on_date", sa.Date),
    sa.column("send_after", TS),
    sa.column("detail", sa.JSON),
    sa.column("created_at", TS),
)
OLD_CONTACTS = sa.table(
    "contacts",
    *(sa.column(name) for name in ("id", "department_id", "name", "channel", "openid", "wecom_userid", "status")),
    sa.column("status_reason", sa.Text),
    sa.column("created_at", TS),
    sa.column("updated_at", TS),
    sa.column("removed_at", TS),
)


async def _old_contact(session, department: str, *, now, openid=None, userid=None, status="active") -> int:  # type: ignore[no-untyped-def]
    """A contact as the schema before contact addresses stored it (its openid or userid in a column)."""
    dept = await resolve_department(session, department)
    values = {
        "department_id": dept.id, "name": "", "channel": "wecom" if userid else "mp", "openid": openid,
        "wecom_userid": userid, "status": status, "status_reason": "", "created_at": now, "updated_at": now,
        "removed_at": now if status == "removed" else None,
    }  # fmt: skip
    result = await session.execute(sa.insert(OLD_CONTACTS).values(**values).returning(OLD_CONTACTS.c.id))
    return int(result.scalar_one())


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
        async with database.session() as s:
            contact = await _old_contact(s, "市生态环境局", now=at(2025, 12, 30, 9), openid="o-eco")
            await s.execute(
                sa.insert(OLD_MESSAGES),
                [
                    _message("rm-pending", contact, "pending", 0),
                    _message("rm-claimed", contact, "sending", 1),
                    _message("rm-dead", contact, "dead", 8, "-1 system busy"),
                    _message("rm-sent", contact, "sent", 1),
                ],
            )
            pending_id = await s.scalar(sa.text("SELECT id FROM reminder_messages WHERE key = 'rm-pending'"))
            dept_id = await s.scalar(sa.text(f"SELECT department_id FROM contacts WHERE id = {contact}"))
            await s.execute(sa.insert(OLD_DELIVERIES).values(
                task_id="T1", period="once", contact_id=contact, department_id=dept_id, kind="due",
                on_date=date(2025, 12, 30), send_after=at(2025, 12, 30, 9), status="batched", message_id=pending_id,
                detail={}, created_at=at(2025, 12, 30, 9),
            ))  # fmt: skip
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
        async with database.session() as s:  # the digest's reminder (a row pointing at the digest) is sent too
            assert (await s.scalar(sa.select(OLD_DELIVERIES.c.status))) == "sent"

        await _migrate(database, BEFORE, down=True)
        async with database.session() as s:
            query = sa.select(OLD_MESSAGES.c.key, OLD_MESSAGES.c.status, OLD_MESSAGES.c.attempts)
            back = {key: (status, attempts) for key, status, attempts in await s.execute(query)}
        assert back["rm-pending"] == ("sent", 1) and back["rm-dead"] == ("dead", 8)
    finally:
        await database.dispose()


async def test_contact_addresses_move_into_channel_address_rows(db_url: str, tmp_path: Path) -> None:
    database = Database(db_url)
    try:
        await _migrate(database, BEFORE)
        await seed_departments(database, duties().units)
        now = at(2025, 12, 1, 9)
        async with database.session() as s:
            gone = await _old_contact(s, "市生态环境局", now=now, openid="o-same", status="removed")
            both = await _old_contact(s, "市生态环境局", now=now, openid="o-same")
            card = await _old_contact(s, "市卫健委", now=now, userid="li.si")
            await s.execute(sa.update(OLD_CONTACTS).where(OLD_CONTACTS.c.id == both).values(wecom_userid="zhao.liu"))
            await s.commit()
        await upgrade(database)
        config = make_config(tmp_path, db_url, YCBOT_REMINDERS_CHANNEL="wecom")
        async with database.session() as s:
            rows = (await s.scalars(select(ContactAddress).order_by(ContactAddress.id))).all()
            assert [(r.contact_id, r.channel, r.address, r.removed_at is None) for r in rows] == [
                (gone, "mp", "o-same", False),  # a removed contact's address ended with it
                (both, "mp", "o-same", True),
                (both, "wecom", "zhao.liu", True),
                (card, "wecom", "li.si", True),
            ]
            current = await contact_for_openid(s, "o-same")
            assert current is not None and current.id == both
            assert route_for(config, current) == ("wecom", "zhao.liu")  # [reminders] channel = wecom
            assert (await find_contact(s, userid="li.si")).id == card
            await unbind(s, current, now=now)
            await s.commit()
            assert await contact_for_openid(s, "o-same") is None
            assert await fd.other_route(s, "wecom", "li.si") is None
    finally:
        await database.dispose()
