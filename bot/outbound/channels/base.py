"""The interface every outbound channel implements, and the error it raises.

``channel`` names used in the outbox: ``mp`` (公众号 users, by openid) and ``wecom`` (企业微信 members, by userid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

# Error codes after which retrying the same message cannot succeed.
PERMANENT_ERRCODES = frozenset(
    {
        40003,  # invalid openid
        43004,  # recipient does not follow the account
        43019,  # recipient blocked the account
        45015,  # outside the 48-hour customer-service window
        40037,  # invalid template_id
        40036,  # template_id of the wrong length
        40008,  # invalid message type
        47001,  # malformed payload
        47003,  # template data does not fit the template (field name, length, line break)
        43101,  # the user refused this kind of message
        45002,  # text over 2,048 bytes
        40018,  # menu button name too long
        60111,  # WeCom: userid not found
        81013,  # WeCom: user, party and tag all invalid
        40007,  # invalid media_id (expired media)
        46001,  # media does not exist
    }
)
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})


class ChannelError(Exception):
    """A send or download failed; ``permanent`` says whether retrying can help."""

    def __init__(self, message: str, *, errcode: int | None = None, permanent: bool | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode
        if permanent is None:
            permanent = errcode in PERMANENT_ERRCODES if errcode is not None else False
        self.permanent = permanent


@dataclass(frozen=True)
class SendResult:
    msg_id: str = ""


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str
    filename: str = ""


@runtime_checkable
class Channel(Protocol):
    """One outbound channel. Every method may raise ``ChannelError``."""

    name: str

    async def send_text(self, recipient: str, content: str) -> SendResult:
        """A customer-service text (mp) or an app text message (wecom)."""
        ...

    async def send_template(
        self,
        recipient: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> SendResult:
        """A template message (mp) or a textcard (wecom); ``data`` maps field keys to values ≤ 20 chars."""
        ...


@runtime_checkable
class MpAccount(Protocol):
    """What only the 公众号 has besides sending: user media, the menu and user tags. The ``mp`` channel
    carries it as ``.account`` (``Services.mp_account()``); no other channel has one."""

    async def download_media(self, media_id: str) -> Media:
        """Fetch a user-sent temporary media (ids expire after 3 days)."""
        ...

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Replace the account menu (what every follower sees)."""
        ...

    async def ensure_tag(self, name: str) -> int:
        """The id of the user tag ``name``, created when missing."""
        ...

    async def tag_users(self, tag_id: int, openids: list[str], *, remove: bool = False) -> None: ...

    async def create_conditional_menu(self, menu: dict[str, Any], tag_id: int) -> None:
        """A personalised menu for followers with ``tag_id``."""
        ...
