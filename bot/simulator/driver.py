"""Plays WeChat's servers: builds a push, signs (and encrypts) it and posts it to the service's own /wechat.

Nothing is handed to the pipeline directly, so the simulator exercises exactly the path a real push takes:
signature, timestamp, decryption, parsing, dedup, handler, encrypted reply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from bot import texts
from bot.config import Config
from bot.wechat import push
from bot.wechat.messages import MalformedMessage, parse_xml
from bot.wechat.push import PushSigner

ACCOUNT = "gh_sandbox_account"  # the account's original id (ToUserName) in the simulator's pushes
TIMEOUT = aiohttp.ClientTimeout(total=15)


@dataclass
class PushOutcome:
    """What the callback answered: the HTTP status, and the opened passive reply (if any)."""

    status: int
    reply: dict[str, Any] | None = None
    error: str = ""
    sent: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "reply": self.reply, "error": self.error, "sent": self.sent}


def describe_reply(fields: dict[str, Any]) -> dict[str, Any]:
    """A passive reply as the page shows it."""
    msg_type = str(fields.get("MsgType", ""))
    if msg_type == "text":
        return {"type": "text", "content": str(fields.get("Content", ""))}
    if msg_type == "news":
        item = (fields.get("Articles") or {}).get("item") or {}
        if isinstance(item, list):
            item = item[0] if item else {}
        return {
            "type": "news",
            "label": texts.SIM_REPLY_NEWS,
            "title": str(item.get("Title", "")),
            "description": str(item.get("Description", "")),
            "url": str(item.get("Url", "")),
        }
    return {"type": msg_type or "unknown", "content": ""}


class SimulatorDriver:
    """Owns the HTTP client and the signer; one per app."""

    def __init__(self, config: Config, clock: Callable[[], datetime]) -> None:
        wechat = config.wechat
        self.signer = PushSigner(wechat.token, wechat.encoding_aes_key, wechat.app_id)
        self.mode = "safe" if wechat.encoding_aes_key else "plaintext"
        self.clock = clock
        self.http: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """Opened on first use, so a service that fails to start leaves no session behind."""
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self.http

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
            self.http = None

    def now(self) -> int:
        """The push's timestamp comes from the service's clock, as WeChat's comes from a synchronised one."""
        return int(self.clock().timestamp())

    def text(self, openid: str, content: str) -> str:
        return push.text_xml(ACCOUNT, openid, content, create_time=self.now())

    def image(self, openid: str, media_id: str) -> str:
        return push.image_xml(ACCOUNT, openid, media_id, create_time=self.now())

    def location(self, openid: str, latitude: float, longitude: float, label: str) -> str:
        return push.location_xml(ACCOUNT, openid, latitude, longitude, label, create_time=self.now())

    def event(self, openid: str, name: str, key: str | None = None) -> str:
        return push.event_xml(ACCOUNT, openid, name, key, create_time=self.now())

    def subscription_choice(self, openid: str, template_id: str) -> str:
        """What WeChat pushes after the user accepted the case page's subscription popup."""
        return push.subscribe_popup_xml(ACCOUNT, openid, template_id, create_time=self.now())

    async def post(self, callback_url: str, openid: str, xml: str) -> PushOutcome:
        signed = self.signer.request(xml, self.mode, timestamp=self.now(), openid=openid)
        try:
            async with self._client().post(callback_url, params=signed.query, data=signed.body,
                                      headers={"Content-Type": "text/xml"}) as resp:
                status, body = resp.status, await resp.text()
        except (TimeoutError, aiohttp.ClientError) as exc:
            return PushOutcome(status=0, error=texts.SIM_CALLBACK_UNREACHABLE.format(error=type(exc).__name__))
        if status != 200:
            detail = body.strip()[:200]
            return PushOutcome(status=status, error=texts.SIM_CALLBACK_FAILED.format(status=status, detail=detail))
        try:
            inner = self.signer.open_reply(body)
            reply = describe_reply(parse_xml(inner.encode("utf-8"))) if inner else None
        except (MalformedMessage, ValueError, KeyError) as exc:
            return PushOutcome(status=status, error=texts.SIM_CALLBACK_FAILED.format(status=status, detail=str(exc)))
        return PushOutcome(status=status, reply=reply)
