"""The photo job against a scripted channel, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.outbound.channels.base import ChannelError, Media, SendResult
from bot.reports import filing
from bot.reports.photos import download_pending_photos, photo_path, purge_abandoned_photos
from bot.services import Services
from storage import report_queries as queries
from storage.models import Conversation, ReportPhoto
from tests.support.clock import FakeClock
from tests.unit.reports import imagefactory as imgs


class ScriptedChannel:
    """Serves media by id (as the 公众号 account: ``account``); scripted errors are raised first, one per call."""

    name = "mp"

    def __init__(self) -> None:
        self.media: dict[str, bytes] = {}
        self.errors: dict[str, list[Exception]] = defaultdict(list)
        self.calls: list[str] = []
        self.account = self

    async def download_media(self, media_id: str) -> Media:
        self.calls.append(media_id)
        await asyncio.sleep(0)  # let concurrent ticks interleave
        if self.errors[media_id]:
            raise self.errors[media_id].pop(0)
        if media_id not in self.media:
            raise ChannelError("invalid media_id", errcode=40007)
        return Media(self.media[media_id], "image/jpeg")

    async def send_text(self, recipient: str, content: str) -> SendResult:
        raise NotImplementedError

    async def send_template(self, recipient: str, template_id: str, data: dict[str, str], **kw: Any) -> SendResult:
        raise NotImplementedError


@pytest.fixture
def channel(services: Services) -> ScriptedChannel:
    fake = ScriptedChannel()
    services.channels["mp"] = fake
    return fake


async def queue(services: Services, media_id: str, *, openid: str = "u1", draft_id: str | None = "d1") -> None:
    async with services.database.session() as session:
        await queries.add_draft_photo(session, openid=openid, draft_id=draft_id, media_id=media_id, now=services.now())
        await session.commit()


async def photos(services: Services) -> list[ReportPhoto]:
    async with services.database.session() as session:
        return list((await session.scalars(select(ReportPhoto).order_by(ReportPhoto.id))).all())


async def test_a_photo_is_stored_by_the_hash_of_the_stored_bytes(services: Services, channel: ScriptedChannel) -> None:
    original = imgs.jpeg(exif=imgs.exif_block(gps=True))
    channel.media["m1"] = original
    await queue(services, "m1")
    run = await download_pending_photos(services)
    assert run.stored == 1
    (photo,) = await photos(services)
    path = photo_path(services.config.media_path(), photo.sha256 or "", "jpg")
    stored = path.read_bytes()
    assert photo.sha256 == hashlib.sha256(stored).hexdigest() != hashlib.sha256(original).hexdigest()
    assert (photo.size, photo.original_size) == (len(stored), len(original))
    assert (photo.width, photo.height, photo.content_type) == (48, 32, "image/jpeg")
    assert imgs.exif_of(stored) == {} and photo.stored_at == services.now()
    assert path.stat().st_mode & 0o007 == 0  # not world-readable


async def test_transient_errors_back_off_then_give_up(
    services: Services, channel: ScriptedChannel, clock: FakeClock
) -> None:
    services.config.reports.photo_max_attempts = 3
    channel.errors["m1"] = [ChannelError("busy", errcode=-1), OSError("connection reset"), ChannelError("busy")]
    channel.media["m1"] = imgs.jpeg()
    await queue(services, "m1")
    assert (await download_pending_photos(services)).retried == 1
    (photo,) = await photos(services)
    assert photo.next_attempt_at == clock() + timedelta(seconds=30) and "busy" in photo.last_error
    clock.advance(seconds=29)
    assert (await download_pending_photos(services)).handled == 0
    clock.advance(seconds=1)
    assert (await download_pending_photos(services)).retried == 1
    (photo,) = await photos(services)
    assert photo.next_attempt_at == clock() + timedelta(seconds=60)  # doubled
    clock.advance(seconds=60)
    assert (await download_pending_photos(services)).failed == 1
    (photo,) = await photos(services)
    assert (photo.status, photo.attempts, photo.stored) == ("failed", 3, False)
    clock.advance(days=1)
    assert (await download_pending_photos(services)).handled == 0


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ChannelError("invalid media_id", errcode=40007), "expired"),
        (ChannelError("media not found", errcode=46001), "expired"),
        (ChannelError("invalid openid", errcode=40003), "failed"),
        (ChannelError("a video", permanent=True), "failed"),
    ],
)
async def test_permanent_answers(
    services: Services, channel: ScriptedChannel, error: ChannelError, status: str
) -> None:
    channel.errors["m1"] = [error]
    await queue(services, "m1")
    await download_pending_photos(services)
    (photo,) = await photos(services)
    assert photo.status == status and channel.calls == ["m1"]


async def test_media_older_than_three_days_is_not_fetched(
    services: Services, channel: ScriptedChannel, clock: FakeClock
) -> None:
    await queue(services, "m1")
    clock.advance(days=3, seconds=1)
    assert (await download_pending_photos(services)).expired == 1
    assert channel.calls == []


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"MZ\x90\x00 an executable", "not a JPEG"), (imgs.jpeg(size=(400, 300)), "too large")],
)
async def test_unacceptable_files_are_rejected(
    services: Services, channel: ScriptedChannel, content: bytes, error: str
) -> None:
    services.config.reports.max_photo_bytes = 2000
    channel.media["m1"] = content
    await queue(services, "m1")
    assert (await download_pending_photos(services)).rejected == 1
    (photo,) = await photos(services)
    assert photo.status == "rejected" and error in photo.last_error
    assert not list(services.config.media_path().rglob("*.*"))


async def test_two_ticks_at_once_download_each_photo_once(services: Services, channel: ScriptedChannel) -> None:
    for i in range(6):
        channel.media[f"m{i}"] = imgs.jpeg(size=(16 + i, 16))
        await queue(services, f"m{i}")
    runs = await asyncio.gather(download_pending_photos(services), download_pending_photos(services))
    assert sum(r.stored for r in runs) == 6
    assert sorted(channel.calls) == [f"m{i}" for i in range(6)]


async def test_identical_photos_share_a_file_until_both_are_gone(
    services: Services, channel: ScriptedChannel, clock: FakeClock
) -> None:
    channel.media["a"] = channel.media["b"] = imgs.jpeg()
    await queue(services, "a", draft_id=None)
    await queue(services, "b", openid="u2", draft_id=None)
    await download_pending_photos(services)
    files = list(services.config.media_path().rglob("*.jpg"))
    assert len(files) == 1
    clock.advance(minutes=61)  # both pending photos were never used by a report
    assert await purge_abandoned_photos(services) == 2
    assert not files[0].exists()


async def test_purge_keeps_live_drafts_and_reports(
    services: Services, channel: ScriptedChannel, clock: FakeClock
) -> None:
    channel.media.update(live=imgs.jpeg(size=(20, 20)), dead=imgs.jpeg(size=(21, 20)), filed=imgs.jpeg(size=(22, 20)))
    async with services.database.session() as session:
        session.add(
            Conversation(
                openid="u1",
                state="report:photos",
                data={"draft_id": "live"},
                updated_at=clock(),
                expires_at=clock() + timedelta(hours=24),
            )
        )
        await session.commit()
    await queue(services, "live", draft_id="live")
    await queue(services, "dead", openid="u2", draft_id="cancelled-draft")
    await queue(services, "filed", openid="u3", draft_id="filed")
    async with services.database.session() as session:
        await filing.create_report(
            session,
            services,
            filing.ReportDraft(draft_id="filed", category="other", description="工厂排放异常气体"),
            openid="u3",
            now=clock(),
        )
        await session.commit()
    await download_pending_photos(services)
    assert await purge_abandoned_photos(services) == 1
    assert sorted(p.media_id for p in await photos(services)) == ["filed", "live"]
    assert len(list(services.config.media_path().rglob("*.jpg"))) == 2
    clock.advance(hours=25)  # the live draft expires
    assert await purge_abandoned_photos(services) == 1
    assert [p.media_id for p in await photos(services)] == ["filed"]


async def test_purge_catches_photos_of_an_earlier_or_emptied_draft(
    services: Services, channel: ScriptedChannel, clock: FakeClock
) -> None:
    async with services.database.session() as session:
        session.add(
            Conversation(
                openid="u1",
                state="report:photos",
                data={"draft_id": "second"},
                updated_at=clock(),
                expires_at=clock() + timedelta(hours=24),
            )
        )
        await session.commit()
    await queue(services, "from-first", draft_id="first")  # cancelled, then a new report was started
    await queue(services, "kept", draft_id="second")
    await queue(services, "emptied", draft_id="second")
    async with services.database.session() as session:
        await queries.discard_draft_photos(session, openid="u1", draft_id="second")  # "清空"
        await queries.add_draft_photo(session, openid="u1", draft_id="second", media_id="new", now=clock())
        await session.commit()
    assert await purge_abandoned_photos(services) == 3
    assert [p.media_id for p in await photos(services)] == ["new"]


def test_same_picture_written_at_once_by_several_downloads(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every writer has written its temporary file before any renames it: with one shared temporary
    name, all but the first rename would fail (the race seen when reporters send the same picture)."""
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from bot.reports import photos as media

    writers = 8
    barrier = threading.Barrier(writers, timeout=10)
    real_chmod = os.chmod

    def chmod_after_everyone_wrote(path, mode):  # type: ignore[no-untyped-def]
        barrier.wait()
        real_chmod(path, mode)

    monkeypatch.setattr(media.os, "chmod", chmod_after_everyone_wrote)
    target = media.photo_path(tmp_path, "ab" * 32, "jpg")
    content = b"\xff\xd8same picture\xff\xd9"
    with ThreadPoolExecutor(writers) as pool:
        results = list(pool.map(lambda _: media._write_file(target, content), range(writers)))
    assert results == [None] * writers
    assert target.read_bytes() == content
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary file left
