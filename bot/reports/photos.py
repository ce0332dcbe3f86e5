"""The photo job: download report photos as soon as they arrive, check them, strip metadata, store them.

Photos are rows in ``report_photos`` written by the wizard (the callback never calls a channel). Each
tick claims due rows with a lease (a conditional UPDATE, so two processes never take the same row),
downloads through ``services.mp_account().download_media``, and records the outcome:

- stored: the image passed the checks (JPEG/PNG/GIF/WebP by magic bytes, decodable by Pillow, at most
  ``[reports] max_photo_bytes``); its metadata was cut out (``bot.reports.photo_strip``) and the result
  written to ``[storage] media_dir``/<aa>/<sha256>.<ext>. The name and the ``sha256`` column are the
  SHA-256 of the STORED bytes (after metadata removal). Nothing under media_dir is served over HTTP.
- pending again, later: a transient failure; retried with exponential backoff up to
  ``photo_max_attempts``, then failed.
- expired: WeChat says the media id is invalid or gone (40007, 46001), or it is older than 3 days.
- rejected: not an accepted image, or too large.

A photo's failure never touches its report; the console and the CLI show which photos are missing.
The same tick purges photos of drafts that were cancelled or expired, and photos sent outside a report
that no report picked up.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import and_, delete, func, or_, select, update

from bot import metrics
from bot.outbound.channels.base import ChannelError
from bot.reports.photo_strip import StrippedImage, UnsupportedImage, strip_metadata
from bot.reports.pic_url import fetch_pic_url
from bot.reports.steps import STORED_LIKE
from bot.services import Services
from storage.models import Conversation, ReportPhoto

log = logging.getLogger(__name__)

MEDIA_LIFETIME = timedelta(days=3)
EXPIRED_ERRCODES = frozenset({40007, 46001})
LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
CONCURRENCY = 4


@dataclass
class MediaRun:
    """What one tick did (counts by outcome)."""

    stored: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    rejected: int = 0
    purged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.stored + self.retried + self.failed + self.expired + self.rejected


@dataclass(frozen=True)
class _Claim:
    id: int
    media_id: str
    attempts: int
    received_at: datetime
    pic_url: str = ""


class PhotoRejected(ValueError):
    pass


def photo_path(media_dir: Path, sha256: str, extension: str) -> Path:
    return media_dir / sha256[:2] / f"{sha256}.{extension}"


def check_and_strip(content: bytes, max_bytes: int) -> tuple[StrippedImage, int, int]:
    """Validate a downloaded photo and remove its metadata; returns the result and its pixel size."""
    if len(content) > max_bytes:
        raise PhotoRejected(f"too large: {len(content)} bytes (limit {max_bytes})")
    try:
        stripped = strip_metadata(content)
    except UnsupportedImage as exc:
        raise PhotoRejected(str(exc)) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(stripped.content)) as img:
                size = img.size
                img.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected(f"not a readable image: {type(exc).__name__}") from None
    return stripped, size[0], size[1]


def _write_file(path: Path, content: bytes) -> None:
    """Write ``path`` atomically. Several downloads of the same picture may write it at once (threads of
    one process, or several processes): each writes its own unique temporary file, then renames it."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o640)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def backoff(base_seconds: int, attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=base_seconds * 2 ** max(0, attempts - 1)))


async def _claim(services: Services, now: datetime, limit: int) -> list[_Claim]:
    async with services.database.session() as session:
        rows = (
            await session.execute(
                select(
                    ReportPhoto.id,
                    ReportPhoto.media_id,
                    ReportPhoto.attempts,
                    ReportPhoto.received_at,
                    ReportPhoto.pic_url,
                )
                .where(
                    ReportPhoto.status == "pending",
                    ReportPhoto.next_attempt_at <= now,
                    or_(ReportPhoto.claimed_until.is_(None), ReportPhoto.claimed_until < now),
                )
                .order_by(ReportPhoto.next_attempt_at, ReportPhoto.id)
                .limit(limit)
            )
        ).all()
        claims = []
        for row in rows:
            result = await session.execute(
                update(ReportPhoto)
                .where(
                    ReportPhoto.id == row.id,
                    ReportPhoto.status == "pending",
                    or_(ReportPhoto.claimed_until.is_(None), ReportPhoto.claimed_until < now),
                )
                .values(claimed_until=now + LEASE)
            )
            if result.rowcount:
                claims.append(_Claim(row.id, row.media_id, row.attempts, row.received_at, row.pic_url or ""))
        await session.commit()
        return claims


async def _finish(services: Services, photo_id: int, **values: object) -> bool:
    async with services.database.session() as session:
        result = await session.execute(
            update(ReportPhoto).where(ReportPhoto.id == photo_id).values(claimed_until=None, **values)
        )
        await session.commit()
        return bool(result.rowcount)


async def _process(services: Services, claim: _Claim, now: datetime, run: MediaRun) -> None:
    cfg = services.config.reports
    attempts = claim.attempts + 1
    if now - claim.received_at > MEDIA_LIFETIME:
        run.expired += 1
        await _finish(services, claim.id, status="expired", attempts=attempts, last_error="media id older than 3 days")
        return
    try:
        try:
            media = await services.mp_account().download_media(claim.media_id)
        except ChannelError:
            # The push's PicUrl (a CDN link needing no token) stands in when media/get fails.
            fallback = await fetch_pic_url(claim.pic_url, services.config) if claim.pic_url else None
            if fallback is None:
                raise
            media = fallback
    except ChannelError as exc:
        if exc.errcode in EXPIRED_ERRCODES:
            run.expired += 1
            await _finish(services, claim.id, status="expired", attempts=attempts, last_error=f"errcode {exc.errcode}")
            return
        if exc.permanent:
            run.failed += 1
            await _finish(services, claim.id, status="failed", attempts=attempts, last_error=str(exc)[:500])
            return
        error = f"errcode {exc.errcode}: {exc}" if exc.errcode is not None else str(exc)
        await _retry(services, claim.id, attempts, error, now, run)
        return
    except (OSError, TimeoutError, LookupError) as exc:
        await _retry(services, claim.id, attempts, f"{type(exc).__name__}: {exc}", now, run)
        return
    try:
        stripped, width, height = await asyncio.to_thread(check_and_strip, media.content, cfg.max_photo_bytes)
    except PhotoRejected as exc:
        run.rejected += 1
        await _finish(
            services,
            claim.id,
            status="rejected",
            attempts=attempts,
            original_size=len(media.content),
            last_error=str(exc)[:500],
        )
        return
    sha = hashlib.sha256(stripped.content).hexdigest()
    path = photo_path(services.config.media_path(), sha, stripped.extension)
    await asyncio.to_thread(_write_file, path, stripped.content)
    still_there = await _finish(
        services,
        claim.id,
        status="stored",
        attempts=attempts,
        sha256=sha,
        size=len(stripped.content),
        original_size=len(media.content),
        content_type=stripped.content_type,
        width=width,
        height=height,
        stored_at=now,
        last_error="",
    )
    if still_there:
        run.stored += 1
    else:  # the draft was purged while we downloaded: do not keep an orphan file
        await remove_if_unreferenced(services, sha, path)


async def _retry(services: Services, photo_id: int, attempts: int, error: str, now: datetime, run: MediaRun) -> None:
    cfg = services.config.reports
    run.errors.append(error)
    if attempts >= cfg.photo_max_attempts:
        run.failed += 1
        await _finish(services, photo_id, status="failed", attempts=attempts, last_error=error[:500])
        return
    run.retried += 1
    await _finish(
        services,
        photo_id,
        attempts=attempts,
        next_attempt_at=now + backoff(cfg.photo_retry_seconds, attempts),
        last_error=error[:500],
    )


async def download_pending_photos(services: Services, *, now: datetime | None = None, limit: int = 20) -> MediaRun:
    """One pass: claim up to ``limit`` due photos and download them (a few at a time)."""
    now = now or services.now()
    run = MediaRun()
    claims = await _claim(services, now, limit)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(claim: _Claim) -> None:
        async with gate:
            try:
                await _process(services, claim, now, run)
            except Exception:
                log.exception("photo %s: unexpected error; will retry", claim.id)
                await _retry(services, claim.id, claim.attempts + 1, "unexpected error", now, run)

    await asyncio.gather(*(one(c) for c in claims))
    metrics.photo_run(run)
    return run


# ---- purge ---------------------------------------------------------------------------------------


async def remove_if_unreferenced(services: Services, sha: str | None, path: Path | None = None) -> None:
    if not sha:
        return
    async with services.database.session() as session:
        refs = await session.scalar(select(func.count(ReportPhoto.id)).where(ReportPhoto.sha256 == sha))
    if refs:
        return
    media_dir = services.config.media_path()
    candidates = [path] if path is not None else list((media_dir / sha[:2]).glob(f"{sha}.*"))
    for file in candidates:
        await asyncio.to_thread(file.unlink, True)


async def purge_abandoned_photos(services: Services, *, now: datetime | None = None, limit: int = 200) -> int:
    """Delete photos no report will ever own: of cancelled or expired drafts, or sent outside a report
    longer ago than ``pending_attachment_minutes``. Their files go too when no other photo shares them.

    Photos whose owner has no live report draft at all are found in SQL; photos whose owner has a live
    draft are compared with that draft's id (a draft cancelled and restarted, or photos discarded).
    """
    now = now or services.now()
    cfg = services.config.reports
    pending_cutoff = now - timedelta(minutes=cfg.pending_attachment_minutes)
    live_draft = (
        select(Conversation.openid)
        .where(
            Conversation.openid == ReportPhoto.reporter_openid,
            Conversation.state.like(STORED_LIKE),
            or_(Conversation.expires_at.is_(None), Conversation.expires_at > now),
        )
        .exists()
    )
    columns = (ReportPhoto.id, ReportPhoto.draft_id, ReportPhoto.reporter_openid, ReportPhoto.sha256)
    async with services.database.session() as session:
        orphans = (
            await session.execute(
                select(*columns)
                .where(
                    ReportPhoto.report_id.is_(None),
                    or_(
                        and_(ReportPhoto.draft_id.is_(None), ReportPhoto.received_at < pending_cutoff),
                        and_(ReportPhoto.draft_id.is_not(None), ~live_draft),
                    ),
                )
                .order_by(ReportPhoto.id)
                .limit(limit)
            )
        ).all()
        doomed = list(orphans)
        in_live_drafts = (
            await session.execute(
                select(*columns)
                .where(ReportPhoto.report_id.is_(None), ReportPhoto.draft_id.is_not(None), live_draft)
                .order_by(ReportPhoto.id)
                .limit(limit)
            )
        ).all()
        drafts: dict[str, str | None] = {}
        for row in in_live_drafts:
            if row.reporter_openid not in drafts:
                conv = await session.get(Conversation, row.reporter_openid)
                drafts[row.reporter_openid] = (conv.data or {}).get("draft_id") if conv is not None else None
            if drafts[row.reporter_openid] != row.draft_id:
                doomed.append(row)
        removed: list[str | None] = []
        for row in doomed:
            same_owner = (
                ReportPhoto.draft_id.is_(None) if row.draft_id is None else ReportPhoto.draft_id == row.draft_id
            )
            result = await session.execute(
                delete(ReportPhoto).where(ReportPhoto.id == row.id, ReportPhoto.report_id.is_(None), same_owner)
            )
            if result.rowcount:
                removed.append(row.sha256)
        await session.commit()
    for sha in removed:
        await remove_if_unreferenced(services, sha)
    return len(removed)


async def run_media_job(services: Services) -> MediaRun:
    """The scheduled tick: purge abandoned photos, then download what is due."""
    purged = await purge_abandoned_photos(services)
    run = await download_pending_photos(services)
    run.purged = purged
    if run.handled or purged:
        log.info(
            "photos: %d stored, %d retried, %d failed, %d expired, %d rejected, %d purged",
            run.stored,
            run.retried,
            run.failed,
            run.expired,
            run.rejected,
            run.purged,
        )
    return run
