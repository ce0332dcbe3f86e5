"""The WeChat callback at /wechat: verify, decrypt, parse, hand to the pipeline, encrypt the reply.

Status codes: 403 for a forged or stale signature, 400 for a body we cannot read, 413 for an oversized
one. A handler failure never reaches WeChat as an error: the user gets a polite reply instead.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable

from aiohttp import web

from bot import logsafe, texts
from bot.logging_setup import note_push_type
from bot.pipeline import MessagePipeline
from bot.wechat.crypto import CryptoError, MessageCrypto
from bot.wechat.messages import Incoming, MalformedMessage, parse_body, parse_xml, to_incoming
from bot.wechat.replay_guard import ReplayGuard
from bot.wechat.replies import TextReply
from bot.wechat.signature import signature_matches, timestamp_is_fresh

log = logging.getLogger(__name__)

SUCCESS = "success"


class CallbackView:
    """Thin aiohttp handlers; all protocol checks are here, all conversation logic in the pipeline."""

    def __init__(
        self,
        *,
        token: str,
        crypto: MessageCrypto | None,
        pipeline: MessagePipeline,
        max_body_bytes: int,
        max_skew_seconds: int,
        require_encryption: bool = False,
        wall_clock: Callable[[], float] = time.time,
        previous_crypto: MessageCrypto | None = None,
        replay_guard: ReplayGuard | None = None,
    ) -> None:
        self.token = token
        self.crypto = crypto
        # Key rotation: a push encrypted with the previous EncodingAESKey is read and answered with it.
        self.previous_crypto = previous_crypto
        self.replay_guard = replay_guard
        self.pipeline = pipeline
        self.max_body_bytes = max_body_bytes
        self.max_skew_seconds = max_skew_seconds
        self.require_encryption = require_encryption
        self.wall_clock = wall_clock

    def _check_signature(self, query: dict[str, str]) -> None:
        if not self.token:
            # With an empty token anyone can compute a valid signature: accept nothing until one is set.
            raise web.HTTPForbidden(text="no [wechat] token is configured")
        signature = query.get("signature", "")
        timestamp = query.get("timestamp", "")
        nonce = query.get("nonce", "")
        if not (signature and timestamp and nonce):
            raise web.HTTPForbidden(text="missing signature")
        if not timestamp_is_fresh(timestamp, self.wall_clock(), self.max_skew_seconds):
            raise web.HTTPForbidden(text="stale timestamp")
        if not signature_matches(signature, self.token, timestamp, nonce):
            raise web.HTTPForbidden(text="bad signature")

    async def verify(self, request: web.Request) -> web.Response:
        """GET: the URL check WeChat runs when the server address is saved; echo ``echostr`` verbatim."""
        query = dict(request.query)
        self._check_signature(query)
        echostr = query.get("echostr", "")
        if not echostr or len(echostr) > 1024:
            raise web.HTTPBadRequest(text="missing echostr")
        return web.Response(text=echostr, content_type="text/plain")

    async def _read_body(self, request: web.Request) -> bytes:
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=self.max_body_bytes, actual_size=length)
        body = await (self._read_known(request, length) if length is not None else self._read_chunked(request))
        if not body.strip():
            raise web.HTTPBadRequest(text="empty body")
        return body

    @staticmethod
    async def _read_known(request: web.Request, length: int) -> bytes:
        """The usual case: the length is given, and within the cap."""
        try:
            return await request.content.readexactly(length)
        except asyncio.IncompleteReadError:
            raise web.HTTPBadRequest(text="the body is shorter than its Content-Length") from None

    async def _read_chunked(self, request: web.Request) -> bytes:
        # read(n) returns whatever has arrived so far, so keep reading to the end (or past the cap).
        received = bytearray()
        while chunk := await request.content.read(self.max_body_bytes + 1 - len(received)):
            received += chunk
            if len(received) > self.max_body_bytes:
                raise web.HTTPRequestEntityTooLarge(max_size=self.max_body_bytes, actual_size=len(received))
        return bytes(received)

    def _open_envelope(self, query: dict[str, str], body: bytes) -> tuple[Incoming, MessageCrypto | None]:
        """Returns the message and the crypto its reply must be encrypted with (None: plaintext)."""
        encrypt_type = query.get("encrypt_type", "raw").lower()
        if encrypt_type not in {"raw", "aes"}:
            raise web.HTTPBadRequest(text="unknown encrypt_type")
        try:
            fields = parse_body(body)
        except MalformedMessage as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        if encrypt_type == "raw":
            if self.require_encryption:
                raise web.HTTPForbidden(text="plaintext mode is disabled")
            try:
                return to_incoming(fields), None
            except MalformedMessage as exc:
                raise web.HTTPBadRequest(text=str(exc)) from None
        if self.crypto is None:
            raise web.HTTPBadRequest(text="safe mode is not configured on this server")
        encrypt = fields.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise web.HTTPBadRequest(text="missing Encrypt")
        msg_signature = query.get("msg_signature", "")
        if not signature_matches(msg_signature, self.token, query["timestamp"], query["nonce"], encrypt):
            raise web.HTTPForbidden(text="bad msg_signature")
        try:
            crypto, inner = self._decrypt(encrypt)
            return to_incoming(parse_xml(inner)), crypto
        except (CryptoError, MalformedMessage) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None

    def _decrypt(self, encrypt: str) -> tuple[MessageCrypto, bytes]:
        assert self.crypto is not None
        try:
            return self.crypto, self.crypto.decrypt(encrypt)
        except CryptoError:
            if self.previous_crypto is None:
                raise
            return self.previous_crypto, self.previous_crypto.decrypt(encrypt)

    async def receive(self, request: web.Request) -> web.Response:
        """POST: a message or event pushed by WeChat."""
        received_at = time.monotonic()
        query = dict(request.query)
        self._check_signature(query)
        body = await self._read_body(request)
        try:
            incoming, reply_crypto = self._open_envelope(query, body)
        except web.HTTPException:
            raise
        except Exception:  # a parser surprise must still be a 400, never a 500
            log.exception("unreadable push")
            raise web.HTTPBadRequest(text="unreadable message") from None
        # In safe mode msg_signature covers the encrypted message, so a captured URL cannot carry another
        # one; a plaintext push's signature covers no body, so its (timestamp, nonce) is bound to its body.
        if reply_crypto is None and self.replay_guard is not None and not await self.replay_guard.admit(
            int(query["timestamp"]), query["nonce"], body
        ):
            raise web.HTTPForbidden(text="this signature was already used with another message")
        note_push_type(incoming.msg_type)
        with logsafe.scope():  # no log line about this push may show who sent it, or from where
            logsafe.remember(incoming.openid, incoming.to_user)
            if incoming.location is not None:
                logsafe.remember(incoming.location.latitude, incoming.location.longitude)
            try:
                reply_xml = await self.pipeline.handle(incoming, received_at=received_at)
            except Exception:
                log.exception("message pipeline failed (%s)", incoming.msg_type)
                reply_xml = TextReply(texts.HANDLER_ERROR).render(
                    incoming.openid, incoming.to_user, int(self.wall_clock())
                )
        if not reply_xml:
            return web.Response(text=SUCCESS, content_type="text/plain")
        if reply_crypto is not None:
            envelope = reply_crypto.encrypt_reply(reply_xml, str(int(self.wall_clock())), secrets.token_hex(8))
            return web.Response(text=envelope, content_type="application/xml")
        return web.Response(text=reply_xml, content_type="application/xml")
