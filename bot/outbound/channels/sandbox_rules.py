"""The sandbox refuses what WeChat refuses, with WeChat's error codes (the simulator shows the refusal).

What the platform knows comes from this service's own records, since in the sandbox every push passes
through our callback: followers and their last message (``wechat_users``), the last CLICK/follow/scan
(``wechat_event_windows``), subscription grants (``subscription_grants``) and what the sandbox delivered
(``sandbox_messages``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.outbound.channels.base import ChannelError
from bot.wechat.limits import TEXT_MAX_BYTES, utf8_len, value_problem
from bot.wechat.windows import Windows
from storage.event_windows import window_starts
from storage.models import SandboxMessage
from storage.notice_deliveries import holds_grant

SANDBOX_TEMPLATE_ID = "sandbox-template"  # stands for any template the sandbox account has not configured
REFUSED = "refused"  # payload key of a refused message: {"errcode": …, "errmsg": …}


class SandboxRefusal(ChannelError):
    """WeChat would have refused this message; ``errcode`` is the code it answers."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"sandbox: errcode {errcode} ({errmsg})", errcode=errcode)
        self.errmsg = errmsg


def sandbox_templates(config: Config) -> frozenset[str]:
    """The template ids the sandbox account "has": the configured ones and the placeholder."""
    notices = config.notices
    ids = {
        config.reminders.template_id,
        notices.report_template_id,
        notices.subscribe_template_id,
        notices.case_template_id,
        SANDBOX_TEMPLATE_ID,
    }
    return frozenset(i for i in ids if i)


async def _delivered_since(session: AsyncSession, recipient: str, since: datetime | None) -> int:
    """Customer-service texts the sandbox accepted for ``recipient`` since ``since``."""
    if since is None:
        return 0
    payloads = await session.scalars(
        select(SandboxMessage.payload).where(
            SandboxMessage.channel == "mp",
            SandboxMessage.kind == "text",
            SandboxMessage.recipient == recipient,
            SandboxMessage.created_at >= since,
        )
    )
    return sum(1 for payload in payloads if not (isinstance(payload, dict) and REFUSED in payload))


async def check_text(session: AsyncSession, recipient: str, content: str, now: datetime) -> None:
    """A customer-service text: a follower (43004), ≤ 2,048 bytes (45002), inside a window (45015/45047)."""
    message_at, event_at, following = await window_starts(session, recipient)
    if not following:
        raise SandboxRefusal(43004, "require subscribe")
    if utf8_len(content) > TEXT_MAX_BYTES:
        raise SandboxRefusal(45002, "content size out of limit")
    windows = Windows(
        message_at=message_at,
        message_sends=await _delivered_since(session, recipient, message_at),
        event_at=event_at,
        event_sends=await _delivered_since(session, recipient, event_at),
    )
    errcode = windows.refusal(now)
    if errcode == 45015:
        raise SandboxRefusal(45015, "response out of time limit or subscription is canceled")
    if errcode == 45047:
        raise SandboxRefusal(45047, "out of response count limit")


def check_data(data: dict[str, Any]) -> None:
    """Typed values by key prefix (47003)."""
    if not data:
        raise SandboxRefusal(47003, "argument invalid! data is empty")
    for key, raw in data.items():
        value = raw.get("value") if isinstance(raw, dict) else raw
        if (problem := value_problem(str(key), value)) is not None:
            raise SandboxRefusal(47003, f"argument invalid! data.{key}.value invalid: {problem}")


async def check_template(
    session: AsyncSession, recipient: str, template_id: str, data: dict[str, Any], known: Collection[str]
) -> None:
    """A template message: a template the account has (40037), a follower (43004), typed values (47003)."""
    if template_id not in known:
        raise SandboxRefusal(40037, "invalid template_id")
    _, _, following = await window_starts(session, recipient)
    if not following:
        raise SandboxRefusal(43004, "require subscribe")
    check_data(data)


async def require_grant(
    session: AsyncSession, recipient: str, template_id: str, data: dict[str, Any], known: Collection[str]
) -> None:
    """A subscription notification needs the user's accepted, unused grant for this template (43101). The
    sandbox shares the grants table with the service, whose route spends the grant once the send is accepted:
    spending it here too would use up two one-time grants per send."""
    if template_id not in known:
        raise SandboxRefusal(40037, "invalid template_id")
    check_data(data)
    if not await holds_grant(session, recipient, template_id):
        raise SandboxRefusal(43101, "user refuse to accept the msg")

