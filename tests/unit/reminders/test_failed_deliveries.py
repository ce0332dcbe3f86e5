"""Failed deliveries: listing with masked recipients and errcodes, retry now, the other route, discard."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.console.deliveries import _reroute
from bot.outbound.channels.base import ChannelError
from bot.reminders.dispatch import run_pass
from bot.services import Services
from storage import failed_deliveries as fd
from storage.db import Database
from storage.models import OutboxMessage
from storage.models.reminders import Contact, ContactAddress, ReminderDelivery, ReminderMessage
from tests.unit.reminders.fakes import RecordingChannel
from tests.unit.reminders.helpers import add_contact, at, load_tasks, task_toml


async def test_a_dead_reminder_is_listed_retried_and_sent(
    services: Services, channels: dict[str, RecordingChannel], db: Database
) -> None:
    now = at(2025, 12, 30, 10)
    await load_tasks(db, task_toml("T1"), now)
    await add_contact(db, "市生态环境局", "o-eco-officer", now=now)
    channels["mp"].failures.append(ChannelError("invalid template_id", errcode=40037))
    await run_pass(services, now)
    async with db.session() as s:
        (row,) = await fd.list_failed(s)
    assert (row.source, row.purpose, row.state, row.errcode, row.recipient) == (
        "outbox", "reminder_digest", "dead", 40037, "o-ec…er"
    )
    assert row.errcode in fd.CONFIG_ERRCODES

    async with db.session() as s:
        contact = await s.scalar(select(Contact))
        contact.status = "active"  # the operator fixed the template id; the contact is fine
        await fd.retry_now(s, "outbox", row.id, now)
        await s.commit()
        assert await fd.list_failed(s) == []
    report = await run_pass(services, at(2025, 12, 30, 10, 5))
    assert report.send.sent == 1
    async with db.session() as s:
        sent = await s.scalar(select(OutboxMessage).where(OutboxMessage.id == row.id))
        assert (await s.scalar(select(ReminderMessage.status).where(ReminderMessage.key == sent.dedup_key))) == "sent"
        assert {d.status for d in (await s.scalars(select(ReminderDelivery))).all()} == {"sent"}
        with pytest.raises(fd.DeliveryActionError, match="delivery_not_pending"):
            await fd.discard(s, "outbox", row.id)


async def test_the_other_route_and_discard(services: Services, db: Database) -> None:
    now = at(2025, 12, 30, 10)
    await add_contact(db, "市生态环境局", "o-both", now=now)
    async with db.session() as s:
        contact = await s.scalar(select(Contact))
        s.add(ContactAddress(contact_id=contact.id, channel="wecom", address="wecom-both", created_at=now))
        row = OutboxMessage(
            channel="mp", kind="template", recipient="o-both", purpose="notice", status="dead", attempts=8,
            payload={"template_id": "T", "data": {"thing1": {"value": "新案件待受理"}}, "url": "http://x/c"},
            last_error="errcode 48001: api unauthorized", next_attempt_at=now, created_at=now,
        )  # fmt: skip
        lone = OutboxMessage(
            channel="mp", kind="text", recipient="o-reporter", purpose="report_update", status="waiting",
            payload={"content": "进展"}, last_error="outside the window", next_attempt_at=now, created_at=now,
        )  # fmt: skip
        s.add_all([row, lone])
        await s.commit()
        await _reroute(s, services.config, "outbox", row.id, now)
        await s.commit()
        new = await s.scalar(select(OutboxMessage).where(OutboxMessage.channel == "wecom"))
        assert (new.kind, new.recipient, new.status) == ("textcard", "wecom-both", "pending")
        assert "新案件待受理" in new.payload["description"] and new.payload["url"] == "http://x/c"
        assert (await s.get(OutboxMessage, row.id)).status == "rerouted"
        with pytest.raises(fd.DeliveryActionError, match="delivery_no_route"):
            await _reroute(s, services.config, "outbox", lone.id, now)
        await fd.discard(s, "outbox", lone.id)
        await s.commit()
        assert [r.id for r in await fd.list_failed(s)] == []
