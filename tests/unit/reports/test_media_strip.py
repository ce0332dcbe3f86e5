"""Metadata removal: the stored file is the original minus its metadata blocks, pixels untouched."""

from __future__ import annotations

import struct

import pytest

from bot.reports.photo_strip import UnsupportedImage, orientation_only_exif, sniff, strip_metadata
from bot.reports.photos import PhotoRejected, check_and_strip
from tests.unit.reports import imagefactory as imgs


def test_jpeg_loses_exif_and_comment_and_nothing_else() -> None:
    original = imgs.jpeg(exif=imgs.exif_block(gps=True), comment=b"taken at my home")
    metadata = [(s, e) for m, s, e in imgs.jpeg_segments(original) if m in (0xE1, 0xFE)]
    assert len(metadata) == 2
    result = strip_metadata(original)
    assert result.content == imgs.remove_ranges(original, metadata)
    assert result.content_type == "image/jpeg" and result.extension == "jpg"
    assert set(result.removed) == {"APP1", "COM"}
    assert imgs.pixels(result.content) == imgs.pixels(original)
    assert imgs.exif_of(result.content) == {}
    assert b"PhoneMaker" not in result.content and b"taken at my home" not in result.content


def test_a_clean_jpeg_is_stored_unchanged() -> None:
    original = imgs.jpeg()
    assert strip_metadata(original).content == original


def test_a_turned_jpeg_keeps_only_its_orientation() -> None:
    original = imgs.jpeg(exif=imgs.exif_block(orientation=6, gps=True))
    result = strip_metadata(original)
    assert result.orientation == 6
    assert imgs.exif_of(result.content) == {0x0112: 6}
    app1 = [(s, e) for m, s, e in imgs.jpeg_segments(original) if m == 0xE1]
    without = imgs.remove_ranges(original, app1)
    # The original minus its EXIF, with the minimal orientation block after JFIF (APP0).
    app0_end = imgs.jpeg_segments(without)[0][2]
    assert result.content == without[:app0_end] + orientation_only_exif(6) + without[app0_end:]
    assert imgs.pixels(result.content) == imgs.pixels(original)


def test_trailing_data_after_the_image_is_dropped() -> None:
    original = imgs.jpeg() + b"GPS 35.0N 111.0E hidden trailer"
    assert strip_metadata(original).content == imgs.jpeg()


def test_png_text_and_exif_chunks_are_dropped() -> None:
    original = imgs.png(exif=imgs.exif_block(), text={"Author": "someone"})
    plain = imgs.png()
    result = strip_metadata(original)
    assert result.content == plain
    assert set(result.removed) == {"tEXt", "eXIf"}
    assert imgs.pixels(result.content) == imgs.pixels(original)


def test_webp_exif_is_dropped_and_the_container_fixed() -> None:
    original = imgs.webp(exif=imgs.exif_block())
    assert imgs.exif_of(original)
    result = strip_metadata(original)
    assert imgs.exif_of(result.content) == {}
    assert imgs.pixels(result.content) == imgs.pixels(original)
    (size,) = struct.unpack("<I", result.content[4:8])
    assert size == len(result.content) - 8
    assert b"EXIF" not in result.content and b"PhoneMaker" not in result.content


def test_gif_comments_are_dropped() -> None:
    original = imgs.gif(comment=b"secret note")
    result = strip_metadata(original)
    assert b"secret note" not in result.content and result.removed == ("comment",)
    assert imgs.pixels(result.content) == imgs.pixels(original)
    assert strip_metadata(imgs.gif()).content == imgs.gif()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world",
        b"%PDF-1.4 not an image",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
)
def test_non_images_are_refused(data: bytes) -> None:
    assert sniff(data) is None
    with pytest.raises(UnsupportedImage):
        strip_metadata(data)


def test_truncated_images_are_refused() -> None:
    for image in (imgs.jpeg(), imgs.png(), imgs.gif(), imgs.webp()):
        with pytest.raises(UnsupportedImage):
            strip_metadata(image[: len(image) // 2])


def test_checks_refuse_too_large_and_undecodable_images() -> None:
    image = imgs.jpeg()
    with pytest.raises(PhotoRejected, match="too large"):
        check_and_strip(image, max_bytes=len(image) - 1)
    stripped, width, height = check_and_strip(image, max_bytes=len(image))
    assert (width, height) == (48, 32) and stripped.content == image
    # A JPEG whose frame header is garbage: the structure walks, Pillow refuses it.
    broken = bytearray(image)
    sof = next(s for m, s, e in imgs.jpeg_segments(image) if m == 0xC0)
    broken[sof + 4 : sof + 9] = b"\x00" * 5
    with pytest.raises(PhotoRejected):
        check_and_strip(bytes(broken), max_bytes=10**7)
