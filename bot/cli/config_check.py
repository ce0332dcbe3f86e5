"""``python -m bot config check``: read the configuration and report every problem found, without serving.

``config_problems(config)`` is the reusable part: other checks (operations, start-up) can call it and add
their own findings.
"""

from __future__ import annotations

import argparse

from bot.cli.common import config_from
from bot.config import Config
from bot.reports.keymaps import key_map_problems
from bot.wechat.secrets_check import secret_problems


def config_problems(config: Config) -> list[str]:
    """The problems of a loaded configuration: template key maps that do not fit their values, published
    example secrets outside the sandbox."""
    return [*key_map_problems(config), *secret_problems(config)]


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("config", parents=parents, help="the configuration file")
    sub = group.add_subparsers(dest="config_command", metavar="ACTION")
    sub.required = True
    check = sub.add_parser("check", parents=parents, help="check the configuration and exit (1 on a problem)")
    check.set_defaults(func=cmd_config_check)


def cmd_config_check(args: argparse.Namespace) -> int:
    config = config_from(args)  # a file that cannot be read fails here, naming the key
    problems = config_problems(config)
    for problem in problems:
        print(f"配置错误 / configuration error: {problem}")
    if not problems:
        print(f"configuration {config.source_path or '(defaults)'}: OK")
    return 1 if problems else 0
