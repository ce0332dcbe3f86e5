"""Building pushes the way WeChat's servers send them: used by the simulator, the tests and the benchmarks.

``PushSigner.request(xml, mode)`` returns the query string and body for plaintext, compatible or safe mode.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from itertools import count

from bot.wechat.crypto import MessageCrypto
from bot.wechat.messages import parse_xml
from bot.wechat.replies import cdata
from bot.wechat.signature import compute_signature

_msg_ids = count(int(time.time() * 1000) * 1000)


def next_msg_id() -> str:
    """A 19-digit id like the ones WeChat assigns."""
    return str(next(_msg_ids))[:19].rjust(19, "1")


def _envelope(to_user: str, openid: str, create_time: int, msg_type: str, inner: str) -> str:
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{inner}</xml>"
    )


def text_xml(
    to_user: str, openid: str, content: str, *, msg_id: str | None = None, create_time: int | None = None
) -> str:
    msg_id = msg_id or next_msg_id()
    inner = f"<Content>{cdata(content)}</Content><MsgId>{msg_id}</MsgId>"
    return _envelope(to_user, openid, create_time or int(time.time()), "text", inner)


def image_xml(
    to_user: str,
    openid: str,
    media_id: str,
    *,
    pic_url: str = "",
    msg_id: str | None = None,
    create_time: int | None = None,
) -> str:
    msg_id = msg_id or next_msg_id()
    inner = f"<PicUrl>{cdata(pic_url)}</PicUrl><MediaId>{cdata(media_id)}</MediaId><MsgId>{msg_id}</MsgId>"
    return _envelope(to_user, openid, create_time or int(time.time()), "image", inner)


def location_xml(
    to_user: str,
    openid: str,
    latitude: float,
    longitude: float,
    label: str = "",
    *,
    scale: int = 15,
    msg_id: str | None = None,
    create_time: int | None = None,
) -> str:
    msg_id = msg_id or next_msg_id()
    inner = (
        f"<Location_X>{latitude}</Location_X><Location_Y>{longitude}</Location_Y><Scale>{scale}</Scale>"
        f"<Label>{cdata(label)}</Label><MsgId>{msg_id}</MsgId>"
    )
    return _envelope(to_user, openid, create_time or int(time.time()), "location", inner)


def event_xml(
    to_user: str, openid: str, event: str, event_key: str | None = None, *, create_time: int | None = None
) -> str:
    inner = f"<Event>{cdata(event)}</Event>"
    if event_key is not None:
        inner += f"<EventKey>{cdata(event_key)}</EventKey>"
    return _envelope(to_user, openid, create_time or int(time.time()), "event", inner)


@dataclass(frozen=True)
class SignedRequest:
    query: dict[str, str]
    body: bytes


class PushSigner:
    """Signs (and in safe/compatible mode encrypts) a push with the account's token and key."""

    def __init__(self, token: str, encoding_aes_key: str = "", app_id: str = "") -> None:
        self.token = token
        self.crypto = MessageCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None

    def request(
        self,
        xml: str,
        mode: str = "safe",
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        openid: str = "",
    ) -> SignedRequest:
        timestamp_s = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))
        query = {
            "signature": compute_signature(self.token, timestamp_s, nonce),
            "timestamp": timestamp_s,
            "nonce": nonce,
        }
        if openid:
            query["openid"] = openid
        if mode == "plaintext":
            return SignedRequest(query, xml.encode("utf-8"))
        if self.crypto is None:
            raise ValueError(f"{mode} mode needs an EncodingAESKey")
        encrypt = self.crypto.encrypt(xml)
        query["encrypt_type"] = "aes"
        query["msg_signature"] = self.crypto.sign(timestamp_s, nonce, encrypt)
        to_user = parse_xml(xml.encode("utf-8")).get("ToUserName", "")
        if mode == "safe":
            body = f"<xml><ToUserName>{cdata(to_user)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        elif mode == "compatible":
            body = xml.replace("</xml>", f"<Encrypt>{cdata(encrypt)}</Encrypt></xml>")
        else:
            raise ValueError(f"unknown mode {mode!r}")
        return SignedRequest(query, body.encode("utf-8"))

    def open_reply(self, body: str) -> str:
        """The plaintext XML inside an encrypted reply (after checking its signature); plaintext passes through."""
        if not body or body == "success":
            return ""
        fields = parse_xml(body.encode("utf-8"))
        if "Encrypt" not in fields:
            return body
        if self.crypto is None:
            raise ValueError("encrypted reply but no key")
        expected = self.crypto.sign(fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        if expected != fields.get("MsgSignature"):
            raise ValueError("reply signature does not match")
        return self.crypto.decrypt(fields["Encrypt"]).decode("utf-8")


def subscribe_popup_xml(
    to_user: str, openid: str, template_id: str, *, accept: bool = True, create_time: int | None = None
) -> str:
    """The push after the user chose in the subscription popup (``<wx-open-subscribe>``; scene 2: a web page)."""
    choice = "accept" if accept else "reject"
    inner = (
        f"<Event>{cdata('subscribe_msg_popup_event')}</Event><SubscribeMsgPopupEvent><List>"
        f"<TemplateId>{cdata(template_id)}</TemplateId><SubscribeStatusString>{cdata(choice)}</SubscribeStatusString>"
        f"<PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>"
    )
    return _envelope(to_user, openid, create_time or int(time.time()), "event", inner)
