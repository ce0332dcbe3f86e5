"""Removing metadata from report photos without re-encoding them.

The stored file is the original file with its metadata blocks cut out, nothing else changed, so the
pixels are identical and the result is exactly checkable:

- JPEG: drops APP1 (EXIF, XMP), APP3–APP13, APP15, COM, APP2 blocks other than ICC profiles, and anything
  after the end-of-image marker. Keeps APP0 (JFIF), ICC profiles and APP14 (Adobe colour transform, needed
  to decode). When the EXIF Orientation says the camera was turned, a minimal EXIF block holding only
  that Orientation is written back, so the photo still displays upright (no GPS, camera, time or thumbnail).
- PNG: drops the eXIf, tEXt, zTXt, iTXt and tIME chunks (chunks are copied whole, CRCs untouched).
- WebP: drops the EXIF and "XMP " chunks, clears their VP8X flags and fixes the RIFF size.
- GIF: drops comment extensions and XMP application extensions; keeps NETSCAPE looping.

The type is decided by magic bytes, never by what the sender claims.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field


class UnsupportedImage(ValueError):
    """Not a JPEG, PNG, GIF or WebP we can read; the message says why."""


@dataclass(frozen=True)
class StrippedImage:
    content: bytes
    content_type: str
    extension: str
    removed: tuple[str, ...] = field(default=())
    orientation: int = 1


def sniff(content: bytes) -> str | None:
    """The image type by magic bytes: jpeg, png, gif, webp or None."""
    if content[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if content[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    return None


CONTENT_TYPES = {
    "jpeg": ("image/jpeg", "jpg"),
    "png": ("image/png", "png"),
    "gif": ("image/gif", "gif"),
    "webp": ("image/webp", "webp"),
}


def strip_metadata(content: bytes) -> StrippedImage:
    kind = sniff(content)
    if kind is None:
        raise UnsupportedImage("not a JPEG, PNG, GIF or WebP image")
    stripper = {"jpeg": _strip_jpeg, "png": _strip_png, "gif": _strip_gif, "webp": _strip_webp}[kind]
    try:
        clean, removed, orientation = stripper(content)
    except (IndexError, struct.error) as exc:
        raise UnsupportedImage(f"truncated or malformed {kind}: {exc}") from None
    content_type, extension = CONTENT_TYPES[kind]
    return StrippedImage(clean, content_type, extension, tuple(removed), orientation)


# ---- JPEG ----------------------------------------------------------------------------------------

_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0–7: no length field
_KEEP_APP = {0xE0, 0xEE}  # APP0 (JFIF/JFXX), APP14 (Adobe)


def _exif_orientation(payload: bytes) -> int:
    """The Orientation tag (0x0112) of an APP1 EXIF payload, 1 when absent or unreadable."""
    if not payload.startswith(b"Exif\x00\x00"):
        return 1
    tiff = payload[6:]
    try:
        order = {b"II": "<", b"MM": ">"}[tiff[:2]]
        (ifd,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
        for i in range(count):
            entry = tiff[ifd + 2 + 12 * i : ifd + 14 + 12 * i]
            tag, typ, _n = struct.unpack(order + "HHI", entry[:8])
            if tag == 0x0112 and typ == 3:
                (value,) = struct.unpack(order + "H", entry[8:10])
                return value if 1 <= value <= 8 else 1
    except (KeyError, struct.error):
        return 1
    return 1


def orientation_only_exif(orientation: int) -> bytes:
    """A complete APP1 segment whose EXIF holds nothing but Orientation."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _strip_jpeg(data: bytes) -> tuple[bytes, list[str], int]:
    out = bytearray(b"\xff\xd8")
    removed: list[str] = []
    orientation = 1
    insert_at: int | None = None
    pos = 2
    n = len(data)
    while True:
        if pos >= n:
            raise UnsupportedImage("JPEG ends without an end-of-image marker")
        if data[pos] != 0xFF:
            raise UnsupportedImage(f"JPEG marker expected at byte {pos}")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI: anything after it (trailers, extra pictures) is dropped
            out += b"\xff\xd9"
            if pos < n:
                removed.append(f"trailer({n - pos} bytes)")
            break
        if marker in _STANDALONE:
            out += bytes((0xFF, marker))
            continue
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > n:
            raise UnsupportedImage(f"JPEG segment {marker:#x} runs past the end")
        segment = data[pos - 2 : pos + length]
        payload = data[pos + 2 : pos + length]
        pos += length
        if marker == 0xDA:  # start of scan: copy the entropy-coded data up to the next real marker
            out += segment
            end = pos
            while True:
                end = data.find(b"\xff", end)
                if end == -1 or end + 1 >= n:
                    raise UnsupportedImage("JPEG scan data ends without an end-of-image marker")
                if data[end + 1] != 0x00 and not 0xD0 <= data[end + 1] <= 0xD7:
                    break
                end += 2
            out += data[pos:end]
            pos = end
            continue
        if 0xE0 <= marker <= 0xEF:
            keep = marker in _KEEP_APP or (marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"))
        else:
            keep = marker != 0xFE
        if keep:
            out += segment
            if marker == 0xE0 and insert_at is None:
                insert_at = len(out)
        else:
            if marker == 0xE1:
                orientation = max(orientation, _exif_orientation(payload))
            name = "COM" if marker == 0xFE else f"APP{marker - 0xE0}"
            removed.append(name)
    if orientation != 1:
        at = insert_at if insert_at is not None else 2
        out[at:at] = orientation_only_exif(orientation)
    return bytes(out), removed, orientation


# ---- PNG -----------------------------------------------------------------------------------------

_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _strip_png(data: bytes) -> tuple[bytes, list[str], int]:
    out = bytearray(data[:8])
    removed: list[str] = []
    pos = 8
    while True:
        if pos + 8 > len(data):
            raise UnsupportedImage("PNG ends without an IEND chunk")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise UnsupportedImage(f"PNG chunk {ctype!r} runs past the end")
        if ctype in _PNG_DROP:
            removed.append(ctype.decode("latin-1"))
        else:
            out += data[pos:end]
        pos = end
        if ctype == b"IEND":
            if pos < len(data):
                removed.append(f"trailer({len(data) - pos} bytes)")
            return bytes(out), removed, 1


# ---- WebP ----------------------------------------------------------------------------------------


def _strip_webp(data: bytes) -> tuple[bytes, list[str], int]:
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(len(data), 8 + riff_size)
    chunks: list[bytes] = []
    removed: list[str] = []
    pos = 12
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        stop = pos + 8 + size + (size & 1)
        if pos + 8 + size > end:
            raise UnsupportedImage(f"WebP chunk {fourcc!r} runs past the end")
        chunk = data[pos:stop]
        if fourcc in (b"EXIF", b"XMP "):
            removed.append(fourcc.decode("latin-1").strip())
        else:
            if fourcc == b"VP8X":
                flags = chunk[8] & ~0x0C  # clear the EXIF (0x08) and XMP (0x04) flags
                chunk = chunk[:8] + bytes((flags,)) + chunk[9:]
            chunks.append(chunk)
        pos = stop
    if not chunks:
        raise UnsupportedImage("WebP without image data")
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body, removed, 1


# ---- GIF -----------------------------------------------------------------------------------------


def _sub_blocks_end(data: bytes, pos: int) -> int:
    while True:
        size = data[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size
        if pos > len(data):
            raise UnsupportedImage("GIF data block runs past the end")


def _strip_gif(data: bytes) -> tuple[bytes, list[str], int]:
    packed = data[10]
    pos = 13
    if packed & 0x80:
        pos += 3 * (2 ** ((packed & 0x07) + 1))
    out = bytearray(data[:pos])
    removed: list[str] = []
    while True:
        if pos >= len(data):
            raise UnsupportedImage("GIF ends without a trailer")
        block = data[pos]
        if block == 0x3B:
            out += b"\x3b"
            if pos + 1 < len(data):
                removed.append(f"trailer({len(data) - pos - 1} bytes)")
            return bytes(out), removed, 1
        if block == 0x21:
            label = data[pos + 1]
            end = _sub_blocks_end(data, pos + 2)
            ident = data[pos + 3 : pos + 14] if label == 0xFF else b""
            if label == 0xFE:
                removed.append("comment")
            elif label == 0xFF and ident.startswith(b"XMP Data"):
                removed.append("XMP")
            else:
                out += data[pos:end]
            pos = end
        elif block == 0x2C:
            start = pos
            local = data[pos + 9]
            pos += 10
            if local & 0x80:
                pos += 3 * (2 ** ((local & 0x07) + 1))
            pos = _sub_blocks_end(data, pos + 1)  # skip the LZW minimum code size, then the data
            out += data[start:pos]
        else:
            raise UnsupportedImage(f"unknown GIF block {block:#x} at byte {pos}")
