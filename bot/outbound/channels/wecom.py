"""The WeCom (企业微信) app-message API: text and textcard messages to members or departments.

Every call goes to ``[wecom] api_base_url``. Recipients: ``"userid"`` or ``"u1|u2"`` (touser), and
``"party:2"`` or ``"party:2|5"`` (toparty). ``@all`` is refused: a reminder never goes to a whole company.
WeCom's own duplicate check is switched on for every message (``[wecom] duplicate_check_interval``).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from bot.config import Config
from bot.outbound.channels.base import ChannelError, SendResult
from bot.outbound.channels.http import ApiClient, RetryPolicy
from bot.outbound.channels.tokens import Clock, TokenCache, TokenRefresher, build_token_cache, token_name
from bot.services import system_clock
from storage.db import Database

log = logging.getLogger(__name__)

USER_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
PARTY_ID = re.compile(r"[0-9]{1,12}")
MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")
TITLE_MAX_BYTES = 128
DESCRIPTION_MAX_BYTES = 512
URL_MAX_BYTES = 2048
BUTTON_TEXT = "详情"
MAX_TARGETS = 1000  # WeCom's limit per message for touser and toparty


def cut_bytes(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-8 bytes, ending in "…" when it had to be cut."""
    if len(text.encode("utf-8")) <= limit:
        return text
    budget = limit - len("…".encode())
    out = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return out + "…"


def parse_recipient(recipient: str) -> dict[str, str]:
    """``"u1|u2"`` → ``{"touser": "u1|u2"}``; ``"party:2|5"`` → ``{"toparty": "2|5"}``."""
    recipient = (recipient or "").strip()
    if recipient.startswith("party:"):
        ids, key, pattern = recipient[len("party:") :].split("|"), "toparty", PARTY_ID
    else:
        ids, key, pattern = recipient.split("|"), "touser", USER_ID
    if "@all" in ids:
        raise ChannelError("WeCom messages to @all are not sent by this service", errcode=81013, permanent=True)
    if not ids or len(ids) > MAX_TARGETS or not all(pattern.fullmatch(i) for i in ids):
        raise ChannelError(f"invalid WeCom recipient {recipient[:80]!r}", errcode=81013, permanent=True)
    return {key: "|".join(ids)}


def _plain(value: Any) -> str:
    return str(value.get("value", "") if isinstance(value, dict) else value).strip()


def textcard(data: dict[str, Any], url: str) -> dict[str, str]:
    """A template's data as a textcard: ``title`` and ``description`` when given, else the first value is
    the title and the others form the description, one per line. Plain text: ``<``/``>``/``&`` escaped."""
    fields = {key: _plain(value) for key, value in data.items() if key != "url"}
    title_key = "title" if "title" in fields else next(iter(fields), "")
    title = fields.pop(title_key, "")
    description = fields.pop("description") if "description" in fields else "\n".join(fields.values())
    if not title:
        raise ChannelError("a textcard needs a title", errcode=47001, permanent=True)
    if not url.startswith(("http://", "https://")) or len(url.encode("utf-8")) > URL_MAX_BYTES:
        raise ChannelError("a textcard needs an http(s) url", errcode=47001, permanent=True)
    return {
        "title": cut_bytes(title, TITLE_MAX_BYTES),
        "description": cut_bytes(html.escape(description or title, quote=False), DESCRIPTION_MAX_BYTES),
        "url": url,
        "btntxt": BUTTON_TEXT,
    }


class WecomChannel:
    """``Channel`` implementation for a WeCom self-built app (``name == "wecom"``; recipients are userids)."""

    name = "wecom"

    def __init__(
        self,
        *,
        corp_id: str,
        secret: str,
        agent_id: int,
        api_base_url: str,
        timeout_seconds: float,
        cache: TokenCache,
        duplicate_check_interval: int = 1800,
        default_url: str = "",
        clock: Clock = system_clock,
        retry: RetryPolicy | None = None,
        owns_cache: bool = True,
    ) -> None:
        if not corp_id or not secret or not agent_id:
            raise ValueError("[wecom] corp_id, secret and agent_id are needed to call the WeCom API")
        self.corp_id = corp_id
        self._secret = secret
        self.agent_id = int(agent_id)
        self.duplicate_check_interval = max(0, min(int(duplicate_check_interval), 4 * 3600))
        self.default_url = default_url
        self.retry = retry or RetryPolicy()
        self.api = ApiClient(api_base_url, timeout_seconds, label="WeCom API", retry=self.retry)
        self.tokens = TokenRefresher(
            token_name("wecom", corp_id, agent_id), cache, self._fetch_token, clock=clock, sleep=self.retry.sleep
        )
        self._owns_cache = owns_cache

    @classmethod
    def from_config(
        cls,
        config: Config,
        database: Database,
        *,
        clock: Clock = system_clock,
        retry: RetryPolicy | None = None,
        cache: TokenCache | None = None,
    ) -> WecomChannel:
        return cls(
            corp_id=config.wecom.corp_id,
            secret=config.wecom.secret,
            agent_id=config.wecom.agent_id,
            api_base_url=config.wecom.api_base_url,
            timeout_seconds=config.wechat.http_timeout_seconds,
            cache=cache or build_token_cache(config, database),
            duplicate_check_interval=config.wecom.duplicate_check_interval,
            default_url=config.server.public_base_url,
            clock=clock,
            retry=retry,
            owns_cache=cache is None,
        )

    async def close(self) -> None:
        await self.api.close()
        if self._owns_cache:
            await self.tokens.cache.close()

    async def _fetch_token(self, force: bool) -> tuple[str, int]:
        # gettoken has no force mode: WeCom hands out a new token once the old one is no longer valid.
        params = {"corpid": self.corp_id, "corpsecret": self._secret}
        result = await self.api.call("GET", "/cgi-bin/gettoken", params=params)
        assert isinstance(result, dict)
        try:
            lifetime = int(result.get("expires_in", 7200))
        except (TypeError, ValueError):
            lifetime = 7200
        return str(result.get("access_token") or ""), lifetime

    async def _send(self, recipient: str, message: dict[str, Any]) -> SendResult:
        target = parse_recipient(recipient)
        body: dict[str, Any] = {
            **target,
            **message,
            "agentid": self.agent_id,
            "safe": 0,
            "enable_duplicate_check": 1 if self.duplicate_check_interval else 0,
            "duplicate_check_interval": self.duplicate_check_interval or 1800,
        }
        result = await self.api.call("POST", "/cgi-bin/message/send", body=body, tokens=self.tokens)
        assert isinstance(result, dict)
        _check_delivery(target, result)
        return SendResult(msg_id=str(result.get("msgid", "")))

    async def send_text(self, recipient: str, content: str) -> SendResult:
        if not content or not content.strip():
            raise ChannelError("the message text is empty", errcode=47001, permanent=True)
        return await self._send(recipient, {"msgtype": "text", "text": {"content": content}})

    async def send_template(
        self,
        recipient: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> SendResult:
        """A textcard built from ``data`` (see ``textcard``); ``template_id`` has no meaning on WeCom."""
        card = textcard(dict(data), url or str(data.get("url") or "") or self.default_url)
        return await self._send(recipient, {"msgtype": "textcard", "textcard": card})


def _check_delivery(target: dict[str, str], result: dict[str, Any]) -> None:
    """WeCom answers errcode 0 even when some recipients are unknown; fail when none was reached."""
    for key, invalid_key in (("touser", "invaliduser"), ("toparty", "invalidparty")):
        if key not in target:
            continue
        wanted = set(target[key].split("|"))
        invalid = {i for i in str(result.get(invalid_key) or "").split("|") if i}
        if invalid and wanted <= invalid:
            raise ChannelError(f"WeCom: no valid recipient in {key}", errcode=81013, permanent=True)
        if invalid:
            log.warning("WeCom message skipped %d unknown %s id(s)", len(invalid), key)
