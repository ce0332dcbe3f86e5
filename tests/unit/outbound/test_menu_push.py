"""``python -m bot menu push`` against the fake API, run as the operator runs it (a real process)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.menu import build_menu
from tests.support.fake_wechat_api import FakeWechatApi, fake_api_env

PROJECT_ROOT = Path(__file__).resolve().parents[3]


async def run_cli(
    tmp_path: Path, fake: FakeWechatApi, *args: str, extra_env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YCBOT_")}
    env.update(fake_api_env(fake))
    env.update(extra_env or {})
    env.update(
        {
            "YCBOT_STORAGE_URL": f"sqlite:///{tmp_path}/cli.db",
            "YCBOT_STORAGE_MEDIA_DIR": str(tmp_path / "media"),
            "PYTHONWARNINGS": "error::ResourceWarning",
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-X", "dev", "-m", "bot", "--config", str(PROJECT_ROOT / "config.example.toml"), *args,
        cwd=PROJECT_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_menu_push_creates_the_menu(tmp_path: Path, fake_wechat: FakeWechatApi):
    code, out, err = await run_cli(tmp_path, fake_wechat, "menu", "push")
    assert code == 0, err
    assert out.strip() == "menu pushed: " + " / ".join(b["name"] for b in build_menu()["button"])
    assert fake_wechat.menus == [build_menu()]
    assert fake_wechat.count("/cgi-bin/stable_token") == 1
    assert "Unclosed" not in err  # the HTTP session was closed


async def test_menu_push_json(tmp_path: Path, fake_wechat: FakeWechatApi):
    code, out, err = await run_cli(tmp_path, fake_wechat, "menu", "push", "--json")
    assert code == 0, err
    assert json.loads(out) == build_menu()


async def test_menu_push_with_a_wrong_secret(tmp_path: Path, fake_wechat: FakeWechatApi):
    wrong = {"YCBOT_WECHAT_APP_SECRET": "not-the-secret"}
    code, _out, err = await run_cli(tmp_path, fake_wechat, "menu", "push", extra_env=wrong)
    assert code != 0
    assert "40125" in err and "not-the-secret" not in err and "Traceback" not in err


async def test_menu_push_failure_is_a_clear_message(tmp_path: Path, fake_wechat: FakeWechatApi):
    fake_wechat.fail_next("/cgi-bin/menu/create", errcode=40018, errmsg="invalid button name size")
    code, _out, err = await run_cli(tmp_path, fake_wechat, "menu", "push")
    assert code != 0
    assert "菜单创建失败" in err and "40018" in err
    assert "Traceback" not in err
    assert fake_wechat.menus == []


async def test_officials_get_the_personalised_menu_and_citizens_do_not(
    tmp_path: Path, fake_wechat: FakeWechatApi
) -> None:
    code, _out, err = await run_cli(tmp_path, fake_wechat, "menu", "push")
    assert code == 0, err
    [tag_id] = fake_wechat.tags.values()
    assert fake_wechat.conditional_menus == {tag_id: build_menu(officials=True)}
    fake_wechat.follow("o-official", "o-citizen")
    fake_wechat.user_tags["o-official"].add(tag_id)  # as binding tags them (see test_officials_tag)

    def keys(openid: str) -> set[str]:
        shown = fake_wechat.menu_for(openid) or {}
        return {s["key"] for b in shown.get("button", []) for s in b.get("sub_button", [])}

    assert {"MY_TASKS", "BIND_HELP"} <= keys("o-official")
    assert not {"MY_TASKS", "BIND_HELP"} & keys("o-citizen")
