"""Messages that did not go out: outbox rows and reminder messages that are dead, waiting or retrying, and
what an admin may do with them (retry now, send by the contact's other route, discard).

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
from storage.models.reminders import Contact, ReminderDelivery, ReminderMessage

SOURCES = ("outbox", "reminder")
ACTIONS = ("retry", "reroute", "discard")
# Wrong configuration, not a passing fault: retrying changes nothing until the operator acts.
CONFIG_ERRCODES = frozenset({40164, 48001, 40037, 40001, 40125, 40013, 60020})
_ERRCODE = re.compile(r"^(?:errcode )?(-?\d{2,6})\b")


class DeliveryActionError(Fact):
    """The row cannot take that action: ``delivery_not_pending`` (sent, discarded or gone),
    ``delivery_no_route`` (the contact has one address only), ``delivery_already_rerouted``."""


@dataclass(frozen=True)
class FailedDelivery:
    source: str  # outbox | reminder
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
    """Dead, waiting and retrying rows of both queues, newest first."""
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
    reminders = await session.scalars(
        select(ReminderMessage)
        .where(
            or_(
                ReminderMessage.status == "dead",
                and_(ReminderMessage.status == "pending", ReminderMessage.attempts > 0),
            )
        )
        .order_by(ReminderMessage.id.desc())
        .limit(limit)
    )
    for msg in reminders:
        rows.append(
            FailedDelivery("reminder", msg.id, "reminders", msg.channel, mask(msg.recipient), _state(msg.status),
                           errcode_of(msg.last_error), msg.last_error, msg.attempts, msg.created_at,
                           msg.next_attempt_at if msg.status == "pending" else None)
        )  # fmt: skip
    rows.sort(key=lambda r: r.created_at, reverse=True)
    return rows


async def _load(session: AsyncSession, source: str, row_id: int) -> OutboxMessage | ReminderMessage:
    model = OutboxMessage if source == "outbox" else ReminderMessage
    row = await session.get(model, row_id)
    if row is None or row.status not in ("dead", "waiting", "pending"):
        raise DeliveryActionError("delivery_not_pending", source=source, id=row_id)
    return row


async def retry_now(session: AsyncSession, source: str, row_id: int, now: datetime) -> None:
    """Back to pending, due now, with a fresh count of attempts."""
    row = await _load(session, source, row_id)
    row.status, row.attempts, row.next_attempt_at, row.claimed_until = "pending", 0, now, None
    if source == "reminder":
        await session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.message_id == row_id, ReminderDelivery.status == "dead")
            .values(status="batched")
        )


async def discard(session: AsyncSession, source: str, row_id: int) -> None:
    row = await _load(session, source, row_id)
    row.status, row.claimed_until = "discarded", None
    if source == "reminder":
        await session.execute(
            update(ReminderDelivery)
            .where(ReminderDelivery.message_id == row_id, ReminderDelivery.status.in_(("dead", "batched")))
            .values(status="cancelled")
        )


async def other_route(session: AsyncSession, channel: str, recipient: str) -> tuple[str, str] | None:
    """(channel, recipient) of the same contact's other address, if the contact has one."""
    column = Contact.openid if channel == "mp" else Contact.wecom_userid
    contact = await session.scalar(select(Contact).where(column == recipient, Contact.status != "removed"))
    if contact is None:
        return None
    if channel == "mp" and contact.wecom_userid:
        return "wecom", contact.wecom_userid
    if channel == "wecom" and contact.openid:
        return "mp", contact.openid
    return None


def lines_of(channel: str, kind: str, payload: dict[str, Any]) -> tuple[str, list[str], str]:
    """(title, lines, url) of a stored message, whatever channel it was written for."""
    url = str(payload.get("url") or "")
    if channel == "wecom" or kind == "textcard":
        text = str(payload.get("description") or "")
        return str(payload.get("title") or ""), [line for line in text.splitlines() if line.strip()], url
    if kind in ("text", "routed"):  # a routed notice (to a reporter) shows its customer-service text
        return "", [str(payload.get("content") or "")], url
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    values = [v.get("value", "") if isinstance(v, dict) else str(v) for v in data.values()]
    return "", [str(v) for v in values if v], url
