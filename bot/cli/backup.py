"""backup create DIR, backup restore DIR [--force]."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.cli.common import config_from, fail, print_json
from storage.backup import BackupError, create_backup, restore_backup
from storage.db import Database

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    backup = subparsers.add_parser("backup", parents=parents, help="back up or restore the database and media")
    sub = backup.add_subparsers(dest="backup_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser(
        "create", parents=parents, help="write the database, the media folder and a checksummed manifest to DIR"
    )
    create.add_argument("dir", type=Path, metavar="DIR", help="a new (or empty) folder")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=cmd_create)
    restore = sub.add_parser(
        "restore", parents=parents, help="verify DIR's checksums, restore it into the configured database, migrate"
    )
    restore.add_argument("dir", type=Path, metavar="DIR")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that has tables and a media folder that has files"
    )
    restore.set_defaults(func=cmd_restore)


def _run(args: argparse.Namespace, work: Callable[[Database, Path], Awaitable[T]]) -> T:
    """``work(database, media folder)`` on the configured storage, the engine closed afterwards."""
    config = config_from(args)
    database = Database(config.storage.url, pool_size=1, max_overflow=0)

    async def run() -> T:
        try:
            return await work(database, config.media_path())
        finally:
            await database.dispose()

    return asyncio.run(run())


def cmd_create(args: argparse.Namespace) -> int:
    try:
        summary = _run(args, lambda database, media: create_backup(database, media, args.dir, datetime.now(UTC)))
    except BackupError as exc:
        return fail(f"backup failed: {exc}")
    if args.json:
        print_json(
            {
                "dir": str(summary.folder),
                "database": summary.database,
                "schema": summary.schema,
                "files": summary.files,
                "bytes": summary.bytes,
            }
        )
    else:
        print(
            f"backup written to {summary.folder}: {summary.database} database (schema "
            f"{', '.join(summary.schema) or 'empty'}), {summary.files} files, {summary.bytes} bytes"
        )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    try:
        manifest = _run(args, lambda database, media: restore_backup(database, media, args.dir, force=args.force))
    except BackupError as exc:
        return fail(f"restore refused: {exc}")
    print(f"restored {args.dir} (made {manifest['created_at']}, {len(manifest['files'])} files) and migrated")
    return 0
