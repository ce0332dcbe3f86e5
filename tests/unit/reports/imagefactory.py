"""Small test images with and without metadata, made with Pillow."""

from __future__ import annotations

import io
import struct

from PIL import Image

GPS_IFD = 0x8825


def picture(size: tuple[int, int] = (48, 32), mode: str = "RGB") -> Image.Image:
    """A gradient, so that the pixels are not trivial."""
    img = Image.new(mode, size)
    width, height = size
    img.putdata(
        [((x * 5) % 256, (y * 7) % 256, (x * y) % 256)[: len(mode)] for y in range(height) for x in range(width)]
    )
    return img


def exif_block(orientation: int = 1, *, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0132] = "2026:11:20 10:00:00"  # DateTime
    if orientation != 1:
        exif[0x0112] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (35.0, 1.0, 12.0), 3: "E", 4: (110.0, 59.0, 1.0)}
    return exif


def jpeg(*, exif: Image.Exif | None = None, comment: bytes | None = None, size: tuple[int, int] = (48, 32)) -> bytes:
    buf = io.BytesIO()
    kwargs: dict = {"quality": 90}
    if exif is not None:
        kwargs["exif"] = exif
    if comment is not None:
        kwargs["comment"] = comment
    picture(size).save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def png(*, exif: Image.Exif | None = None, text: dict[str, str] | None = None) -> bytes:
    from PIL import PngImagePlugin

    buf = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    kwargs: dict = {"pnginfo": info}
    if exif is not None:
        kwargs["exif"] = exif
    picture().save(buf, "PNG", **kwargs)
    return buf.getvalue()


def webp(*, exif: Image.Exif | None = None) -> bytes:
    buf = io.BytesIO()
    kwargs: dict = {"lossless": True}
    if exif is not None:
        kwargs["exif"] = exif
    picture().save(buf, "WEBP", **kwargs)
    return buf.getvalue()


def gif(*, comment: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    kwargs: dict = {}
    if comment is not None:
        kwargs["comment"] = comment
    picture().convert("P").save(buf, "GIF", **kwargs)
    return buf.getvalue()


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of every segment before the first scan, by a plain independent walk."""
    out = []
    pos = 2
    while pos < len(data):
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        out.append((marker, pos, pos + 2 + length))
        if marker == 0xDA:
            break
        pos += 2 + length
    return out


def remove_ranges(data: bytes, ranges: list[tuple[int, int]]) -> bytes:
    out = bytearray()
    pos = 0
    for start, end in sorted(ranges):
        out += data[pos:start]
        pos = end
    out += data[pos:]
    return bytes(out)


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.mode, img.size, img.tobytes()


def exif_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as img:
        return dict(img.getexif())
