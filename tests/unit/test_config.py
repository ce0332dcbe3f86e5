"""Configuration: the example file, environment overrides for secrets, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import EXAMPLE_CONFIG_PATH, PROJECT_ROOT, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_runs_the_sandbox_on_sqlite() -> None:
    config = load_config(EXAMPLE_CONFIG_PATH, env={})
    assert config.uses_sandbox
    assert config.simulator.enabled
    assert config.storage.url.startswith("sqlite:///")
    assert config.server.host == "127.0.0.1" and config.server.port == 8080
    assert config.wechat.api_base_url == "https://api.weixin.qq.com"
    assert config.wecom.api_base_url == "https://qyapi.weixin.qq.com"
    assert len(config.wechat.encoding_aes_key) == 43
    assert config.source_path == EXAMPLE_CONFIG_PATH


def test_example_documents_every_key() -> None:
    """Every dataclass field appears in config.example.toml, so operators can find it."""
    import dataclasses
    import tomllib

    from bot.config import Config

    raw = tomllib.loads(EXAMPLE_CONFIG_PATH.read_text(encoding="utf-8"))
    defaults = Config()
    for section in dataclasses.fields(Config):
        if section.name == "source_path":
            continue
        keys = {f.name for f in dataclasses.fields(type(getattr(defaults, section.name)))}
        assert section.name in raw, f"[{section.name}] missing from the example"
        assert keys == set(raw[section.name]), f"[{section.name}] keys differ from the dataclass"


def test_environment_overrides_win_and_are_coerced(tmp_path: Path) -> None:
    path = write(tmp_path, '[wechat]\napp_id = "wx_file"\napp_secret = "file-secret"\n[server]\nport = 9000\n')
    env = {
        "YCBOT_WECHAT_APP_SECRET": "env-secret",
        "YCBOT_SERVER_PORT": "9100",
        "YCBOT_SCHEDULER_ENABLED": "off",
        "YCBOT_REMINDERS_BEFORE_WORKING_DAYS": "10, 3,1",
        "YCBOT_REPORTS_DUPLICATE_RADIUS_M": "150",
    }
    config = load_config(path, env=env)
    assert config.wechat.app_id == "wx_file"
    assert config.wechat.app_secret == "env-secret"
    assert config.server.port == 9100
    assert config.scheduler.enabled is False
    assert config.reminders.before_working_days == [10, 3, 1]
    assert config.reports.duplicate_radius_m == 150.0
    assert not config.uses_sandbox


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 8123\n")
    assert load_config(None, env={"YCBOT_CONFIG": str(path)}).server.port == 8123


def test_channel_kind_forces_the_choice(tmp_path: Path) -> None:
    path = write(tmp_path, '[wechat]\napp_id = "wx1"\napp_secret = "s"\n[channel]\nkind = "sandbox"\n')
    assert load_config(path, env={}).uses_sandbox
    path = write(tmp_path, '[channel]\nkind = "wechat"\n')
    assert not load_config(path, env={}).uses_sandbox


def test_media_path_relative_to_project_root(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, ""), env={}).media_path() == PROJECT_ROOT / "var/media"
    absolute = write(tmp_path, f'[storage]\nmedia_dir = "{tmp_path}/m"\n')
    assert load_config(absolute, env={}).media_path() == tmp_path / "m"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[nonsense]\nx = 1\n", {}, "unknown section"),
        ("[server]\nprot = 1\n", {}, "unknown key"),
        ("[server]\nport = 'eighty'\n", {}, "[server] port"),
        ("[server]\nport = 70000\n", {}, "between 1 and 65535"),
        ("[scheduler]\nenabled = 'perhaps'\n", {}, "true or false"),
        ("[wechat]\ntoken = 5\n", {}, "expected a string"),
        ("[wechat]\nencoding_aes_key = 'short'\n", {}, "43 characters"),
        ("[channel]\nkind = 'carrier-pigeon'\n", {}, "sandbox or wechat"),
        ("[reminders]\nchannel = 'sms'\n", {}, "template or wecom"),
        ("[reminders]\nbefore_working_days = 5\n", {}, "expected a list"),
        ("server = 1\n", {}, "must be a table"),
        ("[server\n", {}, "not valid TOML"),
        ("", {"YCBOT_SERVER_PORT": "abc"}, "YCBOT_SERVER_PORT"),
        ("", {"YCBOT_OUTBOX_POLL_SECONDS": "fast"}, "expected a number"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path: Path, text: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env=env)
    assert message in str(info.value)


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "absent.toml", env={})
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[server]\nhost = "\xe9"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, env={})


def test_cli_reports_config_errors_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    path = write(tmp_path, "[server]\nport = 0\n")
    assert main(["--config", str(path), "db", "status"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[privacy]\nclosed_identity_days = 0", "[privacy] closed_identity_days"),
        ("[privacy]\nclosed_photo_days = -5", "[privacy] closed_photo_days"),
        ("[privacy]\nclosed_location_days = 99999", "[privacy] closed_location_days"),
        ("[privacy]\nconversation_days = \"a week\"", "[privacy] conversation_days"),
        ("[privacy]\ndedup_days = 1", "[privacy] dedup_days"),
        ("[privacy]\nsent_outbox_days = 0", "[privacy] sent_outbox_days"),
        ("[privacy]\nhousekeeping_time = \"25:00\"", "[privacy] housekeeping_time"),
        ("[privacy]\nkeep_forever = true", "[privacy] keep_forever"),
    ],
)
def test_privacy_retention_keys_are_checked(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path, text), env={})


@pytest.mark.parametrize("value", ["-1", "250", '"fast"'])
def test_group_commit_window_is_checked(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"\[storage\] group_commit_ms"):
        load_config(write(tmp_path, f"[storage]\ngroup_commit_ms = {value}\n"), env={})


def test_privacy_retention_defaults_and_override(tmp_path: Path) -> None:
    config = load_config(EXAMPLE_CONFIG_PATH, env={"YCBOT_PRIVACY_CLOSED_IDENTITY_DAYS": "30"})
    assert config.privacy.closed_identity_days == 30
    assert (config.privacy.closed_photo_days, config.privacy.dedup_days) == (365, 7)


def test_retired_reminder_sending_keys_still_load(tmp_path: Path) -> None:
    """Digests are sent by the outbox worker now: an old file's [reminders] retry keys load, with no effect."""
    text = "[reminders]\nmax_attempts = 3\nretry_base_seconds = 10\nclaim_seconds = 60\n[outbox]\nmax_attempts = 5\n"
    config = load_config(write(tmp_path, text), env={})
    assert config.outbox.max_attempts == 5 and not hasattr(config.reminders, "claim_seconds")
