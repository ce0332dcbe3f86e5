"""What handlers and jobs may use, built once per process and passed in (tests and benchmarks swap parts).

Also the app keys under which the web app carries them (``SERVICES``, ``READY``, ``SCHEDULER``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.config import Config
from storage.db import Database

if TYPE_CHECKING:  # annotations only: at run time the kit depends on neither the channels nor the knowledge base
    from bot.outbound.channels.base import Channel, MpAccount
    from knowledge.answerer import KnowledgeBase
    from scheduler.runner import ServiceScheduler


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """The service's dependencies. ``clock`` returns an aware UTC datetime; tests pass a fixed one."""

    config: Config
    database: Database
    channels: dict[str, Channel] = field(default_factory=dict)
    knowledge: KnowledgeBase | None = None
    clock: Callable[[], datetime] = system_clock
    extras: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    def channel(self, name: str) -> Channel:
        """The outbound channel called ``name`` (``mp`` or ``wecom``)."""
        try:
            return self.channels[name]
        except KeyError:
            raise LookupError(f"no outbound channel {name!r} is configured") from None

    def mp_account(self) -> MpAccount:
        """The 公众号-only API (user media, menus, tags): the ``account`` of the ``mp`` channel."""
        account = getattr(self.channel("mp"), "account", None)
        if account is None:
            raise LookupError("the mp channel has no 公众号 account (media, menus, tags)")
        return account  # type: ignore[no-any-return]


SERVICES = web.AppKey("services", Services)
READY = web.AppKey("ready", asyncio.Event)
SCHEDULER: web.AppKey[ServiceScheduler] = web.AppKey("scheduler")
