"""Building the channels (sandbox or the real APIs) and the services that carry them; closing channels."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.config import Config
from bot.outbound.channels.base import Channel
from bot.outbound.channels.http import RetryPolicy
from bot.outbound.channels.sandbox import SandboxChannel
from bot.outbound.channels.sandbox_rules import sandbox_templates
from bot.outbound.channels.tokens import Clock
from bot.outbound.channels.wechat_mp import WechatMpChannel
from bot.outbound.channels.wecom import WecomChannel
from bot.services import Services, system_clock
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


def build_channels(config: Config, database: Database, clock: Clock = system_clock) -> dict[str, Channel]:
    """Sandbox channels without credentials (the 公众号 one as strict as WeChat); the real APIs otherwise."""
    inbox = config.media_path() / "sandbox-inbox"
    if config.uses_sandbox:
        return {
            "mp": SandboxChannel(database, inbox, "mp", clock=clock, templates=sandbox_templates(config)),
            "wecom": SandboxChannel(database, inbox, "wecom", clock=clock),
        }
    return build_api_channels(config, database, clock=clock)


def build_services(config: Config) -> Services:
    """The service's dependencies from its configuration: the database and the outbound channels."""
    storage = config.storage
    database = Database(
        storage.url, echo=storage.echo_sql, pool_size=storage.pool_size, max_overflow=storage.max_overflow
    )
    return Services(config=config, database=database, channels=build_channels(config, database))


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
