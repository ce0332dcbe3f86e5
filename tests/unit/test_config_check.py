"""Template key maps and published secrets: refused by ``config check`` and at start-up, naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import create_app
from bot.cli import main
from bot.config import ConfigError
from bot.reports.keymaps import key_map_problems
from tests.conftest import make_config
from tests.support.fake_wechat_api import APP_ID, APP_SECRET

WRONG_CASE_KEYS = 'case_template_keys = { case_no = "character_string1", category = "time2", county = "thing3" }'


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_key_maps_fit_every_value(tmp_path: Path, sqlite_url: str) -> None:
    assert key_map_problems(make_config(tmp_path, sqlite_url)) == []


def test_config_check_names_the_mismatched_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "c.toml", f'[notices]\ncase_template_id = "TPL-CASE"\n{WRONG_CASE_KEYS}\n')
    assert main(["--config", str(config), "config", "check"]) == 1
    out = capsys.readouterr().out
    assert "[notices] case_template_keys.category = 'time2'" in out and "24-hour time" in out


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ('[notices]\nreport_template_keys = { case_no = "character_string1", status = "thing2x" }', "status"),
        ('[notices]\nreport_template_keys = { case_no = "character_string1", status = "character_string2" }',
         "status"),
        ('[notices]\nreport_template_keys = { case_no = "phrase1" }', "case_no"),
        ('[notices]\nsubscribe_template_keys = { case_no = "character_string1", unit = "phrase3" }',
         "subscribe_template_keys.unit"),
        ('[notices]\ncase_template_keys = { category = "thing2" }', "needs a key for case_no"),
        ('[notices]\ncase_template_keys = { case_no = "character_string1", colour = "thing2" }', "colour"),
        ('[reminders]\ntemplate_keys = ["thing1", "phrase2", "thing3", "thing4"]', "template_keys[1]"),
    ],
)
def test_each_kind_of_mismatch_is_found(tmp_path: Path, capsys, setting: str, named: str) -> None:  # type: ignore[no-untyped-def]
    assert main(["--config", str(write(tmp_path / "c.toml", setting + "\n")), "config", "check"]) == 1
    assert named in capsys.readouterr().out


def test_a_good_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path / "c.toml", '[notices]\ncase_template_id = "TPL-CASE"\n')
    assert main(["--config", str(config), "config", "check"]) == 0
    assert "OK" in capsys.readouterr().out


def test_start_up_refuses_a_wrong_key_map(tmp_path: Path, sqlite_url: str) -> None:
    keys = "case_no=character_string1,county=time4"
    config = make_config(tmp_path, sqlite_url, YCBOT_NOTICES_CASE_TEMPLATE_KEYS=keys)
    with pytest.raises(ConfigError, match=r"case_template_keys\.county"):
        create_app(config)


def test_published_secrets_are_refused_outside_the_sandbox(tmp_path: Path, sqlite_url: str) -> None:
    real = {"YCBOT_CHANNEL_KIND": "wechat", "YCBOT_WECHAT_APP_ID": APP_ID, "YCBOT_WECHAT_APP_SECRET": APP_SECRET}
    with pytest.raises(ConfigError, match=r"\[wechat\] token.*\[wechat\] encoding_aes_key"):
        create_app(make_config(tmp_path, sqlite_url, **real))
    own = make_config(
        tmp_path, sqlite_url, **real, YCBOT_WECHAT_TOKEN="own-token", YCBOT_WECHAT_ENCODING_AES_KEY=""
    )
    create_app(own)  # the account's own token, no key: starts
    create_app(make_config(tmp_path, sqlite_url))  # the sandbox may use the published values
