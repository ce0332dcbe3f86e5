"""The local channel: records every message in ``sandbox_messages`` for the simulator and tests.

The ``mp`` sandbox is as strict as WeChat (``bot.channels.sandbox_rules``): a message WeChat would refuse
is recorded with ``{"refused": {"errcode", "errmsg"}}`` — the simulator shows it as refused — and the
send raises ``ChannelError`` with WeChat's code, so the outbox treats it as it would treat WeChat's answer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.outbound.channels.base import ChannelError, Media, SendResult
from bot.outbound.channels.sandbox_rules import REFUSED, SandboxRefusal, check_template, check_text, require_grant
from bot.services import system_clock
from storage.db import Database
from storage.models import SandboxMessage

MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class SandboxChannel:
    """Stands in for the 公众号 or WeCom API when the service runs without credentials.

    A photo uploaded in the simulator is kept on disk under the media id it was given (as WeChat keeps it
    on its servers), so ``download_media`` returns it from any process. ``templates`` are the template ids
    the account "has" (the configured ones); others are refused with 40037.
    """

    def __init__(
        self,
        database: Database,
        inbox_dir: Path,
        name: str = "mp",
        *,
        clock: Callable[[], datetime] = system_clock,
        templates: Collection[str] = (),
    ) -> None:
        self.database = database
        self.inbox_dir = inbox_dir
        self.name = name
        self.clock = clock
        self.templates = frozenset(templates)
        if name == "mp":  # only the 公众号 has media, menus and tags
            self.account = SandboxAccount(self)

    async def _record(self, recipient: str, kind: str, payload: dict[str, Any], check: Any = None) -> SendResult:
        """Record the message; ``check(session)`` may refuse it (recorded as refused, then raised)."""
        refusal: SandboxRefusal | None = None
        async with self.database.session() as session:
            if check is not None and self.name == "mp":
                try:
                    await check(session)
                except SandboxRefusal as exc:
                    refusal = exc
                    payload = {**payload, REFUSED: {"errcode": exc.errcode, "errmsg": exc.errmsg}}
            row = SandboxMessage(
                channel=self.name, kind=kind, recipient=recipient, payload=payload, created_at=self.clock()
            )
            session.add(row)
            await session.commit()
            if refusal is not None:
                raise refusal
            # No msg_id: the sandbox delivers at once and pushes no TEMPLATESENDJOBFINISH, so a delivery record
            # reads 送达 rather than waiting for a result that never comes.
            return SendResult()

    async def send_text(self, recipient: str, content: str) -> SendResult:
        now = self.clock()
        return await self._record(
            recipient, "text", {"content": content}, lambda s: check_text(s, recipient, content, now)
        )

    async def send_template(
        self,
        recipient: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> SendResult:
        payload = {"template_id": template_id, "data": data, "url": url, "client_msg_id": client_msg_id}
        return await self._record(
            recipient, "template", payload, lambda s: check_template(s, recipient, template_id, data, self.templates)
        )

    async def send_subscription(
        self, recipient: str, template_id: str, data: dict[str, str], *, page: str | None = None
    ) -> SendResult:
        payload = {"template_id": template_id, "data": data, "url": page}
        return await self._record(
            recipient, "subscribe", payload, lambda s: require_grant(s, recipient, template_id, data, self.templates)
        )

    def _media_file(self, media_id: str) -> Path:
        if not MEDIA_ID.fullmatch(media_id):
            raise ChannelError("invalid media_id", errcode=40007)
        return self.inbox_dir / media_id

    def put_media(self, media_id: str, content: bytes, content_type: str) -> None:
        path = self._media_file(media_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.with_suffix(".type").write_text(content_type, encoding="ascii")


class SandboxAccount:
    """The sandbox 公众号's ``MpAccount``: photos put by the simulator, menus and tags recorded."""

    def __init__(self, channel: SandboxChannel) -> None:
        self.channel = channel

    async def download_media(self, media_id: str) -> Media:
        path = self.channel._media_file(media_id)
        try:
            content = await asyncio.to_thread(path.read_bytes)
            content_type = path.with_suffix(".type").read_text(encoding="ascii")
        except FileNotFoundError:
            raise ChannelError(f"no sandbox media {media_id!r}", errcode=40007) from None
        return Media(content=content, content_type=content_type, filename=media_id)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.channel._record("menu", "menu", menu)

    async def ensure_tag(self, name: str) -> int:
        """The sandbox account has one tag per name; its id is stable (a hash would do, 1 is enough)."""
        return 1

    async def tag_users(self, tag_id: int, openids: list[str], *, remove: bool = False) -> None:
        for openid in openids:
            await self.channel._record(openid, "untag" if remove else "tag", {"tag_id": tag_id})

    async def create_conditional_menu(self, menu: dict[str, Any], tag_id: int) -> None:
        await self.channel._record("menu", "menu", {**menu, "matchrule": {"tag_id": str(tag_id)}})
