"""Which channels the service builds from its configuration, and that they are closed on shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.outbound.channels.base import Channel
from bot.outbound.channels.factory import build_api_channels, build_channels, close_channels
from bot.outbound.channels.sandbox import SandboxChannel
from bot.outbound.channels.tokens import DatabaseTokenCache, RedisTokenCache
from bot.outbound.channels.wechat_mp import WechatMpChannel
from bot.outbound.channels.wecom import WecomChannel
from storage.db import Database
from tests.conftest import make_config
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config


async def test_api_channels_from_config(tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi):
    config = make_api_config(tmp_path, sqlite_url, fake_wechat)
    database = Database(sqlite_url)
    channels = build_channels(config, database)
    try:
        assert isinstance(channels["mp"], WechatMpChannel) and isinstance(channels["wecom"], WecomChannel)
        assert all(isinstance(c, Channel) for c in channels.values())
        mp = channels["mp"]
        assert isinstance(mp, WechatMpChannel)
        assert mp.api.base_url == fake_wechat.url
        assert isinstance(mp.tokens.cache, DatabaseTokenCache)
        assert mp.api.timeout.total == config.wechat.http_timeout_seconds
    finally:
        await close_channels(channels)
        await database.dispose()


async def test_no_wecom_channel_without_wecom_credentials(tmp_path, sqlite_url, fake_wechat):
    config = make_api_config(tmp_path, sqlite_url, fake_wechat, YCBOT_WECOM_CORP_ID="")
    database = Database(sqlite_url)
    channels = build_api_channels(config, database)
    try:
        assert set(channels) == {"mp"}
    finally:
        await close_channels(channels)
        await database.dispose()


async def test_redis_url_selects_the_redis_cache(tmp_path, sqlite_url, fake_wechat):
    config = make_api_config(tmp_path, sqlite_url, fake_wechat, YCBOT_REDIS_URL="redis://127.0.0.1:6379/0")
    database = Database(sqlite_url)
    channels = build_api_channels(config, database)
    try:
        mp = channels["mp"]
        assert isinstance(mp, WechatMpChannel) and isinstance(mp.tokens.cache, RedisTokenCache)
        assert mp.tokens.cache.prefix == "ycbot:"
    finally:
        await close_channels(channels)
        await database.dispose()


async def test_sandbox_without_credentials(tmp_path, sqlite_url):
    config = make_config(tmp_path, sqlite_url)
    database = Database(sqlite_url)
    try:
        channels = build_channels(config, database)
        assert all(isinstance(c, SandboxChannel) for c in channels.values())
        await close_channels(channels)  # channels without close() are skipped
    finally:
        await database.dispose()


async def test_bad_api_settings_are_refused_with_a_clear_message(tmp_path, sqlite_url, fake_wechat):
    database = Database(sqlite_url)
    try:
        for overrides, message in (
            ({"YCBOT_WECHAT_API_BASE_URL": "ftp://example.org"}, "api_base_url must start with http"),
            ({"YCBOT_WECHAT_HTTP_TIMEOUT_SECONDS": "0"}, "timeout must be positive"),
        ):
            config = make_api_config(tmp_path, sqlite_url, fake_wechat, **overrides)
            with pytest.raises(ValueError, match=message):
                build_api_channels(config, database)
        config = make_api_config(tmp_path, sqlite_url, fake_wechat, YCBOT_WECHAT_APP_SECRET="")
        with pytest.raises(ValueError, match="app_id and app_secret"):
            WechatMpChannel.from_config(config, database)
    finally:
        await database.dispose()
