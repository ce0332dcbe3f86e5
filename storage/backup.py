"""Backups: the database (SQLite's online backup or ``pg_dump`` custom format), the media folder, and a
manifest with a SHA-256 checksum of every file; restores that verify the checksums first.

A backup folder holds ``manifest.json``, ``database.sqlite3`` or ``database.pgdump``, and ``media/``.
The database is copied before the media folder, so every photo the copied rows point at is on disk by
then (photos are written before the row that names them is committed).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from storage.db import Database
from storage.migrate import current_heads, upgrade

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
MEDIA = "media"
_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    folder: Path
    database: str  # sqlite | postgresql
    schema: list[str]
    files: int
    bytes: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore; the password goes in the environment, not on the command line."""
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


async def _run(tool: str, args: list[str], env: dict[str, str]) -> None:
    binary = shutil.which(tool)
    if binary is None:
        raise BackupError(f"{tool} not found: install the PostgreSQL client tools (same major version as the server)")
    proc = await asyncio.create_subprocess_exec(
        binary, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _out, err = await proc.communicate()
    if proc.returncode != 0:
        raise BackupError(f"{tool} failed (exit {proc.returncode}): {err.decode(errors='replace').strip()}")


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while the service keeps writing."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _media_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _prepare(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} is not an empty folder: choose a new one for each backup")
    folder.mkdir(parents=True, exist_ok=True)


def _write_manifest(folder: Path, kind: str, db_file: str, schema: list[str], now: datetime) -> BackupSummary:
    files = {
        path.relative_to(folder).as_posix(): {"sha256": sha256_of(path), "bytes": path.stat().st_size}
        for path in [folder / db_file, *_media_files(folder / MEDIA)]
    }
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "database": {"kind": kind, "file": db_file, "schema": schema},
        "media": MEDIA,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return BackupSummary(folder, kind, schema, len(files), sum(f["bytes"] for f in files.values()))


async def create_backup(database: Database, media_dir: Path, folder: Path, now: datetime) -> BackupSummary:
    """Write a backup of ``database`` and ``media_dir`` into ``folder`` (new or empty)."""
    await asyncio.to_thread(_prepare, folder)
    schema = sorted(await current_heads(database))
    if database.is_sqlite:
        kind, db_file = "sqlite", SQLITE_FILE
        await asyncio.to_thread(_sqlite_copy, Path(database.url.database or ""), folder / db_file)
    else:
        kind, db_file = "postgresql", PG_FILE
        args, env = _libpq_args(database.url)
        dump = ["--format=custom", "--no-owner", "--no-privileges", "--file", str(folder / db_file)]
        await _run("pg_dump", [*dump, *args], env)
    await asyncio.to_thread(_copy_media, media_dir, folder / MEDIA)
    return await asyncio.to_thread(_write_manifest, folder, kind, db_file, schema, now)


def _copy_media(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path}: no manifest: not a backup folder made by `backup create`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path}: unreadable manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown manifest format (expected {FORMAT})")
    database = manifest.get("database")
    files = manifest.get("files")
    if (
        not isinstance(database, dict)
        or database.get("kind") not in ("sqlite", "postgresql")
        or not isinstance(files, dict)
    ):
        raise BackupError(f"{path}: the manifest lacks the database or the file list")
    if database.get("file") not in files:
        raise BackupError(f"{path}: the database file is not in the file list")
    return manifest


def verify(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file that is missing, altered or not in the manifest (empty: the backup is intact)."""
    problems = []
    listed = manifest["files"]
    for name, meta in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_of(path) != meta.get("sha256"):
            problems.append(f"{name}: checksum does not match (altered or damaged)")
    for path in _media_files(folder / MEDIA):
        if path.relative_to(folder).as_posix() not in listed:
            problems.append(f"{path.relative_to(folder).as_posix()}: not in the manifest")
    return problems


async def _tables(database: Database) -> list[str]:
    async with database.engine.connect() as conn:
        return await conn.run_sync(lambda sync: inspect(sync).get_table_names())


async def restore_backup(database: Database, media_dir: Path, folder: Path, *, force: bool) -> dict[str, Any]:
    """Restore ``folder`` into ``database`` and ``media_dir``, then migrate to the current schema.

    Refuses a database that has tables or a media folder with files unless ``force``; with ``force`` both
    are emptied first. Returns the manifest.
    """
    manifest = read_manifest(folder)
    if problems := await asyncio.to_thread(verify, folder, manifest):
        raise BackupError("the backup does not match its manifest: " + "; ".join(problems))
    kind = manifest["database"]["kind"]
    target_kind = "sqlite" if database.is_sqlite else "postgresql"
    if kind != target_kind:
        raise BackupError(f"the backup holds a {kind} database but the configured database is {target_kind}")
    tables = await _tables(database)
    media_files = _media_files(media_dir)
    if (tables or media_files) and not force:
        raise BackupError(
            f"the target is not empty ({len(tables)} tables in the database, {len(media_files)} files in {media_dir}); "
            "restore into a new database and media folder, or pass --force to replace them"
        )
    db_file = folder / manifest["database"]["file"]
    if database.is_sqlite:
        await database.dispose()
        await asyncio.to_thread(_sqlite_copy, db_file, Path(database.url.database or ""))
    else:
        if tables:
            async with database.engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await database.dispose()
        args, env = _libpq_args(database.url)
        await _run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", *args, str(db_file)], env)
    if media_files:
        await asyncio.to_thread(shutil.rmtree, media_dir)
    await asyncio.to_thread(_copy_media, folder / MEDIA, media_dir)
    await upgrade(database)
    return manifest
