"""The 公众号 (official account) API: customer-service text and template messages (the channel), and
temporary media, the menu and user tags (``WechatMpAccount``, the channel's ``account``).

Every call, the token fetch included, goes to ``[wechat] api_base_url`` with ``[wechat] http_timeout_seconds``.
Template fields follow the rules in force since 2023-05-04 (no ``first``/``remark``, no colours, one line,
at most 20 characters per value): see ``template_fields``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.config import Config
from bot.menu import validate_menu
from bot.outbound.channels.base import ChannelError, Media, SendResult
from bot.outbound.channels.http import ApiClient, RawResponse, RetryPolicy
from bot.outbound.channels.tokens import Clock, TokenCache, TokenRefresher, build_token_cache, token_name
from bot.services import system_clock
from storage.db import Database

TEMPLATE_FIELD_MAX = 20
RETIRED_FIELDS = frozenset({"first", "remark"})
FIELD_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
CLIENT_MSG_ID_MAX = 32
_BREAKS_AND_SPACES = re.compile(r"\s+")


def template_value(value: object) -> str:
    """One field value as WeChat accepts it: line breaks and runs of whitespace become one space, and a
    value over 20 characters keeps its first 19 plus "…" (the details belong behind the message's url)."""
    text = _BREAKS_AND_SPACES.sub(" ", str(value)).strip()
    if len(text) > TEMPLATE_FIELD_MAX:
        text = text[: TEMPLATE_FIELD_MAX - 1] + "…"
    return text


def template_fields(data: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """``{"thing1": "…"}`` (or ``{"thing1": {"value": "…"}}``) → the API's ``{"thing1": {"value": "…"}}``.

    ``first`` and ``remark`` are dropped (WeChat no longer shows them) and so is any colour; keys must be
    template field names such as ``thing1`` or ``time2``.
    """
    fields: dict[str, dict[str, str]] = {}
    for key, raw in data.items():
        if key in RETIRED_FIELDS:
            continue
        if not isinstance(key, str) or not FIELD_KEY.fullmatch(key):
            raise ChannelError(f"template field name {key!r} is not valid", errcode=47003, permanent=True)
        value = raw.get("value", "") if isinstance(raw, Mapping) else raw
        fields[key] = {"value": template_value("" if value is None else value)}
    if not fields:
        raise ChannelError("a template message needs at least one field", errcode=47003, permanent=True)
    return fields


def short_client_msg_id(key: str) -> str:
    """WeChat keeps ``client_msg_id`` short; a longer dedup key is replaced by a stable hash of it."""
    if len(key) <= CLIENT_MSG_ID_MAX and key.isascii():
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:CLIENT_MSG_ID_MAX]


def _require(value: str, what: str, errcode: int) -> None:
    if not value or not value.strip():
        raise ChannelError(f"{what} is empty", errcode=errcode, permanent=True)


class WechatMpChannel:
    """``Channel`` implementation for the 公众号 API (``name == "mp"``; recipients are openids)."""

    name = "mp"

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        api_base_url: str,
        timeout_seconds: float,
        cache: TokenCache,
        clock: Clock = system_clock,
        retry: RetryPolicy | None = None,
        owns_cache: bool = True,
    ) -> None:
        if not app_id or not app_secret:
            raise ValueError("[wechat] app_id and app_secret are needed to call the 公众号 API")
        self.app_id = app_id
        self._secret = app_secret
        self.retry = retry or RetryPolicy()
        self.api = ApiClient(api_base_url, timeout_seconds, label="公众号 API", retry=self.retry)
        self.tokens = TokenRefresher(
            token_name("mp", app_id), cache, self._fetch_token, clock=clock, sleep=self.retry.sleep
        )
        # The JS-SDK ticket (wx.config on the case page), shared by every process through the same cache.
        self.tickets = TokenRefresher(
            token_name("jsapi", app_id), cache, self._fetch_ticket, clock=clock, sleep=self.retry.sleep
        )
        self._owns_cache = owns_cache
        self.account = WechatMpAccount(self.api, self.tokens, self._post)

    @classmethod
    def from_config(
        cls,
        config: Config,
        database: Database,
        *,
        clock: Clock = system_clock,
        retry: RetryPolicy | None = None,
        cache: TokenCache | None = None,
    ) -> WechatMpChannel:
        return cls(
            app_id=config.wechat.app_id,
            app_secret=config.wechat.app_secret,
            api_base_url=config.wechat.api_base_url,
            timeout_seconds=config.wechat.http_timeout_seconds,
            cache=cache or build_token_cache(config, database),
            clock=clock,
            retry=retry,
            owns_cache=cache is None,
        )

    async def close(self) -> None:
        await self.api.close()
        if self._owns_cache:
            await self.tokens.cache.close()

    async def _fetch_token(self, force: bool) -> tuple[str, int]:
        body = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._secret,
            "force_refresh": force,
        }
        result = await self.api.call("POST", "/cgi-bin/stable_token", body=body)
        assert isinstance(result, dict)
        return str(result.get("access_token") or ""), _int(result.get("expires_in"), 7200)

    async def _fetch_ticket(self, force: bool) -> tuple[str, int]:
        result = await self.api.call("GET", "/cgi-bin/ticket/getticket", params={"type": "jsapi"}, tokens=self.tokens)
        assert isinstance(result, dict)
        return str(result.get("ticket") or ""), _int(result.get("expires_in"), 7200)

    async def jsapi_ticket(self) -> str:
        """A valid ``jsapi_ticket``, fetched only when the shared cache has none fresh."""
        return await self.tickets.get()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        result = await self.api.call("POST", path, body=body, tokens=self.tokens)
        assert isinstance(result, dict)
        return result

    async def send_text(self, recipient: str, content: str) -> SendResult:
        _require(recipient, "the recipient openid", 40003)
        _require(content, "the message text", 47001)
        body = {"touser": recipient, "msgtype": "text", "text": {"content": content}}
        await self._post("/cgi-bin/message/custom/send", body)
        return SendResult()

    async def send_template(
        self,
        recipient: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> SendResult:
        _require(recipient, "the recipient openid", 40003)
        _require(template_id, "the template_id", 40037)
        body: dict[str, Any] = {"touser": recipient, "template_id": template_id, "data": template_fields(data)}
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = short_client_msg_id(client_msg_id)
        result = await self._post("/cgi-bin/message/template/send", body)
        return SendResult(msg_id=str(result.get("msgid", "")))

    async def send_subscription(
        self, recipient: str, template_id: str, data: dict[str, str], *, page: str | None = None
    ) -> SendResult:
        """A subscription notification (订阅通知, bizsend): needs the user's grant (43101 without one) and
        reaches users who have since unfollowed."""
        _require(recipient, "the recipient openid", 40003)
        _require(template_id, "the template_id", 40037)
        body: dict[str, Any] = {"touser": recipient, "template_id": template_id, "data": template_fields(data)}
        if page:
            body["page"] = page
        result = await self._post("/cgi-bin/message/subscribe/bizsend", body)
        return SendResult(msg_id=str(result.get("msgid", "")))


Post = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class WechatMpAccount:
    """The 公众号-only API (``MpAccount``): user media, menus and user tags, over the channel's client and
    token."""

    def __init__(self, api: ApiClient, tokens: TokenRefresher, post: Post) -> None:
        self.api = api
        self.tokens = tokens
        self._post = post

    async def download_media(self, media_id: str) -> Media:
        if not MEDIA_ID.fullmatch(media_id or ""):
            raise ChannelError("invalid media_id", errcode=40007, permanent=True)
        result = await self.api.call(
            "GET", "/cgi-bin/media/get", params={"media_id": media_id}, tokens=self.tokens, raw=True
        )
        if not isinstance(result, RawResponse):
            # A video answers with {"video_url": …}; this service only downloads photos and voice.
            raise ChannelError(f"media {media_id} is not a file download (video?)", permanent=True)
        return Media(
            content=result.content,
            content_type=result.content_type or "application/octet-stream",
            filename=result.filename or media_id,
        )

    async def ensure_tag(self, name: str) -> int:
        """The id of the user tag ``name``, created when the account has none of that name."""
        result = await self.api.call("GET", "/cgi-bin/tags/get", tokens=self.tokens)
        assert isinstance(result, dict)
        for tag in result.get("tags") or []:
            if isinstance(tag, dict) and tag.get("name") == name:
                return int(tag["id"])
        created = await self._post("/cgi-bin/tags/create", {"tag": {"name": name}})
        return int((created.get("tag") or {}).get("id"))

    async def tag_users(self, tag_id: int, openids: list[str], *, remove: bool = False) -> None:
        """Tag (or untag) followers; the personalised menu follows the tag."""
        path = "/cgi-bin/tags/members/batchuntagging" if remove else "/cgi-bin/tags/members/batchtagging"
        await self._post(path, {"openid_list": openids, "tagid": tag_id})

    async def create_conditional_menu(self, menu: dict[str, Any], tag_id: int) -> None:
        """A personalised menu for followers with ``tag_id`` (``menu/addconditional``)."""
        try:
            validate_menu(menu)
        except (ValueError, KeyError) as exc:
            raise ChannelError(f"menu not accepted: {exc}", errcode=40016, permanent=True) from None
        await self._post("/cgi-bin/menu/addconditional", {**menu, "matchrule": {"tag_id": str(tag_id)}})

    async def create_menu(self, menu: dict[str, Any]) -> None:
        try:
            validate_menu(menu)
        except (ValueError, KeyError) as exc:
            raise ChannelError(f"menu not accepted: {exc}", errcode=40016, permanent=True) from None
        await self._post("/cgi-bin/menu/create", menu)


def _int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default
