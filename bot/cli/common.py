"""Helpers shared by the command groups: configuration, services, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

from bot.config import Config, load_config
from bot.outbound.channels.factory import build_services, close_channels
from bot.reminders.planner import seed_tasks
from bot.services import Services
from knowledge.duties import duties
from storage.departments import seed_departments
from storage.migrate import ensure_schema


def config_from(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


@asynccontextmanager
async def open_services(args: argparse.Namespace, *, migrate: bool = True) -> AsyncIterator[Services]:
    """Services for a one-off command: same database and channels as the service, no scheduler."""
    services = build_services(config_from(args))
    try:
        if migrate:
            await ensure_schema(services.database)
            await seed_departments(services.database, duties().units)
            await seed_tasks(services.database, services.config, services.now())
        yield services
    finally:
        await close_channels(services.channels)
        await services.database.dispose()


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(value: Any) -> None:
    """One JSON document on one line, UTF-8, for scripts."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=_default) + "\n")


def os_actor() -> str:
    """Who runs a command, as the audit log and case histories record it: ``cli:<OS user>``."""
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


def fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code
