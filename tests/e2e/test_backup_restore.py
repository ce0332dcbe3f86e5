"""The restore drill: data made through the real flows, `backup create` and `backup restore` run as the
operator runs them (separate processes), and every row and photo compared after restoring into a fresh
database and media folder. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.reminders.dispatch import run_pass
from bot.reports.photos import download_pending_photos
from storage.contacts import add_wecom_contact, resolve_department
from storage.db import Database
from storage.models import OutboxMessage, Report, ReportPhoto
from storage.models.base import Base
from storage.models.reminders import Contact, ReminderDelivery, Task
from tests.conftest import PG_ADMIN_DSN, PROJECT_ROOT, RunningService
from tests.e2e.test_reports import api_service, file_report  # noqa: F401  (fixture)
from tests.support.fake_wechat_api import FakeWechatApi
from tests.unit.reminders.helpers import add_contact, load_tasks, task_toml
from tests.unit.reports import imagefactory as imgs

EXAMPLE = str(PROJECT_ROOT / "config.example.toml")


@pytest.fixture
async def fresh_url(db_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A second, never used database of the same kind to restore into."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored.db"
        return
    import asyncpg

    name = f"ycbot_restore_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def cli(url: str, media: Path, *argv: str) -> tuple[int, str]:
    env = {"YCBOT_STORAGE_URL": url, "YCBOT_STORAGE_MEDIA_DIR": str(media), "PATH": "/usr/bin:/bin"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", EXAMPLE, *argv,
        cwd=PROJECT_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    database = Database(url)
    tables: dict[str, list[tuple[Any, ...]]] = {}
    try:
        async with database.session() as session:
            for table in Base.metadata.sorted_tables:
                rows = await session.execute(select(table).order_by(*table.primary_key.columns))
                tables[table.name] = [tuple(row) for row in rows]
    finally:
        await database.dispose()
    return tables


def media_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


async def make_data(service: RunningService, fake: FakeWechatApi) -> None:
    """A report with two photos over the callback, photos downloaded, contacts, tasks, a reminder pass."""
    fake.put_media("M1", imgs.jpeg(), "image/jpeg")
    fake.put_media("M2", imgs.png(), "image/png")
    now = service.clock()
    async with service.services.database.session() as session:
        epb = await resolve_department(session, "市生态环境局")
        await add_wecom_contact(session, epb, "epb-duty", name="值班员", now=now)
        await session.commit()
    await file_report(service, "reporter-1", photos=("M1", "M2"))
    assert (await download_pending_photos(service.services, now=now)).stored == 2
    database = service.services.database
    await load_tasks(database, task_toml("T1", deadline="2026-11-23"), now)
    await add_contact(database, "市卫健委", "o-health", name="钱", now=now)
    await run_pass(service.services, now)


async def test_restore_drill(
    api_service: RunningService,  # noqa: F811  (the fixture imported above)
    fake_wechat: FakeWechatApi,
    db_url: str,
    fresh_url: str,
    tmp_path: Path,
) -> None:
    await make_data(api_service, fake_wechat)
    source = await snapshot(db_url)
    for model in (Report, ReportPhoto, Task, Contact, OutboxMessage, ReminderDelivery):
        assert source[model.__tablename__], f"the drill made no {model.__tablename__} rows"
    media = api_service.config.media_path()
    photos = {p[0] for p in source[ReportPhoto.__tablename__]}
    assert photos and len(media_hashes(media)) >= 2

    folder = tmp_path / "backup"
    code, out = await cli(db_url, media, "backup", "create", str(folder))
    assert code == 0, out
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"]["kind"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")

    restored_media = tmp_path / "restored-media"
    code, out = await cli(fresh_url, restored_media, "backup", "restore", str(folder))
    assert code == 0, out
    assert await snapshot(fresh_url) == source
    assert media_hashes(restored_media) == media_hashes(media)
    stored = [row for row in (await snapshot(fresh_url))[ReportPhoto.__tablename__]]
    columns = [c.name for c in ReportPhoto.__table__.columns]
    for row in stored:
        sha = dict(zip(columns, row, strict=True))["sha256"]
        assert any(name.endswith(f"{sha}.jpg") or name.endswith(f"{sha}.png") for name in media_hashes(restored_media))

    # A second restore over the now filled target is refused without --force, and nothing changes.
    code, out = await cli(fresh_url, restored_media, "backup", "restore", str(folder))
    assert code == 1 and "not empty" in out and "--force" in out
    code, out = await cli(fresh_url, restored_media, "backup", "restore", str(folder), "--force")
    assert code == 0, out
    assert await snapshot(fresh_url) == source


async def test_a_damaged_backup_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    media = tmp_path / "media"
    (media / "ab").mkdir(parents=True)
    (media / "ab" / "photo.jpg").write_bytes(b"\xff\xd8 original")
    code, out = await cli(sqlite_url, media, "db", "upgrade")
    assert code == 0, out
    folder = tmp_path / "backup"
    assert (await cli(sqlite_url, media, "backup", "create", str(folder)))[0] == 0
    code, out = await cli(sqlite_url, media, "backup", "create", str(folder))
    assert code == 1 and "not an empty folder" in out

    (folder / "media" / "ab" / "photo.jpg").write_bytes(b"\xff\xd8 altered")
    (folder / "media" / "extra.bin").write_bytes(b"x")
    target = f"sqlite:///{tmp_path}/fresh.db"
    code, out = await cli(target, tmp_path / "fresh-media", "backup", "restore", str(folder))
    assert code == 1
    assert "media/ab/photo.jpg: checksum does not match" in out and "media/extra.bin: not in the manifest" in out
    assert not (tmp_path / "fresh.db").exists() or (tmp_path / "fresh.db").stat().st_size == 0
    assert not (tmp_path / "fresh-media").exists()

    (folder / "manifest.json").unlink()
    code, out = await cli(target, tmp_path / "fresh-media", "backup", "restore", str(folder))
    assert code == 1 and "no manifest" in out

    code, out = await cli("postgresql://nobody@127.0.0.1:1/none", media, "backup", "restore", str(tmp_path / "nope"))
    assert code == 1 and "no manifest" in out
