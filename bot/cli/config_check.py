"""config check: validate the whole configuration, say what is sandbox and what is real, and refuse the
example secrets published in config.example.toml when messages would really be sent."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url

from bot.cli.common import config_from, print_json
from bot.config import ENV_PREFIX, EXAMPLE_CONFIG_PATH, Config
from bot.reports.keymaps import key_map_problems
from bot.wechat.secrets_check import secret_problems
from knowledge import workdays
from storage.db import normalize_url

# Keys whose value must not be one anyone can read in the repository.
_SECRET_KEY = re.compile(r"(secret|token|aes_key|password)")


@dataclass
class CheckReport:
    sandbox: bool
    source: str
    overrides: list[str]
    parts: dict[str, str] = field(default_factory=dict)  # area → "sandbox" | "real" | "off" and detail
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    config = subparsers.add_parser("config", parents=parents, help="the configuration")
    sub = config.add_subparsers(dest="config_command", metavar="ACTION")
    sub.required = True
    check = sub.add_parser(
        "check",
        parents=parents,
        help="validate the configuration; exit 1 on errors (example secrets outside the sandbox)",
    )
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_check)


def _example_secrets() -> dict[str, str]:
    """``section.key`` → value for every secret-looking key with a value in config.example.toml."""
    try:
        raw = tomllib.loads(EXAMPLE_CONFIG_PATH.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {
        f"{section}.{key}": value
        for section, table in raw.items()
        if isinstance(table, dict)
        for key, value in table.items()
        if _SECRET_KEY.search(key) and isinstance(value, str) and value
    }


def _example_value(section: str, key: str) -> Any:
    try:
        return tomllib.loads(EXAMPLE_CONFIG_PATH.read_text(encoding="utf-8")).get(section, {}).get(key)
    except (OSError, tomllib.TOMLDecodeError):
        return None


def _secret_values(config: Config) -> dict[str, str]:
    values = {}
    for section in dataclasses.fields(config):
        part = getattr(config, section.name)
        if not dataclasses.is_dataclass(part):
            continue
        for f in dataclasses.fields(part):
            value = getattr(part, f.name)
            if _SECRET_KEY.search(f.name) and isinstance(value, str):
                values[f"{section.name}.{f.name}"] = value
    return values


def _mask(value: str) -> str:
    return "(empty)" if not value else f"set ({len(value)} characters)"


def config_problems(config: Config) -> list[str]:
    """Template key maps that do not fit the values put in them, and published secrets outside the sandbox
    (the same checks the service makes at start-up)."""
    return [*key_map_problems(config), *secret_problems(config)]


def check(config: Config, env: dict[str, str] | None = None) -> CheckReport:
    env = dict(os.environ) if env is None else env
    report = CheckReport(
        sandbox=config.uses_sandbox,
        source=str(config.source_path or "(defaults)"),
        overrides=sorted(k for k in env if k.startswith(ENV_PREFIX) and k != f"{ENV_PREFIX}CONFIG"),
    )
    real = not config.uses_sandbox
    report.parts["channel"] = "sandbox (messages recorded locally)" if config.uses_sandbox else "real (WeChat API)"
    report.parts["wechat"] = f"app_id {config.wechat.app_id or '(empty)'}, app_secret {_mask(config.wechat.app_secret)}"
    wecom = config.wecom
    report.parts["wecom"] = (
        f"real (corp {wecom.corp_id}, agent {wecom.agent_id})" if wecom.corp_id and wecom.secret else "off"
    )
    report.parts["storage"] = make_url(config.storage.url).render_as_string(hide_password=True)
    report.parts["redis"] = "on" if config.redis.url else "off (single process only)"
    report.parts["simulator"] = "on" if config.simulator.enabled and config.uses_sandbox else "off"
    examples = _example_secrets()
    for key, value in _secret_values(config).items():
        if real and value and examples.get(key) == value:
            report.errors.append(
                f"[{key.replace('.', '] ', 1)}: the example value published in config.example.toml; "
                "set your own (e.g. in the environment variable " + f"{ENV_PREFIX}{key.replace('.', '_').upper()})"
            )
    if real:
        if not config.wechat.app_id or not config.wechat.app_secret:
            report.errors.append("[wechat] app_id and app_secret: both are needed to send through the WeChat API")
        elif config.wechat.app_id == _example_value("wechat", "app_id"):
            report.errors.append("[wechat] app_id: the sandbox's example id; set the account's own AppID")
        if not config.wechat.token:
            report.errors.append("[wechat] token: empty; WeChat's pushes cannot be verified")
        if config.reminders.channel == "template" and not config.reminders.template_id:
            report.errors.append("[reminders] template_id: empty; reminders and notices cannot be sent")
        if not config.wechat.encoding_aes_key:
            report.warnings.append("[wechat] encoding_aes_key: empty; only plaintext pushes can be read")
        elif not config.wechat.require_encryption:
            report.warnings.append("[wechat] require_encryption = false: plaintext pushes are accepted")
        if not config.server.public_base_url.startswith("https://"):
            report.warnings.append("[server] public_base_url: not https; links in messages go out unencrypted")
        if not config.console.secret_key:
            report.warnings.append("[console] secret_key: empty; a key kept in the database signs sessions")
    named = {error.split(":", 1)[0] for error in report.errors}
    report.errors.extend(p for p in config_problems(config) if p.split(":", 1)[0] not in named)
    _check_paths(config, report)
    return report


def _check_paths(config: Config, report: CheckReport) -> None:
    try:
        normalize_url(config.storage.url)
    except Exception as exc:
        report.errors.append(f"[storage] url: {exc}")
    media = config.media_path()
    probe = media if media.exists() else next((p for p in media.parents if p.exists()), media)
    if not os.access(probe, os.W_OK):
        report.errors.append(f"[storage] media_dir: {media} is not writable")
    try:
        workdays.load()
    except workdays.WorkdaysError as exc:
        report.errors.append(f"knowledge/data/workdays.toml: {exc}")


def cmd_check(args: argparse.Namespace) -> int:
    report = check(config_from(args))
    if args.json:
        print_json(dataclasses.asdict(report) | {"ok": not report.errors})
        return 1 if report.errors else 0
    print(f"configuration {report.source}" + (f" with {', '.join(report.overrides)}" if report.overrides else ""))
    print(f"mode          {'SANDBOX' if report.sandbox else 'REAL'}")
    for area, state in report.parts.items():
        print(f"{area:<14}{state}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    for error in report.errors:
        print(f"error: {error}")
    print("configuration OK" if not report.errors else f"{len(report.errors)} error(s): not fit to run for real")
    return 1 if report.errors else 0
