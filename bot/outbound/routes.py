"""Delivering a notice by the first route WeChat accepts, with one delivery record per attempt.

A ``routed`` outbox row (``bot.reports.reporter_notice`` writes them) carries one message per route; each
claim of the row tries, in order:

1. the customer-service text — only to a follower while a window is open (48 hours after the user's last
   message, or the 1-minute window after a tap/follow/scan);
2. the template message (``payload["template"]``), with the row's dedup key as ``client_msg_id``;
3. the subscription notification (``payload["subscribe"]``, bizsend) when the user holds a grant;
4. else the notice waits for the user's next message (``wake_waiting``); it never expires.

Once means once. Each attempt is recorded and committed *before* WeChat is called. A customer-service text
has no key WeChat deduplicates on, so a text that may have reached WeChat — the call timed out or the
connection broke after sending, or the process died with the attempt still ``sending`` — is never sent
again: it is marked ``uncertain`` and the notice goes on by the routes WeChat deduplicates (template,
subscription). With neither of those the notice ends ``uncertain`` and the console shows it so.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.outbound.channels.base import ChannelError
from bot.outbound.fates import apply_early_fate
from bot.services import Services
from storage import notice_deliveries as records
from storage.event_windows import window_starts
from storage.models import NoticeDelivery, OutboxMessage

log = logging.getLogger(__name__)

ROUTED_KIND = "routed"
AUDIENCE_REPORTER = "reporter"
ROUTE_TEXT, ROUTE_TEMPLATE, ROUTE_SUBSCRIBE, ROUTE_WAIT = "text", "template", "subscribe", "wait"
NO_GRANT = 43101

InWindow = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True)
class RouteOutcome:
    """What became of the row: sent (a route accepted it, or a text may have arrived), retry or waiting."""

    status: str
    error: str = ""


def _describe(exc: ChannelError) -> str:
    return (f"errcode {exc.errcode}: {exc}" if exc.errcode is not None else str(exc))[:records.REASON_MAX]


class RoutedDelivery:
    """One claim of one routed row."""

    def __init__(self, services: Services, row: OutboxMessage, in_window: InWindow) -> None:
        self.services = services
        self.row = row
        self.in_window = in_window
        payload = row.payload if isinstance(row.payload, dict) else {}
        self.payload: dict[str, Any] = payload
        self.temporary_error = ""

    async def _start(self, route: str) -> int:
        async with self.services.database.session() as session:
            record = await records.start_attempt(
                session,
                outbox_id=self.row.id,
                notice_key=self.row.dedup_key or f"outbox-{self.row.id}",
                audience=AUDIENCE_REPORTER,
                route=route,
                now=self.services.now(),
            )
            await session.commit()
            return record.id

    async def _settle(self, record_id: int, result: str, *, reason: str = "", msg_id: str = "") -> str:
        """Store the attempt's result; an accepted one may meet its fate, already pushed: the final result."""
        async with self.services.database.session() as session:
            await records.settle(session, record_id, result, self.services.now(), reason=reason, msg_id=msg_id)
            if result == records.ACCEPTED:
                record = await session.get(NoticeDelivery, record_id, populate_existing=True)
                if record is not None:
                    await apply_early_fate(session, record)
                    result = record.result
            await session.commit()
        return result

    async def _text_may_have_arrived(self) -> bool:
        """Settle attempts a dead process left ``sending`` as uncertain; True when a text may have arrived."""
        async with self.services.database.session() as session:
            attempts = await records.attempts_of(session, self.row.id)
            for attempt in attempts:
                if attempt.result == records.SENDING:
                    await records.settle(
                        session, attempt.id, records.UNCERTAIN, self.services.now(), reason="interrupted in flight"
                    )
                    attempt.result = records.UNCERTAIN
            await session.commit()
        return any(a.route == ROUTE_TEXT and a.result == records.UNCERTAIN for a in attempts)

    async def run(self) -> RouteOutcome:
        channel = self.services.channel("mp")
        text_uncertain = await self._text_may_have_arrived()
        if not text_uncertain and await self._following() and await self.in_window(self.row.recipient):
            sent = await self._try_text(channel)
            if sent is True:
                return RouteOutcome("sent")
            text_uncertain = sent is None
        if await self._try_template(channel) or await self._try_subscription(channel):
            return RouteOutcome("sent")
        if text_uncertain:
            return RouteOutcome("sent", "uncertain: the customer-service text may have arrived; not sent again")
        if self.temporary_error and self.row.attempts < self.services.config.outbox.max_attempts:
            return RouteOutcome("retry", self.temporary_error)
        await self._wait()
        return RouteOutcome("waiting", "no route open: waiting for the reporter's next message")

    async def _following(self) -> bool:
        """Not known to have unfollowed (WeChat would refuse the text with 43004)."""
        async with self.services.database.session() as session:
            _, _, following = await window_starts(session, self.row.recipient)
        return following

    async def _try_text(self, channel: Any) -> bool | None:
        """True: accepted; False: refused (next route); None: may have arrived (never sent again)."""
        content = str(self.payload.get("content") or "")
        if not content:
            return False
        record_id = await self._start(ROUTE_TEXT)
        try:
            await channel.send_text(self.row.recipient, content)
        except ChannelError as exc:
            if exc.errcode is None:  # no answer we can read: the text may have reached WeChat
                await self._settle(record_id, records.UNCERTAIN, reason=_describe(exc))
                return None
            await self._settle(record_id, records.FAILED, reason=_describe(exc))
            return False
        await self._settle(record_id, records.DELIVERED)
        return True

    async def _try_template(self, channel: Any) -> bool:
        message = self.payload.get("template")
        if not isinstance(message, dict) or not message.get("template_id"):
            return False
        record_id = await self._start(ROUTE_TEMPLATE)
        try:
            result = await channel.send_template(
                self.row.recipient,
                str(message["template_id"]),
                dict(message.get("data") or {}),
                url=str(self.payload.get("url") or "") or None,
                client_msg_id=self.row.dedup_key or f"outbox-{self.row.id}",
            )
        except ChannelError as exc:
            await self._settle(record_id, records.FAILED, reason=_describe(exc))
            if not exc.permanent:
                self.temporary_error = _describe(exc)
            return False
        accepted = records.ACCEPTED if result.msg_id else records.DELIVERED
        # A fate already pushed as failed (blocked): the notice goes on by the next route.
        return await self._settle(record_id, accepted, msg_id=result.msg_id) != records.FAILED

    async def _try_subscription(self, channel: Any) -> bool:
        message = self.payload.get("subscribe")
        if not isinstance(message, dict) or not message.get("template_id"):
            return False
        template_id = str(message["template_id"])
        async with self.services.database.session() as session:
            if not await records.holds_grant(session, self.row.recipient, template_id):
                return False
        record_id = await self._start(ROUTE_SUBSCRIBE)
        try:
            result = await channel.send_subscription(
                self.row.recipient,
                template_id,
                dict(message.get("data") or {}),
                page=str(self.payload.get("url") or "") or None,
            )
        except ChannelError as exc:
            await self._settle(record_id, records.FAILED, reason=_describe(exc))
            if exc.errcode == NO_GRANT:
                await self._use_grant(template_id)  # WeChat holds no grant: ours is spent too
            elif not exc.permanent:
                self.temporary_error = _describe(exc)
            return False
        await self._use_grant(template_id)
        accepted = records.ACCEPTED if result.msg_id else records.DELIVERED
        return await self._settle(record_id, accepted, msg_id=result.msg_id) != records.FAILED

    async def _use_grant(self, template_id: str) -> None:
        async with self.services.database.session() as session:
            await records.use_grant(session, self.row.recipient, template_id, self.services.now())
            await session.commit()

    async def _wait(self) -> None:
        """One ``waiting`` record per wait (not one per claim of a row that stays waiting)."""
        async with self.services.database.session() as session:
            attempts = await records.attempts_of(session, self.row.id)
            if attempts and attempts[-1].route == ROUTE_WAIT:
                return
            await records.start_attempt(
                session,
                outbox_id=self.row.id,
                notice_key=self.row.dedup_key or f"outbox-{self.row.id}",
                audience=AUDIENCE_REPORTER,
                route=ROUTE_WAIT,
                now=self.services.now(),
                result=records.WAITING,
            )
            await session.commit()


async def deliver_routed(services: Services, row: OutboxMessage, in_window: InWindow) -> RouteOutcome:
    return await RoutedDelivery(services, row, in_window).run()
