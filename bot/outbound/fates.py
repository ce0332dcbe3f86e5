"""Delivery results that arrive before the send is recorded, and who hears of a failed one.

WeChat pushes a template's or subscription's fate to /wechat; on a fast machine that push can be handled
before the sender has stored its attempt with WeChat's msg_id. ``storage.notice_deliveries.record_fate``
keeps such a result as an early fate, and the sender calls ``apply_early_fate`` right after storing the
attempt. Either way a failed result runs the hooks registered with ``on_failed_fate`` (the reports area
puts the reporter's notice back to waiting, or alerts the coordinator about a department's), in the caller's
transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from storage import notice_deliveries as records
from storage.models import NoticeDelivery

log = logging.getLogger(__name__)

FateHook = Callable[[AsyncSession, NoticeDelivery], Awaitable[None]]
_failed_hooks: list[FateHook] = []


def on_failed_fate(hook: FateHook) -> FateHook:
    if hook not in _failed_hooks:
        _failed_hooks.append(hook)
    return hook


def remove_failed_fate_hook(hook: FateHook) -> None:
    if hook in _failed_hooks:
        _failed_hooks.remove(hook)


async def run_failed_hooks(session: AsyncSession, record: NoticeDelivery) -> None:
    for hook in list(_failed_hooks):
        try:
            async with session.begin_nested():
                await hook(session, record)
        except Exception:
            log.exception("failed-delivery hook %r for record %s failed", getattr(hook, "__name__", hook), record.id)


async def apply_early_fate(session: AsyncSession, record: NoticeDelivery) -> None:
    """``record`` was just stored as accepted: apply a result that came first, and tell of a failure."""
    if await records.take_early_fate(session, record) and record.result == records.FAILED:
        await run_failed_hooks(session, record)
