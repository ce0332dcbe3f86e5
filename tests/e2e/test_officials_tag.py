"""Binding tags the official (so WeChat shows them the officials' menu); unbinding removes the tag."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import texts
from bot.outbound.worker import OutboxWorker
from storage.contacts import create_binding_code, resolve_department
from tests.conftest import RunningService, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config


@pytest.fixture
async def api_service(  # type: ignore[no-untyped-def]
    tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi, clock: FakeClock
) -> AsyncIterator[RunningService]:
    running = await start_service(make_api_config(tmp_path, sqlite_url, fake_wechat), object(), clock,
                                  platform=fake_wechat)
    yield running
    await stop_service(running)


async def test_binding_tags_and_unbinding_untags(api_service: RunningService, fake_wechat: FakeWechatApi) -> None:
    services = api_service.services
    async with services.database.session() as session:
        dept = await resolve_department(session, "市生态环境局")
        code, _ = await create_binding_code(session, dept, name="赵六", now=services.now())
        await session.commit()
    assert "绑定成功" in (await api_service.wx.send_text("o-eco", f"绑定 {code}")).content
    await OutboxWorker(services).run_once()
    [tag_id] = [fake_wechat.tags[texts.OFFICIALS_TAG]]
    assert fake_wechat.user_tags["o-eco"] == {tag_id}
    api_service.clock.advance(seconds=5)
    await api_service.wx.send_text("o-eco", "解绑")
    await OutboxWorker(services).run_once()
    assert fake_wechat.user_tags["o-eco"] == set()
