"""The confirmation promises only the routes that are configured."""

from __future__ import annotations

from pathlib import Path

from bot.reports.reporter_notice import outcome_promise
from tests.conftest import make_config
from tests.support.fake_wechat_api import FakeWechatApi, make_api_config

PAGE = "https://example.org/case/abc"


def test_with_no_template_configured_the_promise_is_the_page_and_the_next_message(
    tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi
) -> None:
    config = make_api_config(tmp_path, sqlite_url, fake_wechat)
    promise = outcome_promise(config, "YC20261120-0001", PAGE)
    assert "模板消息" not in promise and "订阅" not in promise
    assert PAGE in promise and "查询 YC20261120-0001" in promise


def test_each_configured_route_is_named(tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi) -> None:
    only_template = make_api_config(tmp_path, sqlite_url, fake_wechat, YCBOT_NOTICES_REPORT_TEMPLATE_ID="T1")
    promise = outcome_promise(only_template, "YC20261120-0001", PAGE)
    assert "模板消息" in promise and "订阅" not in promise and PAGE in promise
    both = make_api_config(
        tmp_path, sqlite_url, fake_wechat,
        YCBOT_NOTICES_REPORT_TEMPLATE_ID="T1", YCBOT_NOTICES_SUBSCRIBE_TEMPLATE_ID="T2",
    )
    assert "订阅处理结果" in outcome_promise(both, "YC20261120-0001", PAGE)


def test_the_sandbox_shows_every_route(tmp_path: Path, sqlite_url: str) -> None:
    promise = outcome_promise(make_config(tmp_path, sqlite_url), "YC20261120-0001", PAGE)
    assert "模板消息" in promise and "订阅处理结果" in promise
