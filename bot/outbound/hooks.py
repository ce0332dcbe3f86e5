"""What areas hook into the outbox worker, by the row's ``purpose``.

Dead rows: other areas learn about them through hooks keyed by the row's ``purpose``::

    from bot.outbound.hooks import dead_errcode, on_dead

    @on_dead("reminder")
    async def contact_unreachable(session, row):   # row: storage.models.OutboxMessage
        if dead_errcode(row) == 43004: ...          # the contact no longer follows the account

A hook runs in the transaction that marks the row dead, inside a savepoint: its writes commit with the
row; if it raises, the error is logged, its writes are rolled back and the row is dead all the same.
``row.last_error`` reads ``errcode <n>: <message>`` when WeChat gave an error code.

Purposes: an area whose rows need more than sending registers a ``Purpose`` (``register_purpose``), built
once per worker from its services. Before a row of that purpose is sent, ``hold`` may keep it back (a
datetime: not before then, no attempt counted — reminders keep out of quiet hours this way) or drop it (a
reason: the row is dead without an attempt); ``sent`` and ``dead`` run in the transaction that writes the
row's result (``dead`` in a savepoint, as the hooks above). Reminder digests use this, so every message
the service sends goes through this one claim/lease/backoff engine.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbound.channels.base import PERMANENT_ERRCODES
from bot.services import Services
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

DeadHook = Callable[[AsyncSession, OutboxMessage], Awaitable[None]]
ERRCODE = re.compile(r"^errcode (-?\d+):")
GAVE_UP = "gave up after"  # in the error of a row that died of too many temporary failures

_dead_hooks: dict[str, list[DeadHook]] = {}


class Purpose(Protocol):
    """What an area does around the sending of its rows (see the module's docstring)."""

    source: str  # the ``source`` label of its sends in the deliveries metric

    async def hold(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> datetime | str | None:
        """None: send now; a datetime: not before then; a string: drop the row, with this reason."""
        ...

    async def sent(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None: ...

    async def dead(self, session: AsyncSession, row: OutboxMessage, now: datetime) -> None: ...


PurposeFactory = Callable[[Services], Purpose]
_purposes: dict[str, PurposeFactory] = {}


def register_purpose(name: str, factory: PurposeFactory) -> None:
    """Every worker built from now on handles rows of purpose ``name`` with ``factory(services)``."""
    _purposes[name] = factory



def purposes_for(services: Services) -> dict[str, Purpose]:
    """The registered purposes, built for one worker."""
    return {name: factory(services) for name, factory in _purposes.items()}


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


def refused(row: OutboxMessage) -> bool:
    """Whether the channel refused ``row`` for good (an error code retrying cannot fix), rather than the
    worker giving up after ``max_attempts`` or a hold dropping it."""
    code = dead_errcode(row)
    return code is not None and code in PERMANENT_ERRCODES and GAVE_UP not in (row.last_error or "")



async def run_dead_hooks(
    session: AsyncSession,
    row_id: int,
    purpose: Purpose | None = None,
    now: datetime | None = None,
    purposes: dict[str, Purpose] | None = None,
) -> None:
    """Call the hooks registered for the dead row's purpose (and its ``Purpose``), each in its own savepoint."""
    row = await session.get(OutboxMessage, row_id, populate_existing=True)
    if row is None:
        return
    if purpose is None and purposes:
        purpose = purposes.get(row.purpose or "")
    hooks: list[DeadHook] = list(_dead_hooks.get(row.purpose, []))
    if purpose is not None:
        moment = now or row.created_at
        hooks.append(lambda s, r: purpose.dead(s, r, moment))
    for hook in hooks:
        try:
            async with session.begin_nested():
                await hook(session, row)
        except Exception:
            log.exception("dead-row hook %r for outbox row %s failed", getattr(hook, "__name__", hook), row_id)
