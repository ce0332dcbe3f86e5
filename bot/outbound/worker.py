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

Dead rows and purposes (``bot.outbound.hooks``): areas learn about their dead rows through hooks keyed by
the row's ``purpose``, and an area whose rows need more than sending registers a ``Purpose`` (reminder
digests: held outside the sending window, outcome written back to the digest). So every message the
service sends goes through this one claim/lease/backoff engine.

``attempts`` counts claims that reached the channel: it is raised when a row is claimed and given back
when the row is released or held without a send, so a row whose send kills the process still dies after
``max_attempts``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, literal_column, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.outbound.channels.base import Channel, ChannelError, SendResult
from bot.outbound.fates import apply_early_fate
from bot.outbound.hooks import (  # noqa: F401  (dead_errcode, on_dead … are read from here too)
    GAVE_UP,
    Purpose,
    dead_errcode,
    on_dead,
    purposes_for,
    refused,
    register_purpose,
    remove_dead_hook,
    run_dead_hooks,
)
from bot.outbound.mapping import render
from bot.outbound.notice import Notice
from bot.outbound.routes import ROUTED_KIND, deliver_routed
from bot.services import Services
from bot.wechat.windows import EVENT_WINDOW
from storage.event_windows import window_starts
from storage.failed_deliveries import CONFIG_ERRCODES, errcode_of
from storage.models import OutboxMessage
from storage.notice_deliveries import record_sent_row
from storage.outbox import WAKE_INDEX

log = logging.getLogger(__name__)

CUSTOMER_SERVICE_WINDOW = timedelta(hours=48)
WAITING_ERRCODES = frozenset({45015, 45047})  # outside the 48 h window; customer-service quota used up
MAX_ERROR_CHARS = 500

async def wake_waiting(session: AsyncSession, openid: str, now: datetime) -> int:
    """The user wrote: their customer-service texts held by the 48-hour rule are due again.

    Runs in the caller's transaction (the message pipeline's); returns how many rows woke.
    """
    statement = _WAKE_WAITING_SQLITE if session.get_bind().dialect.name == "sqlite" else _WAKE_WAITING
    result = await session.execute(statement, {"recipient_openid": openid, "now": now})
    return int(result.rowcount or 0)


_OUTBOX = OutboxMessage.__table__
# Runs on every push: one Core statement object, so its compiled form is found from a cache key computed once.
# 'waiting' is written out: only then can the partial index on waiting rows serve the statement.
_WAKE_WAITING = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.channel == "mp",
        _OUTBOX.c.recipient == bindparam("recipient_openid"),
        _OUTBOX.c.status == literal_column("'waiting'"),
    )
    .values(status="pending", next_attempt_at=bindparam("now"), claimed_until=None)
)
# SQLAlchemy renders no table hint in an UPDATE for SQLite: the same statement as text, naming the index.
_WAKE_WAITING_SQLITE = text(
    f"UPDATE outbox {WAKE_INDEX} SET status = 'pending', next_attempt_at = :now, claimed_until = NULL "
    "WHERE channel = 'mp' AND recipient = :recipient_openid AND status = 'waiting'"
).bindparams(bindparam("now", type_=_OUTBOX.c.next_attempt_at.type))


class PayloadError(ValueError):
    """The row cannot be sent as written (unknown kind, missing field): retrying will not help."""


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | dead | waiting | held
    error: str = ""
    attempted: bool = True
    not_before: datetime | None = None  # held: due again then
    msg_id: str = ""  # WeChat's id of a sent template message (its result push names it)


@dataclass(frozen=True)
class Handled:
    """One row a run handled: its purpose, its key and what became of it (sent, retry, dead, waiting, held)."""

    id: int
    purpose: str
    dedup_key: str | None
    status: str
    error: str = ""


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
        self.purposes: dict[str, Purpose] = purposes_for(services)
        self._clock: Callable[[], datetime] = services.now

    async def run_once(self, limit: int | None = None) -> int:
        """Send the due rows (at most ``limit``, default ``[outbox] batch_size``); returns how many were handled."""
        return len(await self.run(limit))

    async def run(
        self, limit: int | None = None, *, now: datetime | None = None, purposes: Collection[str] | None = None
    ) -> list[Handled]:
        """One run: claim due rows (only of ``purposes`` when given) and send them, as of ``now`` (default:
        the services' clock; a given ``now`` moves on with the clock while the run lasts)."""
        limit = max(1, limit or self.config.batch_size)
        started = self.services.now()
        base = now or started
        self._clock = lambda: base + (self.services.now() - started)
        await self._expire_waiting(base)
        until = base + self.lease
        rows = await self._claim(base, until, limit, purposes)
        handled: list[Handled] = []
        for index, row in enumerate(rows):
            if self._clock() >= until - self.lease_margin:
                await self._release(rows[index:], until)  # too close to the lease's end: leave the rest
                break
            outcome = await self._deliver(row)
            status = await self._finish(row, outcome, until)
            handled.append(Handled(row.id, row.purpose or "", row.dedup_key, status, outcome.error))
        return handled

    # ---- claiming ---------------------------------------------------------------------------------

    @staticmethod
    def _due(now: datetime) -> Any:
        return or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
        )

    async def _claim(
        self, now: datetime, until: datetime, limit: int, purposes: Collection[str] | None = None
    ) -> list[OutboxMessage]:
        database = self.services.database
        due = self._due(now)
        if purposes is not None:
            due = and_(due, OutboxMessage.purpose.in_(list(purposes)))
        claim = {"status": "sending", "claimed_until": until, "attempts": OutboxMessage.attempts + 1}
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
                        .values(**claim)
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
                        .values(**claim)
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
                    .values(status="pending", claimed_until=None, attempts=OutboxMessage.attempts - 1)
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
        purpose = self.purposes.get(row.purpose or "")
        if purpose is not None:
            async with self.services.database.session() as session:
                held = await purpose.hold(session, row, self._clock())
            if isinstance(held, datetime):
                return Outcome("held", "", attempted=False, not_before=held)
            if held is not None:
                return Outcome("dead", held[:MAX_ERROR_CHARS], attempted=False)
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
        now = self._clock()
        async with self.services.database.session() as session:
            message_at, event_at, _ = await window_starts(session, openid)
        if message_at is not None and now - message_at < CUSTOMER_SERVICE_WINDOW:
            return True
        return event_at is not None and now - event_at < EVENT_WINDOW

    async def _send(self, channel: Channel, row: OutboxMessage) -> SendResult | None:
        payload = row.payload if isinstance(row.payload, dict) else {}
        kind = row.kind
        if kind == "notice":  # the channel-neutral notice, in this channel's form (bot.outbound.mapping)
            try:
                kind, payload = render(self.services.config, row.channel, Notice.from_payload(payload))
            except ValueError as exc:  # not a notice, or a value that does not fit its template key
                raise PayloadError(str(exc)) from None
        if kind == "text":
            return await channel.send_text(row.recipient, _text(payload, "content"))
        elif kind == "template":
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
        elif kind == "textcard":
            if row.channel != "wecom":
                raise PayloadError("textcard rows go through the wecom channel")
            data = {"title": _text(payload, "title"), "description": str(payload.get("description") or "")}
            url = payload.get("url")
            return await channel.send_template(
                row.recipient,
                "textcard",
                data,
                url=str(url) if url else None,
                client_msg_id=row.dedup_key or f"outbox-{row.id}",
            )
        elif kind in ("tag", "untag"):
            tag_name = _text(payload, "tag")
            if row.channel != "mp":
                raise PayloadError("tag rows go through the mp channel (user tags are 公众号-only)")
            account = self.services.mp_account()
            tag_id = await account.ensure_tag(tag_name)
            await account.tag_users(tag_id, [row.recipient], remove=row.kind == "untag")
        else:
            raise PayloadError(f"unknown kind {row.kind!r} (text, template, textcard, notice, tag or untag)")
        return None

    # ---- results ----------------------------------------------------------------------------------

    def _backoff(self, attempts: int) -> timedelta:
        seconds = self.config.retry_base_seconds * 2 ** max(0, attempts - 1)
        return timedelta(seconds=min(seconds, self.config.retry_max_seconds))

    async def _finish(self, row: OutboxMessage, outcome: Outcome, until: datetime) -> str:
        """Write the row's result (while the lease is ours); returns the status it got."""
        now = self._clock()
        attempts = row.attempts if outcome.attempted else row.attempts - 1  # the claim counted one
        status = outcome.status
        if status == "retry" and attempts >= self.config.max_attempts:
            status = "dead"
            outcome = Outcome("dead", f"{outcome.error} ({GAVE_UP} {attempts} tries)"[:MAX_ERROR_CHARS])
        values: dict[str, Any] = {"attempts": attempts, "claimed_until": None, "last_error": outcome.error}
        purpose = self.purposes.get(row.purpose or "")
        if outcome.attempted:
            metrics.delivery(row.channel, purpose.source if purpose else "outbox", status, outcome.error)
            if status != "sent" and errcode_of(outcome.error) in CONFIG_ERRCODES:
                log.error("outbox row %s: configuration error, retrying will not help: %s", row.id, outcome.error)
        if status == "sent":
            values.update(status="sent", sent_at=now)
        elif status == "retry":
            values.update(status="pending", next_attempt_at=now + self._backoff(attempts))
        elif status == "held":
            values.update(status="pending", next_attempt_at=outcome.not_before)
        else:
            values.update(status=status)
        async with self.services.database.session() as session:
            result = await session.execute(update(OutboxMessage).where(self._fence(row.id, until)).values(**values))
            if result.rowcount != 1:
                log.warning("outbox row %s: lease lost before the result was written (%s)", row.id, status)
                return "lost"
            if status == "sent" and purpose is not None:
                await purpose.sent(session, row, now)
            if outcome.attempted and row.kind in ("notice", "template", "textcard"):
                record = await record_sent_row(session, row, status, outcome.error, outcome.msg_id, now)
                await apply_early_fate(session, record)
            if status == "dead":
                log.warning("outbox row %s (%s) is dead: %s", row.id, row.purpose or "-", outcome.error)
                await run_dead_hooks(session, row.id, purpose, now)
            await session.commit()
        return status

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
                    await run_dead_hooks(session, row_id, None, now, self.purposes)
            await session.commit()


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"field {key!r} is missing or empty")
    return value
