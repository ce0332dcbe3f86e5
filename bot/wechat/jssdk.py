"""The JS-SDK page signature (``wx.config``): what a page needs to use WeChat's open tags.

WeChat signs ``jsapi_ticket=…&noncestr=…&timestamp=…&url=…`` (keys in that ASCII order, the url without its
``#`` fragment) with SHA-1. The ticket comes from ``/cgi-bin/ticket/getticket?type=jsapi``, lives 7,200 s and
is cached like the access token (``WechatMpChannel.jsapi_ticket``). The page's domain must be listed as a
JS interface safe domain (JS接口安全域名) in the 公众号 admin, or ``wx.config`` fails with "invalid url domain".
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass


def signature(ticket: str, nonce: str, timestamp: int, url: str) -> str:
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url.split('#', 1)[0]}"
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PageConfig:
    """The values of ``wx.config`` for one page load."""

    app_id: str
    timestamp: int
    nonce: str
    signature: str


def page_config(app_id: str, ticket: str, url: str, timestamp: int) -> PageConfig:
    nonce = secrets.token_hex(8)
    return PageConfig(app_id, timestamp, nonce, signature(ticket, nonce, timestamp, url))
