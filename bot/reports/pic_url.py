"""The fallback download of a photo through the PicUrl of its image push (no access token needed).

WeChat does not document how long a PicUrl lives, so it is only tried when ``media/get`` fails.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp

from bot.config import Config
from bot.outbound.channels.base import Media

log = logging.getLogger(__name__)


async def fetch_pic_url(url: str, config: Config) -> Media | None:
    """The image behind ``url``, or None when it cannot be had (logged without the URL's query)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    limit = config.reports.max_photo_bytes
    timeout = aiohttp.ClientTimeout(total=config.wechat.http_timeout_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as response:
            content_type = response.content_type or ""
            if response.status != 200 or not content_type.startswith("image/"):
                log.warning("PicUrl fallback from %s: HTTP %s %s", parts.netloc, response.status, content_type)
                return None
            content = await response.content.read(limit + 1)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("PicUrl fallback from %s failed: %s", parts.netloc, type(exc).__name__)
        return None
    if len(content) > limit:
        return None
    return Media(content=content, content_type=content_type, filename=parts.path.rsplit("/", 1)[-1])
