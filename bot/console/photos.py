"""Finding a stored report photo on disk and naming its media type (never trusting the name alone)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Config

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def photo_file(config: Config, sha256: str) -> Path | None:
    """The stored file for a content hash, or None; the hash is checked before it touches a path."""
    if not _SHA256.match(sha256):
        return None
    root = config.media_path().resolve()
    folder = root / sha256[:2]  # the layout of bot.reports.photos.photo_path: <hash[:2]>/<hash>.<ext>
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob(f"{sha256}.*")):
        resolved = path.resolve()
        if resolved.is_file() and resolved.is_relative_to(root):
            return resolved
    return None


def photo_media_type(recorded: str, data: bytes) -> str:
    """The type the bytes actually have; the recorded type only when the bytes agree or cannot tell."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return recorded if recorded in IMAGE_TYPES else "application/octet-stream"
