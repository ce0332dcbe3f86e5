"""Messages that did not go out: outbox rows (reminder digests among them) that are dead, waiting or
retrying, and what an admin may do with them (retry now, send by the contact's other route, discard).

Recipients are masked here: the page never shows a whole openid or WeCom user id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.facts import Fact
from storage.models import OutboxMessage
from storage.models.reminders import DIGEST_PURPOSE, Contact, ContactAddress, ReminderDelivery, ReminderMessage

SOURCES = ("outbox",)  # one queue: every message, reminder digests too, is an outbox row
ACTIONS = ("retry", "reroute", "discard")
# Wrong configuration, not a passing fault: retrying changes nothing until the operator acts.
CONFIG_ERRCODES = frozenset({40164, 48001, 40037, 40001, 40125, 40013, 60020})
_ERRCODE = re.compile(r"^(?:errcode )?(-?\d{2,6})\b")


class DeliveryActionError(Fact):
    """The row cannot take that action: ``delivery_not_pending`` (sent, discarded or gone),
    ``delivery_no_route`` (the contact has one address only), ``delivery_already_rerouted``."""


@dataclass(frozen=True)
class FailedDelivery:
    source: str  # outbox
    id: int
    purpose: str
    channel: str
    recipient: str  # masked
    state: str  # dead | waiting | retrying
    errcode: int | None
    error: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None


def errcode_of(error: str) -> int | None:
    """The WeChat errcode a stored error starts with ("errcode 40164: …" or "40164 …")."""
    match = _ERRCODE.match(error or "")
    return int(match.group(1)) if match else None


def mask(recipient: str) -> str:
    """``oXk9…81``: enough to tell two recipients apart, not enough to write to one."""
    if len(recipient) <= 6:
        return "…" + recipient[-2:]
    return f"{recipient[:4]}…{recipient[-2:]}"


def _state(status: str) -> str:
    return "retrying" if status == "pending" else status


async def list_failed(session: AsyncSession, limit: int = 200) -> list[FailedDelivery]:
    """Dead, waiting and retrying rows, newest first."""
    rows: list[FailedDelivery] = []
    outbox = await session.scalars(
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.status.in_(("dead", "waiting")),
                and_(OutboxMessage.status == "pending", OutboxMessage.attempts > 0),
            )
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    for row in outbox:
        rows.append(
            FailedDelivery("outbox", row.id, row.purpose or "", row.channel, mask(row.recipient), _state(row.status),
                           errcode_of(row.last_error), row.last_error, row.attempts, row.created_at,
                           row.next_attempt_at if row.status == "pending" else None)
        )  # fmt: skip
    rows.sort(key=lambda r: r.created_at, reverse=True)
    return rows


async def _load(session: AsyncSession, source: str, row_id: int) -> OutboxMessage:
    row = await session.get(OutboxMessage, row_id) if source in SOURCES else None
    if row is None or row.status not in ("dead", "waiting", "pending"):
        raise DeliveryActionError("delivery_not_pending", source=source, id=row_id)
    return row


async def _digest_id(session: AsyncSession, row: OutboxMessage) -> int | None:
    """The reminder digest an outbox row carries, if it carries one."""
    if row.purpose != DIGEST_PURPOSE or not row.dedup_key:
        return None
    return await session.scalar(select(ReminderMessage.id).where(ReminderMessage.key == row.dedup_key))


async def retry_now(session: AsyncSession, source: str, row_id: int, now: datetime) -> None:
    """Back to pending, due now, with a fresh count of attempts (a digest's reminders are pending again)."""
    row = await _load(session, source, row_id)
    row.status, row.attempts, row.next_attempt_at, row.claimed_until = "pending", 0, now, None
    digest = await _digest_id(session, row)
    if digest is not None:
        await session.execute(
            update(ReminderMessage).where(ReminderMessage.id == digest, ReminderMessage.status == "dead")
            .values(status="pending")
        )  # fmt: skip
        await session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.message_id == digest, ReminderDelivery.status == "dead")
            .values(status="batched")
        )


async def discard(session: AsyncSession, source: str, row_id: int) -> None:
    row = await _load(session, source, row_id)
    row.status, row.claimed_until = "discarded", None
    digest = await _digest_id(session, row)
    if digest is not None:
        await session.execute(
            update(ReminderMessage).where(ReminderMessage.id == digest).values(status="discarded")
        )
        await session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.message_id == digest, ReminderDelivery.status.in_(("dead", "batched")))
            .values(status="cancelled")
        )


async def other_route(session: AsyncSession, channel: str, recipient: str) -> tuple[str, str] | None:
    """(channel, recipient) of the same contact's other address, if the contact has one."""
    contact_id = await session.scalar(
        select(ContactAddress.contact_id)
        .join(Contact, Contact.id == ContactAddress.contact_id)
        .where(
            ContactAddress.channel == channel,
            ContactAddress.address == recipient,
            ContactAddress.removed_at.is_(None),
            Contact.status != "removed",
        )
        .limit(1)
    )
    if contact_id is None:
        return None
    other = await session.scalar(
        select(ContactAddress)
        .where(
            ContactAddress.contact_id == contact_id,
            ContactAddress.channel != channel,
            ContactAddress.removed_at.is_(None),
        )
        .order_by(ContactAddress.id)
        .limit(1)
    )
    return (other.channel, other.address) if other is not None else None


def lines_of(channel: str, kind: str, payload: dict[str, Any]) -> tuple[str, list[str], str]:
    """(title, lines, url) of a stored message, whatever channel it was written for."""
    url = str(payload.get("url") or "")
    if channel == "wecom" or kind == "textcard":
        text = str(payload.get("description") or "")
        return str(payload.get("title") or ""), [line for line in text.splitlines() if line.strip()], url
    if kind in ("text", "routed"):  # a routed notice (to a reporter) shows its customer-service text
        return "", [str(payload.get("content") or "")], url
    notice = payload.get("notice")
    if kind == "notice" and isinstance(notice, dict):  # the channel-neutral notice (bot.outbound.notice)
        fields = [f for f in notice.get("fields") or [] if isinstance(f, dict)]
        lines = [f"{f.get('label', '')}：{f.get('value', '')}" for f in fields]
        return str(notice.get("title") or ""), lines, str(notice.get("link") or "")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    values = [v.get("value", "") if isinstance(v, dict) else str(v) for v in data.values()]
    return "", [str(v) for v in values if v], url
