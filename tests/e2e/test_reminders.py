"""Reminders end to end: officials bind over the callback, the operator runs the real CLI in a separate
process (``reminders dispatch --now``) against the same SQLite file and a fake WeChat API on loopback,
and exactly the expected template messages arrive — once."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp
import pytest

from bot import texts
from bot.tasks import workdays
from tests.conftest import PROJECT_ROOT, RunningService
from tests.support.fake_wechat_api import AGENT_ID, APP_ID, APP_SECRET, CORP_ID, CORP_SECRET, FakeWechatApi

TEMPLATE_PATH = "/cgi-bin/message/template/send"
TEMPLATE_ID = "TPL-REMIND-1"


def _tasks_file(path: Path) -> Path:
    # B is due 7 working days after 2025-12-30, so it is on its before-7 rung that day.
    b_due = workdays.add_working_days(workdays.year_end_deadline(2025), 6)
    path.write_text(
        f"""
[[task]]
id = "TA"
citation = "二（二）2"
title = "建立新污染物环境调查监测体系"
lead_unit = "市生态环境局"
lead_named = true
local_units = ["盐湖区"]
deadline = 2025-12-31

[[task]]
id = "TB"
citation = "二（三）1"
title = "发布重点管控新污染物企业名单"
lead_unit = "市生态环境局"
lead_named = true
local_units = ["盐湖区"]
deadline = {b_due.isoformat()}

[[task]]
id = "TC"
citation = "二（三）6"
title = "发布抗菌药物临床应用监测报告"
lead_unit = "市卫健委"
lead_named = true
local_units = "none"
deadline = 2025-12-31
""",
        encoding="utf-8",
    )
    return path


def _cli_config(path: Path, service: RunningService, fake: FakeWechatApi) -> Path:
    cfg = service.config
    path.write_text(
        f"""
[server]
public_base_url = "{service.url}"
[wechat]
token = "{cfg.wechat.token}"
encoding_aes_key = "{cfg.wechat.encoding_aes_key}"
app_id = "{APP_ID}"
app_secret = "{APP_SECRET}"
api_base_url = "{fake.url}"
[wecom]
corp_id = "{CORP_ID}"
secret = "{CORP_SECRET}"
agent_id = {AGENT_ID}
api_base_url = "{fake.url}"
[channel]
kind = "wechat"
[storage]
url = "{cfg.storage.url}"
media_dir = "{cfg.storage.media_dir}"
[scheduler]
enabled = false
[reminders]
template_id = "{TEMPLATE_ID}"
seed_file = ""
""",
        encoding="utf-8",
    )
    return path


async def cli(config: Path, *args: str) -> tuple[int, str, str]:
    """``python -m bot --config FILE ARGS`` in its own process (the fake API keeps answering meanwhile)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        *args,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    return proc.returncode or 0, out.decode(), err.decode()


async def _invite(config: Path, department: str, name: str) -> str:
    code, out, err = await cli(config, "contacts", "invite", "--department", department, "--name", name)
    assert code == 0, err
    return out.strip().splitlines()[-1]


@pytest.fixture
async def setup(service: RunningService, fake_wechat: FakeWechatApi, tmp_path: Path):  # type: ignore[no-untyped-def]
    config = _cli_config(tmp_path / "cli.toml", service, fake_wechat)
    service.wx.platform = fake_wechat  # WeChat sees the officials' messages (they follow the account)
    fake_wechat.add_template(TEMPLATE_ID, ["thing1", "time2", "thing3", "thing4"])
    code, out, err = await cli(config, "tasks", "import", str(_tasks_file(tmp_path / "tasks.toml")))
    assert code == 0, err
    assert "3 created" in out
    return config


async def test_bind_dispatch_exactly_once(service: RunningService, fake_wechat: FakeWechatApi, setup: Path) -> None:
    config, wx = setup, service.wx
    county_code = await _invite(config, "盐湖区", "王五")
    health_code = await _invite(config, "卫健委", "李四")

    reply = await wx.send_text("o-county", f"绑定 {county_code}")
    assert "绑定成功" in reply.content and "盐湖区政府" in reply.content
    assert "绑定成功" in (await wx.send_text("o-health", f"绑定 {health_code.lower()}")).content
    assert texts.BIND_INVALID in (await wx.send_text("o-other", f"绑定 {county_code}")).content  # single use
    tasks_reply = (await wx.send_text("o-county", "我的任务")).content
    assert "TA" in tasks_reply and "TB" in tasks_reply and "TC" not in tasks_reply

    code, out, err = await cli(config, "reminders", "dispatch", "--now", "2025-12-30T10:00:00+08:00", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["planned"] == 3 and summary["messages"] == 2 and summary["sent"] == 2

    county = fake_wechat.sent_to("o-county")
    health = fake_wechat.sent_to("o-health")
    assert len(county) == 1 and len(health) == 1
    assert len([d for d in fake_wechat.delivered if d.kind == "template"]) == 2
    body = county[0].body
    assert body["template_id"] == TEMPLATE_ID and body["client_msg_id"].startswith("rm")
    assert body["data"]["thing1"]["value"] == "2项任务提醒"
    assert body["data"]["time2"]["value"] == "2025年12月31日 23:59"  # a time key needs a time of day
    assert body["data"]["thing4"]["value"] == "盐湖区政府"
    assert health[0].body["data"]["thing1"]["value"] == "发布抗菌药物临床应用监测报告"
    assert health[0].body["data"]["thing3"]["value"] == "还剩1个工作日"

    async with aiohttp.ClientSession() as http, http.get(body["url"]) as page:
        assert page.status == 200
        html = await page.text()
    assert "TA" in html and "TB" in html and "还剩7个工作日" in html and "TC" not in html and "o-county" not in html

    calls = fake_wechat.count(TEMPLATE_PATH)
    code, out, err = await cli(config, "reminders", "dispatch", "--now", "2025-12-30T10:00:00+08:00", "--json")
    assert code == 0, err
    assert json.loads(out)["sent"] == 0
    assert fake_wechat.count(TEMPLATE_PATH) == calls, "a second run sends nothing new"

    assert "已确认收到（2条提醒）" in (await wx.send_text("o-county", "收到")).content
    done = (await wx.send_text("o-county", "完成 ta")).content
    assert "盐湖区政府完成了任务 TA" in done and "王五" in done
    assert (
        texts.DONE_ALREADY.format(id="TA", period=texts.PERIOD_ONCE)
        in (await wx.send_text("o-county", "完成 TA")).content
    )

    # Next day: TA is due but done for 盐湖区政府; TB has no rung; TC is due for 市卫健委.
    code, out, err = await cli(config, "reminders", "dispatch", "--now", "2025-12-31T10:00:00+08:00")
    assert code == 0, err
    assert len(fake_wechat.sent_to("o-county")) == 1
    assert [d.body["data"]["thing3"]["value"] for d in fake_wechat.sent_to("o-health")] == ["还剩1个工作日", "今天到期"]

    code, out, err = await cli(config, "tasks", "show", "TA", "--json")
    assert code == 0, err
    shown = json.loads(out)
    county_status = next(d for d in shown["departments"] if d["department"] == "盐湖区政府")
    assert county_status["status"] == "done" and "王五" in county_status["done_by"]
    [delivery] = [d for d in shown["deliveries"] if d["department"] == "盐湖区政府"]
    assert delivery["status"] == "sent" and delivery["acknowledged_at"]

    code, out, err = await cli(config, "reminders", "list", "--json")
    assert code == 0, err
    assert sorted(m["status"] for m in json.loads(out)) == ["sent", "sent", "sent"]


async def test_not_following_marks_the_contact_and_stops(
    service: RunningService, fake_wechat: FakeWechatApi, setup: Path
) -> None:
    config, wx = setup, service.wx
    assert "绑定成功" in (await wx.send_text("o-gone", f"绑定 {await _invite(config, '卫健委', '钱')}")).content
    assert "绑定成功" in (await wx.send_text("o-eco", f"绑定 {await _invite(config, '市生态环境局', '赵')}")).content
    fake_wechat.set_errcode_for("o-gone", 43004)
    code, out, err = await cli(config, "reminders", "dispatch", "--now", "2025-12-30T10:00:00+08:00", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["dead"] == 1 and len(summary["unreachable_contacts"]) == 1
    code, out, _ = await cli(config, "contacts", "list", "--json")
    statuses = {c["name"]: c["status"] for c in json.loads(out)}
    assert statuses == {"钱": "unreachable", "赵": "active"}
    tries = len(fake_wechat.calls_to(TEMPLATE_PATH))
    code, out, err = await cli(config, "reminders", "dispatch", "--now", "2025-12-31T10:00:00+08:00", "--json")
    assert code == 0, err
    gone_calls = [c for c in fake_wechat.calls_to(TEMPLATE_PATH)[tries:] if c.body.get("touser") == "o-gone"]
    assert gone_calls == [], "no more attempts to the contact that does not follow"


async def test_chat_and_cli_refuse_bad_input_clearly(
    service: RunningService, fake_wechat: FakeWechatApi, setup: Path
) -> None:
    config, wx = setup, service.wx
    for text in ("我的任务", "收到", "完成 TA", "解绑"):
        assert texts.NOT_OFFICIAL in (await wx.send_text("o-stranger", text)).content
    assert texts.BIND_USAGE in (await wx.send_text("o-stranger", "绑定")).content
    assert texts.BIND_MALFORMED in (await wx.send_text("o-stranger", "绑定 12")).content
    assert texts.BIND_HELP in (await wx.click("o-stranger", "BIND_HELP")).content
    assert "绑定成功" in (await wx.send_text("o-o", f"绑定 {await _invite(config, '盐湖区', '')}")).content
    usage = (await wx.send_text("o-o", "完成")).content
    assert "请在“完成”后加上任务编号" in usage
    assert "例如“完成 TA”" in usage or "例如“完成 TB”" in usage  # one of the department's own tasks
    assert "没有编号为 T404 的任务" in (await wx.send_text("o-o", "完成 T404")).content
    assert "没有分配给" in (await wx.send_text("o-o", "完成 TC")).content
    assert texts.ACK_NONE in (await wx.send_text("o-o", "收到")).content
    assert "盐湖区政府" in (await wx.click("o-o", "MY_TASKS")).content
    assert "不再发送" in (await wx.send_text("o-o", "解绑")).content
    assert texts.NOT_OFFICIAL in (await wx.send_text("o-o", "我的任务")).content

    async with aiohttp.ClientSession() as http:
        for token in ("unknown-token-0123", "<script>", "x" * 200):
            async with http.get(f"{service.url}/reminders/m/{token}") as page:
                assert page.status == 404 and texts.REMINDER_PAGE_MISSING in await page.text()

    for args, expected in [
        (("reminders", "dispatch", "--now", "yesterday"), "not an ISO 8601 time"),
        (("tasks", "import", "/nonexistent/tasks.toml"), "no such file"),
        (("contacts", "invite", "--department", "火星局"), "可选"),
        (("tasks", "done", "TA", "--department", "市卫健委"), "没有分配给"),
        (("reminders", "preview", "--days", "0"), "--days"),
        (("contacts", "remove", "--id", "999"), "no such current contact"),
    ]:
        code, _out, err = await cli(config, *args)
        assert code != 0, args
        assert expected in err, (args, err)
        assert "Traceback" not in err
