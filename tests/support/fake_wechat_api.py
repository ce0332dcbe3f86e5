"""A fake 公众号 + WeCom HTTP API on 127.0.0.1, for tests of the real API channels and the outbox worker.

It checks credentials and access tokens, records every call in order and can be told to fail::

    async def test_something(fake_wechat, tmp_path, sqlite_url):
        config = make_api_config(tmp_path, sqlite_url, fake_wechat)      # channels point at the fake
        fake_wechat.fail_next("/cgi-bin/message/custom/send", errcode=-1, times=2)
        fake_wechat.expire_tokens()                    # every issued token answers 40001 (42001 on WeCom)
        fake_wechat.set_errcode_for("openid-1", 43004)  # this recipient always fails so
        fake_wechat.stall_next("/cgi-bin/menu/create")  # the next call hangs until the fake closes
        fake_wechat.answer_late("/cgi-bin/message/custom/send")  # done, answered too late
        fake_wechat.answer_next("/cgi-bin/menu/create", status=502, body=b"<html>bad gateway</html>")
        fake_wechat.put_media("MEDIA1", b"...", "image/jpeg")
        ...
        assert fake_wechat.count("/cgi-bin/stable_token") == 1
        assert [d.text for d in fake_wechat.sent_to("openid-2")] == ["…"]

Endpoints: POST /cgi-bin/stable_token, GET /cgi-bin/gettoken (WeCom), POST /cgi-bin/message/custom/send,
POST /cgi-bin/message/template/send, POST /cgi-bin/message/subscribe/bizsend, GET /cgi-bin/media/get, POST
/cgi-bin/menu/create, POST /cgi-bin/message/send (WeCom). A repeated ``client_msg_id`` is answered without a
second delivery, as is a repeated WeCom message when ``enable_duplicate_check`` is set.

It is as strict as WeChat states its rules (``refused`` keeps every refusal with its errcode):

* only followers get customer-service and template messages (43004); a user the fake never saw is not one;
* a customer-service text needs a window: a user's message allows 5 sends within 48 hours; a CLICK, a follow
  or a scan allow 3 sends within 1 minute; VIEW opens nothing (45015 outside, 45047 over the quota);
* a text is at most 2,048 bytes of UTF-8 (45002);
* a template id must be one added with ``add_template`` (40037) and each value must fit its key's type by
  prefix, ``thing`` ≤ 20 characters, ``time`` a 24-hour time … (47003, see ``bot.wechat.limits``);
* a subscription notification (bizsend) needs the user's grant (43101); a one-time grant is used up;
* after an accepted template or subscription send, the fate is pushed back to the service's /wechat as a
  ``TEMPLATESENDJOBFINISH`` or ``subscribe_msg_sent_event`` event when a pusher is attached (``push_events_to``).

The fake learns what WeChat knows about users from the pushes a ``WxClient`` with ``platform=fake`` posts
(``user_message``/``user_event`` by hand otherwise); its time is ``clock`` (a ``FakeClock`` in most tests).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.config import Config
from bot.wechat.limits import TEXT_MAX_BYTES, menu_name_problem, value_problem

PROJECT_ROOT = Path(__file__).resolve().parents[2]

APP_ID = "wxfakeapp00000001"
APP_SECRET = "fake-app-secret"
CORP_ID = "wwfakecorp0000001"
CORP_SECRET = "fake-corp-secret"
AGENT_ID = 1000002
ACCOUNT_TOKEN = "fake-account-token"
ACCOUNT_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"

TOKEN_PATHS = {"/cgi-bin/stable_token", "/cgi-bin/gettoken"}
LONG_WINDOW = (timedelta(hours=48), 5)  # after a user's message
SHORT_WINDOW = (timedelta(minutes=1), 3)  # after a CLICK, a follow or a scan
SHORT_WINDOW_EVENTS = frozenset({"CLICK", "SUBSCRIBE", "SCAN"})
Pusher = Callable[[str, str], Awaitable[object]]  # (openid, event xml) → posted to the service's /wechat
WECOM_PATHS = {"/cgi-bin/gettoken", "/cgi-bin/message/send"}


@dataclass
class ApiCall:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Delivered:
    """A message the fake accepted: ``api`` is mp or wecom, ``kind`` text, template or textcard."""

    api: str
    kind: str
    recipient: str
    body: dict[str, Any]

    @property
    def text(self) -> str:
        if self.kind == "text":
            return str(self.body.get("text", {}).get("content", ""))
        if self.kind == "textcard":
            return str(self.body.get("textcard", {}).get("title", ""))
        return json.dumps(self.body.get("data", {}), ensure_ascii=False)


@dataclass
class _Token:
    api: str
    expired: bool = False


@dataclass
class Refusal:
    path: str
    recipient: str
    errcode: int
    errmsg: str


@dataclass
class _Window:
    opened_at: datetime
    length: timedelta
    quota: int
    used: int = 0

    def open(self, now: datetime) -> bool:
        return now - self.opened_at < self.length


@dataclass
class FakeWechatApi:
    expires_in: int = 7200
    calls: list[ApiCall] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)
    followers: set[str] = field(default_factory=set)
    templates: dict[str, set[str]] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    tags: dict[str, int] = field(default_factory=dict)
    user_tags: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    conditional_menus: dict[int, dict[str, Any]] = field(default_factory=dict)
    pictures: dict[str, bytes] = field(default_factory=dict)
    tickets: list[str] = field(default_factory=list)  # jsapi tickets issued, in order

    def __post_init__(self) -> None:
        self._windows: dict[str, dict[str, _Window]] = defaultdict(dict)
        self._grants: dict[tuple[str, str], list[bool]] = defaultdict(list)  # (openid, template) → [long_term…]
        self._blocked: set[str] = set()
        self._pusher: Pusher | None = None
        self._pushes: list[asyncio.Task[object]] = []
        self._queued: list[tuple[str, str]] = []  # results to push once the send's answer has gone out
        self._tokens: dict[str, _Token] = {}
        self._current: dict[str, str | None] = {"mp": None, "wecom": None}
        self._failures: dict[str, deque[tuple[int, str]]] = defaultdict(deque)
        self._stalls: dict[str, int] = defaultdict(int)
        self._late: dict[str, int] = defaultdict(int)
        self._late_for: set[tuple[str, str]] = set()
        self._answers: dict[str, deque[tuple[int, bytes, str]]] = defaultdict(deque)
        self._recipient_errors: dict[str, int] = {}
        self._client_msg_ids: dict[str, int] = {}
        self._wecom_seen: set[str] = set()
        self._msgids = itertools.count(1000)
        self._release = asyncio.Event()
        self._server: TestServer | None = None

    # ---- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        self._release.set()
        if self._server is not None:
            await self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return str(self._server.make_url("")).rstrip("/")

    # ---- scripting --------------------------------------------------------------------------------

    def fail_next(self, path: str, *, errcode: int, times: int = 1, errmsg: str = "") -> None:
        """The next ``times`` calls to ``path`` answer ``errcode`` (before any other check)."""
        for _ in range(times):
            self._failures[path].append((errcode, errmsg or f"scripted error {errcode}"))

    def expire_tokens(self) -> None:
        """Every token issued so far is refused (40001 on the 公众号 API, 42001 on WeCom)."""
        for token in self._tokens.values():
            token.expired = True

    def set_errcode_for(self, recipient: str, errcode: int) -> None:
        """Every message to ``recipient`` (openid or WeCom userid) fails with ``errcode``; 0 clears it."""
        if errcode:
            self._recipient_errors[recipient] = errcode
        else:
            self._recipient_errors.pop(recipient, None)

    def answer_next(self, path: str, *, status: int = 200, body: bytes = b"", content_type: str = "text/html") -> None:
        """The next call to ``path`` gets exactly this HTTP answer (a broken gateway, a non-JSON body …)."""
        self._answers[path].append((status, body, content_type))

    def stall_next(self, path: str, times: int = 1) -> None:
        """The next ``times`` calls to ``path`` never answer (until the fake closes): for timeout tests."""
        self._stalls[path] += times

    def answer_late(self, path: str, times: int = 1, *, recipient: str | None = None) -> None:
        """The next ``times`` calls to ``path`` (or the first one to ``recipient``) are carried out (a text is
        delivered) but their answer is held until the fake closes: the client times out without knowing
        that WeChat accepted the message."""
        if recipient is not None:
            self._late_for.add((path, recipient))
        else:
            self._late[path] += times

    def put_media(self, media_id: str, content: bytes, content_type: str) -> None:
        self.media[media_id] = (content, content_type)

    def put_picture(self, name: str, content: bytes) -> str:
        """A JPEG behind a PicUrl (no token needed); returns the URL an image push carries."""
        self.pictures[f"/mmbiz_jpg/{name}"] = content
        return f"{self.url}/mmbiz_jpg/{name}"

    # ---- what WeChat knows about users ------------------------------------------------------------

    def follow(self, *openids: str) -> None:
        self.followers.update(openids)

    def unfollow(self, openid: str) -> None:
        self.followers.discard(openid)
        self._windows.pop(openid, None)

    def user_message(self, openid: str, *, at: datetime | None = None) -> None:
        """The user sent the account a message (now, or ``at``): a follower, with 5 customer-service sends
        for 48 hours."""
        self.followers.add(openid)
        self._windows[openid]["long"] = _Window(at or self.clock(), *LONG_WINDOW)

    def user_event(self, openid: str, event: str) -> None:
        """A pushed event: subscribe/CLICK/SCAN open the 1-minute window; unsubscribe ends following."""
        name = event.upper()
        if name == "UNSUBSCRIBE":
            self.unfollow(openid)
            return
        if name == "SUBSCRIBE":
            self.followers.add(openid)
        if name in SHORT_WINDOW_EVENTS:
            self._windows[openid]["short"] = _Window(self.clock(), *SHORT_WINDOW)

    def observe_push(self, openid: str, msg_type: str, event: str = "") -> None:
        """Called for every push a linked ``WxClient`` posts, as WeChat sees the user act first."""
        if msg_type == "event":
            self.user_event(openid, event)
        else:
            self.user_message(openid)

    def block(self, openid: str) -> None:
        """The follower refuses template messages: sends are accepted, their fate is ``failed:user block``."""
        self._blocked.add(openid)

    def add_template(self, template_id: str, keys: list[str] | tuple[str, ...]) -> None:
        """A template the account picked in the admin, with its keys (``thing1``, ``time2`` …)."""
        self.templates[template_id] = set(keys)

    def grant_subscription(self, openid: str, template_id: str, *, long_term: bool = False) -> None:
        """The user accepted a subscription notification (one-time unless ``long_term``)."""
        self._grants[(openid, template_id)].append(long_term)

    def push_events_to(self, pusher: Pusher) -> None:
        """Where delivery results go (``WxClient.push_event``): the service's /wechat, as WeChat does."""
        self._pusher = pusher

    async def drain_pushes(self) -> list[object]:
        """Wait for the delivery-result pushes started so far; returns their answers."""
        tasks, self._pushes = self._pushes, []
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    # ---- inspection -------------------------------------------------------------------------------

    def calls_to(self, path: str) -> list[ApiCall]:
        return [call for call in self.calls if call.path == path]

    def count(self, path: str) -> int:
        return len(self.calls_to(path))

    def sent_to(self, recipient: str) -> list[Delivered]:
        return [d for d in self.delivered if d.recipient == recipient]

    def refused_for(self, recipient: str) -> list[Refusal]:
        return [r for r in self.refused if r.recipient == recipient]

    def valid_tokens(self) -> list[str]:
        return [t for t, info in self._tokens.items() if not info.expired]

    # ---- the API ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        body: Any = None
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                body = raw.decode("utf-8", errors="replace")
        self.calls.append(ApiCall(request.method, path, dict(request.query), body))
        if self._stalls[path] > 0:
            self._stalls[path] -= 1
            await self._release.wait()
            return _error(-1, "stalled call released")
        if self._answers[path]:
            status, content, content_type = self._answers[path].popleft()
            return web.Response(status=status, body=content, content_type=content_type)
        if self._failures[path]:
            errcode, errmsg = self._failures[path].popleft()
            return _error(errcode, errmsg)
        if path.startswith("/mmbiz_jpg/") and path in self.pictures:  # a PicUrl: a CDN link, no token
            return web.Response(body=self.pictures[path], content_type="image/jpeg")
        handler = {
            "/cgi-bin/stable_token": self._stable_token,
            "/cgi-bin/gettoken": self._gettoken,
            "/cgi-bin/message/custom/send": self._custom_send,
            "/cgi-bin/message/template/send": self._template_send,
            "/cgi-bin/message/subscribe/bizsend": self._bizsend,
            "/cgi-bin/tags/get": self._tags_get,
            "/cgi-bin/tags/create": self._tags_create,
            "/cgi-bin/tags/members/batchtagging": self._tagging,
            "/cgi-bin/tags/members/batchuntagging": self._tagging,
            "/cgi-bin/menu/addconditional": self._menu_conditional,
            "/cgi-bin/media/get": self._media_get,
            "/cgi-bin/ticket/getticket": self._getticket,
            "/cgi-bin/menu/create": self._menu_create,
            "/cgi-bin/message/send": self._wecom_send,
        }.get(path)
        if handler is None:
            return web.json_response({"errcode": 40066, "errmsg": "invalid url"}, status=404)
        if path not in TOKEN_PATHS:
            refused = self._check_token(request.query.get("access_token", ""), path)
            if refused is not None:
                return refused
        no_body = {"/cgi-bin/media/get", "/cgi-bin/gettoken", "/cgi-bin/tags/get", "/cgi-bin/ticket/getticket"}
        if path not in no_body and not isinstance(body, dict):
            return _error(47001, "data format error")
        response = await handler(request, body)
        self._note_refusal(path, body, response)
        target = (path, str(body.get("touser") or "") if isinstance(body, dict) else "")
        if self._late[path] > 0 or target in self._late_for:
            if target in self._late_for:
                self._late_for.discard(target)
            else:
                self._late[path] -= 1
            await self._release.wait()
        await self._answer_then_push(request, response)
        return response

    def _note_refusal(self, path: str, body: Any, response: web.StreamResponse) -> None:
        if not isinstance(response, web.Response) or response.content_type != "application/json":
            return
        try:
            answer = json.loads(response.text or "{}")
        except json.JSONDecodeError:
            return
        errcode = answer.get("errcode", 0) if isinstance(answer, dict) else 0
        if errcode:
            recipient = str(body.get("touser") or "") if isinstance(body, dict) else ""
            self.refused.append(Refusal(path, recipient, int(errcode), str(answer.get("errmsg", ""))))

    def _check_token(self, token: str, path: str) -> web.Response | None:
        api = "wecom" if path in WECOM_PATHS else "mp"
        if not token:
            return _error(41001, "access_token missing")
        info = self._tokens.get(token)
        if info is None or info.api != api:
            return _error(40014 if api == "wecom" else 40001, "invalid credential, access_token is invalid")
        if info.expired:
            return _error(42001 if api == "wecom" else 40001, "access_token expired")
        return None

    def _issue(self, api: str, force: bool) -> str:
        current = self._current[api]
        if current is not None and not force and not self._tokens[current].expired:
            return current
        if current is not None and force:
            self._tokens[current].expired = True
        token = f"{api}-token-{secrets.token_hex(8)}"
        self._tokens[token] = _Token(api)
        self._current[api] = token
        return token

    async def _stable_token(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if body.get("appid") != APP_ID:
            return _error(40013, "invalid appid")
        if body.get("secret") != APP_SECRET:
            return _error(40125, "invalid appsecret")
        token = self._issue("mp", bool(body.get("force_refresh")))
        return web.json_response({"access_token": token, "expires_in": self.expires_in})

    async def _gettoken(self, request: web.Request, body: Any) -> web.Response:
        if request.query.get("corpid") != CORP_ID:
            return _error(40013, "invalid corpid")
        if request.query.get("corpsecret") != CORP_SECRET:
            return _error(40001, "invalid secret")
        token = self._issue("wecom", False)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in})

    def _recipient_error(self, recipient: str) -> web.Response | None:
        errcode = self._recipient_errors.get(recipient)
        return None if errcode is None else _error(errcode, f"scripted error {errcode} for recipient")

    async def _custom_send(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        recipient = str(body.get("touser") or "")
        if not recipient:
            return _error(40003, "invalid openid")
        if (refused := self._recipient_error(recipient)) is not None:
            return refused
        if recipient not in self.followers:
            return _error(43004, "require subscribe")
        if body.get("msgtype") != "text":
            return _error(40008, "invalid message type")
        content = body.get("text", {}).get("content") if isinstance(body.get("text"), dict) else None
        if not isinstance(content, str) or not content:
            return _error(47001, "text.content missing")
        if len(content.encode("utf-8")) > TEXT_MAX_BYTES:
            return _error(45002, "content size out of limit")
        if (refused := self._use_window(recipient)) is not None:
            return refused
        self.delivered.append(Delivered("mp", "text", recipient, body))
        return _error(0, "ok")

    def _use_window(self, openid: str) -> web.Response | None:
        now = self.clock()
        windows = [w for w in (self._windows[openid].get(k) for k in ("long", "short")) if w and w.open(now)]
        if not windows:
            return _error(45015, "response out of time limit or subscription is canceled")
        for window in windows:
            if window.used < window.quota:
                window.used += 1
                return None
        return _error(45047, "out of response count limit")

    def _typed_data(self, data: Any, keys: set[str] | None) -> web.Response | None:
        if not isinstance(data, dict) or not data:
            return _error(47003, "argument invalid! data is empty")
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            if keys is not None and key not in keys:
                return _error(47003, f"argument invalid! data.{key} is not a key of the template")
            if (problem := value_problem(str(key), value)) is not None:
                return _error(47003, f"argument invalid! data.{key}.value invalid: {problem}")
        return None

    def _push_later(self, openid: str, xml: str) -> None:
        """As WeChat: the job's result is pushed after the send was answered (``_handle`` starts it)."""
        if self._pusher is not None:
            self._queued.append((openid, xml))

    async def _answer_then_push(self, request: web.Request, response: web.StreamResponse) -> None:
        queued, self._queued = self._queued, []
        pusher = self._pusher
        if not queued or pusher is None:
            return
        answered = asyncio.Event()

        async def push_after_answer(openid: str, xml: str) -> object:
            await answered.wait()
            return await pusher(openid, xml)

        # Registered before the answer goes out, so drain_pushes() after the send always finds them.
        self._pushes.extend(asyncio.ensure_future(push_after_answer(o, x)) for o, x in queued)
        try:
            await response.prepare(request)
            await response.write_eof()
        finally:
            answered.set()

    async def _template_send(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        recipient = str(body.get("touser") or "")
        if not recipient:
            return _error(40003, "invalid openid")
        if (refused := self._recipient_error(recipient)) is not None:
            return refused
        template_id = str(body.get("template_id") or "")
        if template_id not in self.templates:
            return _error(40037, "invalid template_id")
        if recipient not in self.followers:
            return _error(43004, "require subscribe")
        if (refused := self._typed_data(body.get("data"), self.templates[template_id])) is not None:
            return refused
        msg_key = str(body.get("client_msg_id") or "")
        if msg_key and msg_key in self._client_msg_ids:
            return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": self._client_msg_ids[msg_key]})
        msgid = next(self._msgids)
        if msg_key:
            self._client_msg_ids[msg_key] = msgid
        self.delivered.append(Delivered("mp", "template", recipient, body))
        status = "failed:user block" if recipient in self._blocked else "success"
        self._push_later(
            recipient,
            _event_xml(
                recipient,
                "TEMPLATESENDJOBFINISH",
                f"<MsgID>{msgid}</MsgID><Status><![CDATA[{status}]]></Status>",
                self.clock(),
            ),
        )
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    async def _bizsend(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        """A subscription notification: needs a grant, reaches users who have unfollowed (服务通知)."""
        recipient = str(body.get("touser") or "")
        if not recipient:
            return _error(40003, "invalid openid")
        template_id = str(body.get("template_id") or "")
        if template_id not in self.templates:
            return _error(40037, "invalid template_id")
        if (refused := self._typed_data(body.get("data"), self.templates[template_id])) is not None:
            return refused
        grants = self._grants.get((recipient, template_id))
        if not grants:
            return _error(43101, "user refuse to accept the msg")
        if not grants[0]:
            grants.pop(0)  # a one-time grant allows one send
        msgid = next(self._msgids)
        self.delivered.append(Delivered("mp", "subscribe", recipient, body))
        result = (
            "<SubscribeMsgSentEvent><List>"
            f"<TemplateId><![CDATA[{template_id}]]></TemplateId><MsgID><![CDATA[{msgid}]]></MsgID>"
            "<ErrorCode><![CDATA[0]]></ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus>"
            "</List></SubscribeMsgSentEvent>"
        )
        self._push_later(recipient, _event_xml(recipient, "subscribe_msg_sent_event", result, self.clock()))
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    async def _getticket(self, request: web.Request, body: Any) -> web.Response:
        """The JS-SDK ticket: GET with an access token and ``type=jsapi``; each call issues a new ticket."""
        if request.method != "GET":
            return _error(43001, "require GET method")
        if request.query.get("type") != "jsapi":
            return _error(40097, "invalid args")
        ticket = f"jsapi-ticket-{secrets.token_hex(12)}"
        self.tickets.append(ticket)
        return web.json_response({"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": self.expires_in})

    async def _media_get(self, request: web.Request, body: Any) -> web.Response:
        media_id = request.query.get("media_id", "")
        if media_id not in self.media:
            # WeChat answers errors of this endpoint as JSON labelled text/plain.
            return web.Response(
                text=json.dumps({"errcode": 40007, "errmsg": "invalid media_id"}), content_type="text/plain"
            )
        content, content_type = self.media[media_id]
        extension = content_type.split("/")[-1]
        return web.Response(
            body=content,
            content_type=content_type,
            headers={"Content-Disposition": f'attachment; filename="{media_id}.{extension}"'},
        )

    async def _menu_create(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return _error(40016, "invalid button size")
        if any(len(b.get("sub_button", [])) > 5 for b in buttons if isinstance(b, dict)):
            return _error(40017, "invalid sub_button size")
        for button in buttons:
            if menu_name_problem(str(button.get("name") or ""), top=True):
                return _error(40018, "invalid button name size")
            for sub in button.get("sub_button", []):
                if menu_name_problem(str(sub.get("name") or ""), top=False):
                    return _error(40018, "invalid button name size")
        self.menus.append(body)
        return _error(0, "ok")

    async def _tags_get(self, request: web.Request, body: Any) -> web.Response:
        return web.json_response({"tags": [{"id": i, "name": n, "count": 0} for n, i in self.tags.items()]})

    async def _tags_create(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        name = str((body.get("tag") or {}).get("name") or "")
        if not name or len(name.encode("utf-8")) > 30:
            return _error(45158, "tag name too long")
        if name in self.tags:
            return _error(45157, "tag name already exists")
        self.tags[name] = 100 + len(self.tags)
        return web.json_response({"tag": {"id": self.tags[name], "name": name}})

    async def _tagging(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        tag_id = body.get("tagid")
        if tag_id not in self.tags.values():
            return _error(45159, "invalid tag id")
        for openid in body.get("openid_list") or []:
            if openid not in self.followers:
                return _error(40003, "invalid openid")
            if request.path.endswith("batchuntagging"):
                self.user_tags[openid].discard(tag_id)
            else:
                self.user_tags[openid].add(tag_id)
        return _error(0, "ok")

    async def _menu_conditional(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        if not self.menus:
            return _error(65303, "there is no default menu")  # a personalised menu needs the default one
        tag_id = str((body.get("matchrule") or {}).get("tag_id") or "")
        if not tag_id.isdigit() or int(tag_id) not in self.tags.values():
            return _error(40114, "invalid tag id in matchrule")
        self.conditional_menus[int(tag_id)] = {k: v for k, v in body.items() if k != "matchrule"}
        return web.json_response({"menuid": 200 + len(self.conditional_menus)})

    def menu_for(self, openid: str) -> dict[str, Any] | None:
        """The menu WeChat shows ``openid``: the personalised one of a tag they carry, else the default."""
        for tag_id, menu in self.conditional_menus.items():
            if tag_id in self.user_tags[openid]:
                return menu
        return self.menus[-1] if self.menus else None

    async def _wecom_send(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        if body.get("agentid") != AGENT_ID:
            return _error(40056, "invalid agentid")
        users = [u for u in str(body.get("touser") or "").split("|") if u]
        parties = [p for p in str(body.get("toparty") or "").split("|") if p]
        if not users and not parties:
            return _error(40035, "no recipient")
        msgtype = body.get("msgtype")
        if msgtype == "text":
            if not (body.get("text") or {}).get("content"):
                return _error(41009, "missing text content")
        elif msgtype == "textcard":
            card = body.get("textcard") or {}
            if not (card.get("title") and card.get("description") and card.get("url")):
                return _error(41016, "missing textcard field")
        else:
            return _error(40008, "invalid message type")
        invalid_users = [u for u in users if u in self._recipient_errors]
        if users and not parties and len(invalid_users) == len(users):
            return web.json_response(
                {"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": "|".join(users)}
            )
        signature = json.dumps({k: v for k, v in body.items() if k != "agentid"}, sort_keys=True)
        duplicate = bool(body.get("enable_duplicate_check")) and signature in self._wecom_seen
        if not duplicate:
            self._wecom_seen.add(signature)
            for user in users:
                if user not in invalid_users:
                    self.delivered.append(Delivered("wecom", str(msgtype), user, body))
            for party in parties:
                self.delivered.append(Delivered("wecom", str(msgtype), f"party:{party}", body))
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "invaliduser": "|".join(invalid_users),
                "invalidparty": "",
                "msgid": f"wecom-{next(self._msgids)}",
            }
        )


def _error(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


def _event_xml(openid: str, event: str, inner: str, now: datetime) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_test_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(now.timestamp())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event>{inner}</xml>"
    )


def fake_api_env(fake: FakeWechatApi) -> dict[str, str]:
    """Environment overrides that point the real channels at ``fake``."""
    return {
        "YCBOT_CHANNEL_KIND": "wechat",
        "YCBOT_WECHAT_API_BASE_URL": fake.url,
        "YCBOT_WECHAT_APP_ID": APP_ID,
        "YCBOT_WECHAT_APP_SECRET": APP_SECRET,
        # Outside the sandbox the published example Token and EncodingAESKey are refused: the account's own.
        "YCBOT_WECHAT_TOKEN": ACCOUNT_TOKEN,
        "YCBOT_WECHAT_ENCODING_AES_KEY": ACCOUNT_AES_KEY,
        "YCBOT_WECOM_API_BASE_URL": fake.url,
        "YCBOT_WECOM_CORP_ID": CORP_ID,
        "YCBOT_WECOM_SECRET": CORP_SECRET,
        "YCBOT_WECOM_AGENT_ID": str(AGENT_ID),
    }


def make_api_config(tmp_path: Path, db_url: str, fake: FakeWechatApi, **overrides: object) -> Config:
    """Like ``tests.conftest.make_config``, with the 公众号 and WeCom channels pointing at ``fake``."""
    from tests.conftest import make_config  # here: tests.conftest imports this module

    return make_config(tmp_path, db_url, **{**fake_api_env(fake), **overrides})


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWechatApi]:
    """A running fake 公众号 + WeCom API on a loopback port, closed after the test."""
    fake = FakeWechatApi()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
