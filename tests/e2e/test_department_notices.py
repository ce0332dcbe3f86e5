"""New-case notices reach a department's officials as template messages WeChat accepts: every value fits
its key's type (the strict fake refuses otherwise), with the case template or the reminders' to-do one;
``notices test --department`` sends one for real and prints WeChat's answer."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.wechat.limits import value_problem
from tests.conftest import PROJECT_ROOT, RunningService, start_service, stop_service
from tests.support.clock import FakeClock
from tests.support.fake_wechat_api import APP_ID, APP_SECRET, FakeWechatApi, make_api_config
from tests.support.notices import drain
from tests.unit.console.helpers import seed_report
from tests.unit.reminders.helpers import add_contact

CASE_KEYS = ["character_string1", "thing2", "thing3", "time4"]
TODO_KEYS = ["thing1", "time2", "thing3", "thing4"]


@pytest.fixture
async def api_service(  # type: ignore[no-untyped-def]
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str, fake_wechat: FakeWechatApi, clock: FakeClock
) -> AsyncIterator[RunningService]:
    overrides = {"YCBOT_REMINDERS_TEMPLATE_ID": "TPL-TODO", **getattr(request, "param", {})}
    config = make_api_config(tmp_path, sqlite_url, fake_wechat, **overrides)
    fake_wechat.add_template("TPL-CASE", CASE_KEYS)
    fake_wechat.add_template("TPL-TODO", TODO_KEYS)
    running = await start_service(config, object(), clock, platform=fake_wechat)
    yield running
    await stop_service(running)


async def file_case(service: RunningService, fake: FakeWechatApi) -> str:
    services = service.services
    await add_contact(services.database, "市生态环境局", "o-eco", name="赵六", now=services.now())
    fake.follow("o-eco")
    case_no = await seed_report(services, county="盐湖区")
    await drain(services)
    return case_no


@pytest.mark.parametrize("api_service", [{"YCBOT_NOTICES_CASE_TEMPLATE_ID": "TPL-CASE"}], indirect=True)
async def test_a_new_case_reaches_the_department_in_the_case_template(
    api_service: RunningService, fake_wechat: FakeWechatApi
) -> None:
    case_no = await file_case(api_service, fake_wechat)
    [notice] = fake_wechat.sent_to("o-eco")
    assert notice.kind == "template" and notice.body["template_id"] == "TPL-CASE"
    data = {key: item["value"] for key, item in notice.body["data"].items()}
    assert data["character_string1"] == case_no
    assert all(value_problem(key, value) is None for key, value in data.items())
    assert [r for r in fake_wechat.refused if r.recipient == "o-eco"] == []


async def test_without_a_case_template_the_todo_template_gets_values_by_meaning(
    api_service: RunningService, fake_wechat: FakeWechatApi
) -> None:
    case_no = await file_case(api_service, fake_wechat)
    [notice] = fake_wechat.sent_to("o-eco")
    data = {key: item["value"] for key, item in notice.body["data"].items()}
    assert notice.body["template_id"] == "TPL-TODO"
    assert (case_no in data["thing1"] and data["time2"].endswith(":00")) or ":" in data["time2"]
    assert all(value_problem(key, value) is None for key, value in data.items())


async def test_notices_test_sends_a_real_notice_and_prints_wechats_answer(
    api_service: RunningService, fake_wechat: FakeWechatApi, tmp_path: Path
) -> None:
    services = api_service.services
    await add_contact(services.database, "市生态环境局", "o-eco", name="赵六", now=services.now())
    await add_contact(services.database, "市生态环境局", "o-gone", name="钱七", now=services.now())
    fake_wechat.follow("o-eco")  # o-gone has unfollowed: WeChat answers 43004
    cfg = services.config
    config = tmp_path / "cli.toml"
    config.write_text(
        f"""
[wechat]
token = "{cfg.wechat.token}"
encoding_aes_key = "{cfg.wechat.encoding_aes_key}"
app_id = "{APP_ID}"
app_secret = "{APP_SECRET}"
api_base_url = "{fake_wechat.url}"
[channel]
kind = "wechat"
[storage]
url = "{cfg.storage.url}"
media_dir = "{cfg.storage.media_dir}"
[scheduler]
enabled = false
[reminders]
template_id = "TPL-TODO"
seed_file = ""
""",
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "notices", "test", "--department", "生态环境局",
        cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    lines = out.decode().strip().splitlines()
    assert proc.returncode == 1, err.decode()  # one contact refused
    assert any(line.startswith("赵六") and "微信已接收" in line and "errcode 0" in line for line in lines)
    assert any(line.startswith("钱七") and "微信拒绝" in line and "43004" in line for line in lines)
    [delivered] = fake_wechat.sent_to("o-eco")
    assert delivered.body["template_id"] == "TPL-TODO"
