"""A WeChat-server stand-in for tests: posts signed, encrypted pushes over real HTTP and opens the replies.

Reads like a chat transcript::

    reply = await wx.send_text("user-1", "举报")
    assert "请选择" in reply.content
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from bot.wechat import push
from bot.wechat.messages import parse_xml
from bot.wechat.push import PushSigner

NO_PICTURE = "http://127.0.0.1:9/mmbiz_jpg/none.jpg"  # a PicUrl that answers nothing (refused at once)


@dataclass
class WxReply:
    status: int
    body: str
    xml: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def content(self) -> str:
        return str(self.fields.get("Content", ""))

    @property
    def msg_type(self) -> str:
        return str(self.fields.get("MsgType", ""))


class WxClient:
    def __init__(
        self,
        base_url: str,
        signer: PushSigner,
        clock: Callable[[], datetime],
        *,
        account: str = "gh_test_account",
        mode: str = "safe",
        platform: Any = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # A FakeWechatApi: told of every push first, as WeChat knows what a user did before it pushes it.
        self.platform = platform
        self.signer = signer
        self.clock = clock
        self.account = account
        self.mode = mode
        self.http = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.http.close()

    def _ts(self) -> int:
        return int(self.clock().timestamp())

    async def post_xml(self, xml: str, *, mode: str | None = None, openid: str = "") -> WxReply:
        if self.platform is not None:
            pushed = parse_xml(xml.encode("utf-8"))
            sender = str(pushed.get("FromUserName") or openid)
            self.platform.observe_push(sender, str(pushed.get("MsgType", "")), str(pushed.get("Event") or ""))
        signed = self.signer.request(xml, mode or self.mode, timestamp=self._ts(), openid=openid)
        async with self.http.post(f"{self.base_url}/wechat", params=signed.query, data=signed.body) as resp:
            body = await resp.text()
            status = resp.status
        if status != 200 or body == "success" or not body:
            return WxReply(status=status, body=body)
        xml_reply = self.signer.open_reply(body)
        return WxReply(status=status, body=body, xml=xml_reply, fields=parse_xml(xml_reply.encode("utf-8")))

    async def send_text(
        self, openid: str, content: str, *, msg_id: str | None = None, mode: str | None = None
    ) -> WxReply:
        xml = push.text_xml(self.account, openid, content, msg_id=msg_id, create_time=self._ts())
        return await self.post_xml(xml, mode=mode, openid=openid)

    async def send_image(
        self, openid: str, media_id: str, *, msg_id: str | None = None, pic_url: str = NO_PICTURE
    ) -> WxReply:
        xml = push.image_xml(
            self.account,
            openid,
            media_id,
            pic_url=pic_url,
            msg_id=msg_id,
            create_time=self._ts(),
        )
        return await self.post_xml(xml, openid=openid)

    async def send_location(
        self, openid: str, latitude: float, longitude: float, label: str = "", *, msg_id: str | None = None
    ) -> WxReply:
        xml = push.location_xml(
            self.account, openid, latitude, longitude, label, msg_id=msg_id, create_time=self._ts()
        )
        return await self.post_xml(xml, openid=openid)

    async def send_event(self, openid: str, event: str, key: str | None = None) -> WxReply:
        return await self.post_xml(
            push.event_xml(self.account, openid, event, key, create_time=self._ts()), openid=openid
        )

    async def push_event(self, openid: str, xml: str) -> WxReply:
        """A delivery-result event from the platform itself (no user action): posted without observing it."""
        signed = self.signer.request(xml, self.mode, timestamp=self._ts(), openid=openid)
        async with self.http.post(f"{self.base_url}/wechat", params=signed.query, data=signed.body) as resp:
            return WxReply(status=resp.status, body=await resp.text())

    async def click(self, openid: str, key: str) -> WxReply:
        return await self.send_event(openid, "CLICK", key)
