"""``python -m bot …``: the service's command line.

Each area registers its own command group with ``register(subparsers, parents)``; ``parents`` carries
the shared ``--config FILE`` option so that every command accepts it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bot import logsafe
from bot.cli import (
    backup,
    config_check,
    core,
    knowledge,
    logs,
    notices,
    privacy,
    reminders,
    reports,
    staff,
    stats,
    status,
)
from bot.config import ConfigError

Registrar = Callable[[argparse._SubParsersAction, list[argparse.ArgumentParser]], None]


def _registrars() -> list[Registrar]:
    return [
        core.register,
        knowledge.register,  # the knowledge/cli.py commands and those on the database's edits
        reports.register,
        reminders.register,
        staff.register,
        privacy.register,
        stats.register,
        backup.register,
        config_check.register,
        status.register,
        notices.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="configuration file (default: config.toml, else config.example.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="运城新污染物治理 WeChat service: serve, database, knowledge base, reports, reminders.",
        parents=[common],
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for register in _registrars():
        register(subparsers, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logsafe.install()
    logs.configure(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    func = getattr(args, "func", None)
    if func is None:
        parser.parse_args([*(argv or sys.argv[1:]), "--help"])
        return 2
    try:
        return int(func(args) or 0)
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
