"""The outbox worker: sends the rows ``storage.outbox.enqueue`` wrote, each once, from any number of processes.

A row's life: ``pending`` → ``sending`` (claimed under a lease) → ``sent``; or back to ``pending`` with
exponential backoff after a temporary failure, ``dead`` after a permanent one or after ``[outbox]
max_attempts`` tries, ``waiting`` for a customer-service text outside the 48-hour window.

Claiming, committed before anything is sent:

* PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, then ``status='sending', claimed_until=now+lease``;
* SQLite: a compare-and-set ``UPDATE … WHERE id=? AND <still due>`` per row (rowcount 1 = ours).

A ``sending`` row whose lease ran out (its worker crashed) is due again. The result is written only
while the lease is still ours (``claimed_until`` is the fence), so a worker that overran its lease
cannot overwrite the row another worker took over.

48-hour rule (customer-service texts, channel ``mp``): when the recipient's last message is older than
48 hours, or WeChat answers 45015/45047, the row becomes ``waiting``; ``wake_waiting`` (called by the
message pipeline whenever the user writes) puts it back to ``pending``. A row waiting longer than
``[outbox] waiting_max_hours`` is dead.

Dead rows: other areas learn about them through hooks keyed by the row's ``purpose``::

    from bot.outbound.worker import dead_errcode, on_dead

    @on_dead("reminder")
    async def contact_unreachable(session, row):   # row: storage.models.OutboxMessage
        if dead_errcode(row) == 43004: ...          # the contact no longer follows the account

A hook runs in the transaction that marks the row dead, inside a savepoint: its writes commit with the
row; if it raises, the error is logged, its writes are rolled back and the row is dead all the same.
``row.last_error`` reads ``errcode <n>: <message>`` when WeChat gave an error code.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.outbound.channels.base import Channel, ChannelError, SendResult
from bot.outbound.fates import apply_early_fate
from bot.outbound.routes import ROUTED_KIND, deliver_routed
from bot.services import Services
from bot.wechat.windows import EVENT_WINDOW
from storage.event_windows import window_starts
from storage.failed_deliveries import CONFIG_ERRCODES, errcode_of
from storage.models import OutboxMessage
from storage.notice_deliveries import record_sent_row

log = logging.getLogger(__name__)

DeadHook = Callable[[AsyncSession, OutboxMessage], Awaitable[None]]

CUSTOMER_SERVICE_WINDOW = timedelta(hours=48)
WAITING_ERRCODES = frozenset({45015, 45047})  # outside the 48 h window; customer-service quota used up
ERRCODE = re.compile(r"^errcode (-?\d+):")
MAX_ERROR_CHARS = 500

_dead_hooks: dict[str, list[DeadHook]] = {}


def on_dead(purpose: str, hook: DeadHook | None = None) -> Any:
    """Register ``hook`` for dead rows of ``purpose``; also usable as ``@on_dead("reminder")``."""
    if hook is None:

        def decorator(fn: DeadHook) -> DeadHook:
            on_dead(purpose, fn)
            return fn

        return decorator
    hooks = _dead_hooks.setdefault(purpose, [])
    if hook not in hooks:
        hooks.append(hook)
    return hook


def remove_dead_hook(purpose: str, hook: DeadHook) -> None:
    hooks = _dead_hooks.get(purpose, [])
    if hook in hooks:
        hooks.remove(hook)


def dead_errcode(row: OutboxMessage) -> int | None:
    """The WeChat error code that killed ``row``, if there was one."""
    match = ERRCODE.match(row.last_error or "")
    return int(match.group(1)) if match else None


async def wake_waiting(session: AsyncSession, openid: str, now: datetime) -> int:
    """The user wrote: their customer-service texts held by the 48-hour rule are due again.

    Runs in the caller's transaction (the message pipeline's); returns how many rows woke.
    """
    result = await session.execute(_WAKE_WAITING, {"recipient_openid": openid, "now": now})
    return int(result.rowcount or 0)


_OUTBOX = OutboxMessage.__table__
# Runs on every push: one Core statement object, so its compiled form is found from a cache key computed once.
_WAKE_WAITING = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.channel == "mp",
        _OUTBOX.c.recipient == bindparam("recipient_openid"),
        _OUTBOX.c.status == "waiting",
    )
    .values(status="pending", next_attempt_at=bindparam("now"), claimed_until=None)
)


class PayloadError(ValueError):
    """The row cannot be sent as written (unknown kind, missing field): retrying will not help."""


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | dead | waiting
    error: str = ""
    attempted: bool = True
    msg_id: str = ""


def _describe(exc: ChannelError) -> str:
    text = f"errcode {exc.errcode}: {exc}" if exc.errcode is not None else str(exc)
    return text[:MAX_ERROR_CHARS]


class OutboxWorker:
    """Drains the outbox; ``run_once`` is the scheduler job and may run in several processes at once."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.config = services.config.outbox
        self.lease = timedelta(seconds=max(10, self.config.lease_seconds))
        # Stop starting new sends this long before the lease ends: one send with its in-place retries
        # (token fetch and message, a few timeouts each) must finish while the rows are still ours.
        worst_send = 8 * services.config.wechat.http_timeout_seconds + 10
        self.lease_margin = min(self.lease / 2, timedelta(seconds=worst_send))

    async def run_once(self, limit: int | None = None) -> int:
        """Send the due rows (at most ``limit``, default ``[outbox] batch_size``); returns how many were handled."""
        limit = max(1, limit or self.config.batch_size)
        now = self.services.now()
        await self._expire_waiting(now)
        until = now + self.lease
        rows = await self._claim(now, until, limit)
        handled = 0
        for index, row in enumerate(rows):
            if self.services.now() >= until - self.lease_margin:
                await self._release(rows[index:], until)  # too close to the lease's end: leave the rest
                break
            outcome = await self._deliver(row)
            await self._finish(row, outcome, until)
            handled += 1
        return handled

    # ---- claiming ---------------------------------------------------------------------------------

    @staticmethod
    def _due(now: datetime) -> Any:
        return or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
        )

    async def _claim(self, now: datetime, until: datetime, limit: int) -> list[OutboxMessage]:
        database = self.services.database
        due = self._due(now)
        order = (OutboxMessage.next_attempt_at, OutboxMessage.id)
        async with database.session() as session:
            if database.is_sqlite:
                candidates = (
                    await session.scalars(select(OutboxMessage.id).where(due).order_by(*order).limit(limit))
                ).all()
                claimed = []
                for row_id in candidates:
                    result = await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == row_id, due)
                        .values(status="sending", claimed_until=until)
                    )
                    if result.rowcount == 1:
                        claimed.append(row_id)
            else:
                claimed = list(
                    (
                        await session.scalars(
                            select(OutboxMessage.id)
                            .where(due)
                            .order_by(*order)
                            .limit(limit)
                            .with_for_update(skip_locked=True)
                        )
                    ).all()
                )
                if claimed:
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(claimed))
                        .values(status="sending", claimed_until=until)
                    )
            rows: list[OutboxMessage] = []
            if claimed:
                rows = list(
                    (
                        await session.scalars(
                            select(OutboxMessage)
                            .where(OutboxMessage.id.in_(claimed))
                            .order_by(*order)
                            .execution_options(populate_existing=True)
                        )
                    ).all()
                )
            await session.commit()
        return rows

    async def _release(self, rows: Sequence[OutboxMessage], until: datetime) -> None:
        async with self.services.database.session() as session:
            for row in rows:
                await session.execute(
                    update(OutboxMessage)
                    .where(self._fence(row.id, until))
                    .values(status="pending", claimed_until=None)
                )
            await session.commit()

    @staticmethod
    def _fence(row_id: int, until: datetime) -> Any:
        return and_(
            OutboxMessage.id == row_id,
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_until == until,
        )

    # ---- sending ----------------------------------------------------------------------------------

    async def _deliver(self, row: OutboxMessage) -> Outcome:
        customer_service = row.channel == "mp" and row.kind == "text"
        try:
            channel = self.services.channel(row.channel)
        except LookupError as exc:
            return Outcome("retry", str(exc))
        if row.kind == ROUTED_KIND:  # a notice with a route per channel kind: records its own attempts
            routed = await deliver_routed(self.services, row, self._in_window)
            return Outcome(routed.status, routed.error)
        try:
            if customer_service and not await self._in_window(row.recipient):
                return Outcome("waiting", "outside the 48-hour customer-service window", attempted=False)
            result = await self._send(channel, row)
        except ChannelError as exc:
            if customer_service and exc.errcode in WAITING_ERRCODES:
                return Outcome("waiting", _describe(exc))
            return Outcome("dead" if exc.permanent else "retry", _describe(exc))
        except PayloadError as exc:
            return Outcome("dead", f"bad outbox row: {exc}"[:MAX_ERROR_CHARS])
        except Exception as exc:  # a bug or an unexpected failure: keep the row and try again later
            log.exception("outbox row %s: sending failed unexpectedly", row.id)
            return Outcome("retry", f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS])
        return Outcome("sent", msg_id=result.msg_id if result is not None else "")

    async def _in_window(self, openid: str) -> bool:
        """A window is open: 48 hours after the user's last message, or 1 minute after a CLICK/follow/scan
        (which allows 3 sends: rows left over wait for the user's next message)."""
        now = self.services.now()
        async with self.services.database.session() as session:
            message_at, event_at, _ = await window_starts(session, openid)
        if message_at is not None and now - message_at < CUSTOMER_SERVICE_WINDOW:
            return True
        return event_at is not None and now - event_at < EVENT_WINDOW

    async def _send(self, channel: Channel, row: OutboxMessage) -> SendResult | None:
        payload = row.payload if isinstance(row.payload, dict) else {}
        if row.kind == "text":
            return await channel.send_text(row.recipient, _text(payload, "content"))
        elif row.kind == "template":
            data = payload.get("data")
            if not isinstance(data, dict) or not data:
                raise PayloadError("a template row needs a non-empty data object")
            url = payload.get("url")
            return await channel.send_template(
                row.recipient,
                _text(payload, "template_id") if row.channel == "mp" else str(payload.get("template_id", "")),
                {str(k): v for k, v in data.items()},
                url=str(url) if url else None,
                client_msg_id=row.dedup_key or f"outbox-{row.id}",
            )
        elif row.kind == "textcard":
            if row.channel != "wecom":
                raise PayloadError("textcard rows go through the wecom channel")
            data = {"title": _text(payload, "title"), "description": str(payload.get("description") or "")}
            url = payload.get("url")
            return await channel.send_template(row.recipient, "textcard", data, url=str(url) if url else None)
        elif row.kind in ("tag", "untag"):
            tag_name = _text(payload, "tag")
            tag_id = await channel.ensure_tag(tag_name)  # type: ignore[attr-defined]
            await channel.tag_users(tag_id, [row.recipient], remove=row.kind == "untag")  # type: ignore[attr-defined]
        else:
            raise PayloadError(f"unknown kind {row.kind!r} (text, template, textcard, tag or untag)")
        return None

    # ---- results ----------------------------------------------------------------------------------

    def _backoff(self, attempts: int) -> timedelta:
        seconds = self.config.retry_base_seconds * 2 ** max(0, attempts - 1)
        return timedelta(seconds=min(seconds, self.config.retry_max_seconds))

    async def _finish(self, row: OutboxMessage, outcome: Outcome, until: datetime) -> None:
        now = self.services.now()
        attempts = row.attempts + (1 if outcome.attempted else 0)
        status = outcome.status
        if status == "retry" and attempts >= self.config.max_attempts:
            status = "dead"
            outcome = Outcome("dead", f"{outcome.error} (gave up after {attempts} tries)"[:MAX_ERROR_CHARS])
        values: dict[str, Any] = {"attempts": attempts, "claimed_until": None, "last_error": outcome.error}
        if outcome.attempted:
            metrics.delivery(row.channel, "outbox", status, outcome.error)
            if status != "sent" and errcode_of(outcome.error) in CONFIG_ERRCODES:
                log.error("outbox row %s: configuration error, retrying will not help: %s", row.id, outcome.error)
        if status == "sent":
            values.update(status="sent", sent_at=now)
        elif status == "retry":
            values.update(status="pending", next_attempt_at=now + self._backoff(attempts))
        else:
            values.update(status=status)
        async with self.services.database.session() as session:
            result = await session.execute(update(OutboxMessage).where(self._fence(row.id, until)).values(**values))
            if result.rowcount != 1:
                log.warning("outbox row %s: lease lost before the result was written (%s)", row.id, status)
                return
            if outcome.attempted and row.kind in ("template", "textcard"):
                record = await record_sent_row(session, row, status, outcome.error, outcome.msg_id, now)
                await apply_early_fate(session, record)
            if status == "dead":
                log.warning("outbox row %s (%s) is dead: %s", row.id, row.purpose or "-", outcome.error)
                await run_dead_hooks(session, row.id)
            await session.commit()

    async def _expire_waiting(self, now: datetime) -> None:
        cutoff = now - timedelta(hours=self.config.waiting_max_hours)
        # A routed notice (to a reporter) never expires: it waits for the reporter's next message.
        stale = and_(
            OutboxMessage.status == "waiting", OutboxMessage.created_at < cutoff, OutboxMessage.kind != ROUTED_KIND
        )
        async with self.services.database.session() as session:
            ids = (await session.scalars(select(OutboxMessage.id).where(stale).limit(self.config.batch_size))).all()
            if not ids:
                return
            for row_id in ids:
                result = await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, stale)
                    .values(status="dead", last_error="the user did not write again in time (48-hour rule)")
                )
                if result.rowcount == 1:
                    await run_dead_hooks(session, row_id)
            await session.commit()


async def run_dead_hooks(session: AsyncSession, row_id: int) -> None:
    """Call the hooks registered for the dead row's purpose, each in its own savepoint."""
    row = await session.get(OutboxMessage, row_id, populate_existing=True)
    if row is None:
        return
    for hook in list(_dead_hooks.get(row.purpose, [])):
        try:
            async with session.begin_nested():
                await hook(session, row)
        except Exception:
            log.exception("dead-row hook %r for outbox row %s failed", getattr(hook, "__name__", hook), row_id)


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"field {key!r} is missing or empty")
    return value
