"""Building the real API channels from the configuration, and closing channels on shutdown."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.channels.base import Channel
from bot.channels.http import RetryPolicy
from bot.channels.tokens import Clock
from bot.channels.wechat_mp import WechatMpChannel
from bot.channels.wecom import WecomChannel
from bot.config import Config
from bot.services import system_clock
from storage.db import Database

log = logging.getLogger(__name__)


def build_api_channels(
    config: Config, database: Database, *, clock: Clock = system_clock, retry: RetryPolicy | None = None
) -> dict[str, Channel]:
    """``mp`` always (the 公众号 API); ``wecom`` only when ``[wecom] corp_id, secret, agent_id`` are set.

    Without WeCom credentials there is no ``wecom`` channel: rows for it fail with a clear error and
    end as dead after ``[outbox] max_attempts``, instead of being sent somewhere else.
    """
    channels: dict[str, Channel] = {
        "mp": WechatMpChannel.from_config(config, database, clock=clock, retry=retry),
    }
    wecom = config.wecom
    if wecom.corp_id and wecom.secret and wecom.agent_id:
        channels["wecom"] = WecomChannel.from_config(config, database, clock=clock, retry=retry)
    return channels


async def close_channels(channels: Mapping[str, object]) -> None:
    """Call ``close()`` on every channel that has one (HTTP sessions, Redis connections)."""
    for name, channel in channels.items():
        close = getattr(channel, "close", None)
        if close is None:
            continue
        try:
            await close()
        except Exception:
            log.exception("closing channel %s failed", name)
