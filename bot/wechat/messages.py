"""Incoming pushes: parsed safely into one ``Incoming`` value whatever their type."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError, fromstring

MAX_SCALE = 1000  # WeChat's map zoom level (about 1–20)


class MalformedMessage(ValueError):
    """The body is not a WeChat push we can read."""


@dataclass(frozen=True)
class Location:
    latitude: float  # WeChat's Location_X (GCJ-02)
    longitude: float  # WeChat's Location_Y (GCJ-02)
    label: str = ""
    scale: int | None = None


@dataclass(frozen=True)
class Incoming:
    """A message or event from a user, with the fields handlers need and the raw dict for the rest."""

    to_user: str
    openid: str
    create_time: int
    msg_type: str
    msg_id: str = ""
    content: str = ""
    event: str = ""
    event_key: str = ""
    media_id: str = ""
    pic_url: str = ""
    recognition: str = ""
    location: Location | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    text: str = field(init=False, compare=False, repr=False)  # what the user said (see ``_said``)

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def dedup_key(self) -> str:
        """Messages: FromUserName+MsgId; events: FromUserName+CreateTime+Event+EventKey."""
        if self.msg_id:
            return f"m:{self.openid}:{self.msg_id}"
        # A delivery result names its message (MsgID): two results in the same second are two pushes.
        result_of = self.raw.get("MsgID")
        suffix = f":{result_of}" if isinstance(result_of, str) and result_of else ""
        return f"e:{self.openid}:{self.create_time}:{self.event}:{self.event_key}{suffix}"[:255]

    def __post_init__(self) -> None:
        # Every route's filter reads ``text``: worked out once (a frozen dataclass sets it this way).
        object.__setattr__(self, "text", _said(self.msg_type, self.content, self.recognition))


def _said(msg_type: str, content: str, recognition: str) -> str:
    """What the user said: typed text, or the speech recognition of a voice message."""
    if msg_type == "text":
        return content.strip()
    if msg_type == "voice":
        return recognition.strip().rstrip("。！？!?.")
    return ""


def _value(element: Element) -> Any:
    """An element's text (stripped; None when empty), or for one with children a dict of them, a repeated
    child name giving a list (``SendPicsInfo/PicList/item``)."""
    if len(element) == 0:
        text = (element.text or "").strip()
        return text or None
    fields: dict[str, Any] = {}
    for child in element:
        value = _value(child)
        if child.tag in fields:
            kept = fields[child.tag]
            fields[child.tag] = [*kept, value] if isinstance(kept, list) else [kept, value]
        else:
            fields[child.tag] = value
    return fields


def parse_xml(body: bytes) -> dict[str, Any]:
    """The fields of a push body: a flat document (every push but a few events) read by ``_read_flat``,
    anything else by the C ElementTree parser."""
    flat = _read_flat(body)
    return flat if flat is not None else _parse_tree(body)


def _parse_tree(body: bytes) -> dict[str, Any]:
    """Parse a push body with the C ElementTree parser. A push never has a DTD: markup declarations before
    the root element are refused before parsing, so no entity (XXE, billion laughs) is ever declared (text
    inside the message, CDATA included, may say anything)."""
    if b"<!" in body.split(b"<xml", 1)[0]:
        raise MalformedMessage("not well-formed XML: no declaration may come before <xml>")
    try:
        root = fromstring(body)
    except (ParseError, ValueError, TypeError) as exc:
        raise MalformedMessage(f"not well-formed XML: {exc}") from None
    if root.tag != "xml" or len(root) == 0:
        raise MalformedMessage("the root element must be <xml> with fields")
    fields = _value(root)
    assert isinstance(fields, dict)
    return fields


# A flat push: <xml>, then fields each holding one CDATA section or plain text (no markup, no entity),
# then </xml>. Text of that shape means exactly what the XML parser would make of it, as long as no field
# repeats, no "]]>" stands in the text, and no character is one XML forbids or rewrites (a carriage
# return becomes a newline in XML): otherwise the parser reads the body (and says what is wrong).
_FLAT_FIELD = re.compile(r"[ \t\n]*<([A-Za-z_][A-Za-z0-9_]*)>(?:<!\[CDATA\[(.*?)\]\]>|([^<&]*))</\1>", re.S)
_FLAT_END = re.compile(r"[ \t\n]*</xml>[ \t\n]*")
_NOT_PLAIN_XML = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _read_flat(body: bytes) -> dict[str, Any] | None:
    """The fields of a flat push without the XML parser (about a third of its time); None: not flat."""
    if not body.startswith(b"<xml>"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _NOT_PLAIN_XML.search(text):
        return None
    fields: dict[str, Any] = {}
    pos = 5
    while (field_ := _FLAT_FIELD.match(text, pos)) is not None:
        tag, cdata, plain = field_.groups()
        value = cdata if cdata is not None else plain
        if tag in fields or "]]>" in value:
            return None
        fields[tag] = value.strip() or None
        pos = field_.end()
    if not fields or _FLAT_END.fullmatch(text, pos) is None:
        return None
    return fields


# Safe mode's envelope as WeChat sends it: the account id and the base64 ciphertext, nothing else. Text of
# that shape cannot hold markup, entities or surrounding space, so the pattern reads exactly what the
# parser would; any other body (a declaration, more fields, compatible mode) goes through ``parse_xml``.
_ENVELOPE = re.compile(
    rb"\s*<xml>\s*<ToUserName><!\[CDATA\[([A-Za-z0-9_-]{1,64})\]\]></ToUserName>"
    rb"\s*<Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]></Encrypt>\s*</xml>\s*"
)


def parse_body(body: bytes) -> dict[str, Any]:
    """``parse_xml(body)``, reading a safe-mode envelope in its usual shape without the XML parser."""
    envelope = _ENVELOPE.fullmatch(body)
    if envelope is not None:
        return {"ToUserName": envelope[1].decode("ascii"), "Encrypt": envelope[2].decode("ascii")}
    return parse_xml(body)


def _str(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedMessage(f"{name} must be text")
    return value


def _float(fields: dict[str, Any], name: str, limit: float) -> float:
    """A finite number within ±limit (NaN, inf or 1e400 would poison stored coordinates)."""
    try:
        value = float(_str(fields, name))
    except ValueError:
        raise MalformedMessage(f"{name} must be a number") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise MalformedMessage(f"{name} is out of range")
    return value


def to_incoming(fields: dict[str, Any]) -> Incoming:
    openid = _str(fields, "FromUserName")
    msg_type = _str(fields, "MsgType").lower()
    if not openid or not msg_type:
        raise MalformedMessage("FromUserName and MsgType are required")
    if len(openid) > 128:
        raise MalformedMessage("FromUserName is too long")
    try:
        create_time = int(_str(fields, "CreateTime") or "0")
    except ValueError:
        raise MalformedMessage("CreateTime must be a whole number") from None
    location = None
    event = _str(fields, "Event")
    if msg_type == "location":
        location = Location(
            latitude=_float(fields, "Location_X", 90),
            longitude=_float(fields, "Location_Y", 180),
            label=_str(fields, "Label"),
            scale=int(_float(fields, "Scale", MAX_SCALE)) if fields.get("Scale") else None,
        )
    elif msg_type == "event" and event.upper() == "LOCATION":
        location = Location(latitude=_float(fields, "Latitude", 90), longitude=_float(fields, "Longitude", 180))
    msg_id = _str(fields, "MsgId")
    if msg_id and (len(msg_id) > 64 or not (msg_id.isascii() and msg_id.isdigit())):
        raise MalformedMessage("MsgId must be a number")
    return Incoming(
        to_user=_str(fields, "ToUserName"),
        openid=openid,
        create_time=create_time,
        msg_type=msg_type,
        msg_id=msg_id,
        content=_str(fields, "Content"),
        event=event,
        event_key=_str(fields, "EventKey"),
        media_id=_str(fields, "MediaId"),
        pic_url=_str(fields, "PicUrl"),
        recognition=_str(fields, "Recognition"),
        location=location,
        raw=fields,
    )
