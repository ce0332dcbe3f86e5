"""The service's icon for browser tabs and bookmarks (console, simulator): a white drop on the brand green.

``/favicon.svg`` is the drawing; ``/favicon.ico`` is the same shape drawn with Pillow for browsers and
tools that only ask for the classic file.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from aiohttp import web
from PIL import Image, ImageDraw

SVG_PATH = Path(__file__).resolve().parent / "static" / "favicon.svg"
BRAND = (0x17, 0x64, 0x3A, 255)
WHITE = (255, 255, 255, 255)
ICO_SIZES = ((16, 16), (32, 32), (48, 48), (64, 64))
CACHE = "public, max-age=86400"


@functools.cache
def ico_bytes() -> bytes:
    """The icon at 64 px units scaled by 4 (drawn large, then reduced for each ICO size)."""
    scale = 4
    image = Image.new("RGBA", (64 * scale, 64 * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 64 * scale - 1, 64 * scale - 1), radius=14 * scale, fill=BRAND)
    # The drop: a circle of radius 18 around (32, 44) under a point at (32, 8).
    draw.ellipse(((32 - 18) * scale, (44 - 18) * scale, (32 + 18) * scale, (44 + 18) * scale), fill=WHITE)
    draw.polygon([(32 * scale, 8 * scale), (47.6 * scale, 33 * scale), (16.4 * scale, 33 * scale)], fill=WHITE)
    leaf = [(24, 47), (26, 41), (31, 36.5), (41, 33), (38.5, 40.5), (32, 45.5)]  # the SVG's two curves, in steps
    draw.polygon([(x * scale, y * scale) for x, y in leaf], fill=BRAND)
    out = io.BytesIO()
    image.save(out, format="ICO", sizes=list(ICO_SIZES))
    return out.getvalue()


async def favicon_svg(_request: web.Request) -> web.Response:
    return web.Response(body=SVG_PATH.read_bytes(), content_type="image/svg+xml", headers={"Cache-Control": CACHE})


async def favicon_ico(_request: web.Request) -> web.Response:
    return web.Response(body=ico_bytes(), content_type="image/vnd.microsoft.icon", headers={"Cache-Control": CACHE})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/favicon.svg", favicon_svg)
    app.router.add_get("/favicon.ico", favicon_ico)
