"""Hostile and broken pushes over real HTTP: forged or stale signatures (403), unreadable bodies (400),
oversized bodies (413). None of them takes effect, and none gets a 500."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import func, select

from bot import texts
from bot.wechat import push
from bot.wechat.push import PushSigner, SignedRequest
from bot.wechat.replies import cdata
from bot.wechat.signature import compute_signature
from storage.models import ProcessedMessage
from tests.conftest import RunningService

OTHER_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def now(service: RunningService) -> int:
    return int(service.clock().timestamp())


def signer(service: RunningService) -> PushSigner:
    return service.wx.signer


def text_push(service: RunningService, content: str = "帮助", openid: str = "user-h") -> str:
    return push.text_xml("gh_test_account", openid, content, create_time=now(service))


async def post(service: RunningService, query: dict[str, str], body: bytes | AsyncIterator[bytes],
               headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(f"{service.url}/wechat", params=query, data=body,
                                                          headers=headers) as resp:
        return resp.status, await resp.text()


async def processed(service: RunningService) -> int:
    async with service.services.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(ProcessedMessage)) or 0)


def safe_request_for(service: RunningService, encrypt: str, extra: str = "") -> SignedRequest:
    """A safe-mode request whose signatures are valid for an arbitrary Encrypt value."""
    ts, nonce, token = str(now(service)), "99", service.config.wechat.token
    query = {
        "signature": compute_signature(token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": compute_signature(token, ts, nonce, encrypt),
    }
    body = f"<xml><ToUserName>{cdata('gh_test_account')}</ToUserName>{extra}<Encrypt>{cdata(encrypt)}</Encrypt></xml>"
    return SignedRequest(query, body.encode())


# ---- 403 ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_forged_signature_is_refused(service: RunningService, mode: str) -> None:
    signed = signer(service).request(text_push(service), mode, timestamp=now(service))
    forged = {**signed.query, "signature": "0" * 40}
    assert (await post(service, forged, signed.body))[0] == 403
    wrong_token = PushSigner("not-the-token", service.config.wechat.encoding_aes_key, service.config.wechat.app_id)
    other = wrong_token.request(text_push(service), mode, timestamp=now(service))
    assert (await post(service, other.query, other.body))[0] == 403
    missing = {k: v for k, v in signed.query.items() if k != "signature"}
    assert (await post(service, missing, signed.body))[0] == 403
    assert await processed(service) == 0


async def test_forged_msg_signature_is_refused(service: RunningService) -> None:
    signed = signer(service).request(text_push(service), "safe", timestamp=now(service))
    for bad in ("0" * 40, "", signed.query["signature"]):
        query = {**signed.query, "msg_signature": bad}
        assert (await post(service, query, signed.body))[0] == 403
    # A valid envelope whose Encrypt was swapped for another (valid) one: the msg_signature no longer matches.
    other = signer(service).request(text_push(service, "别的"), "safe", timestamp=now(service))
    assert (await post(service, signed.query, other.body))[0] == 403
    assert await processed(service) == 0


@pytest.mark.parametrize("offset", [-301, -3600, 301, 86400])
@pytest.mark.parametrize("mode", ["plaintext", "safe"])
async def test_stale_or_future_timestamp_is_refused(service: RunningService, mode: str, offset: int) -> None:
    signed = signer(service).request(text_push(service), mode, timestamp=now(service) + offset)
    assert (await post(service, signed.query, signed.body))[0] == 403
    assert await processed(service) == 0


async def test_timestamps_within_the_window_are_accepted(service: RunningService) -> None:
    for offset in (-299, 0, 299):
        xml = push.text_xml("gh_test_account", "user-w", "帮助", create_time=now(service))
        signed = signer(service).request(xml, "safe", timestamp=now(service) + offset)
        status, _ = await post(service, signed.query, signed.body)
        assert status == 200


async def test_non_numeric_timestamp_is_refused(service: RunningService) -> None:
    signed = signer(service).request(text_push(service), "plaintext", timestamp=now(service))
    token = service.config.wechat.token
    query = {**signed.query, "timestamp": "soon", "signature": compute_signature(token, "soon", signed.query["nonce"])}
    assert (await post(service, query, signed.body))[0] == 403


# ---- 400 ------------------------------------------------------------------------------------------

BAD_PLAINTEXT = {
    "not xml": b"this is not xml",
    "truncated": b"<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName>",
    "xxe": b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b"<xml><ToUserName>gh</ToUserName><FromUserName>&xxe;</FromUserName><CreateTime>1</CreateTime>"
           b"<MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>",
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                      b"<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>&lol2;</Content></xml>",
    "internal entity": b'<!DOCTYPE xml [<!ENTITY name "user">]><xml><FromUserName>&name;</FromUserName>'
                       b"<MsgType>text</MsgType></xml>",
    "wrong root": b"<message><FromUserName>u</FromUserName><MsgType>text</MsgType></message>",
    "empty root": b"<xml></xml>",
    "missing FromUserName": b"<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType><Content>x</Content>"
                            b"<MsgId>1</MsgId></xml>",
    "missing MsgType": b"<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><MsgId>1</MsgId></xml>",
    "non-numeric MsgId": b"<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>"
                         b"<MsgType>text</MsgType><Content>x</Content><MsgId>12ab34</MsgId></xml>",
    "bad location": b"<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>N</Location_X>"
                    b"<Location_Y>E</Location_Y></xml>",
    "infinite zoom": b"<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>35</Location_X>"
                     b"<Location_Y>111</Location_Y><Scale>inf</Scale><MsgId>1</MsgId></xml>",
    "NaN latitude": b"<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>NaN</Location_X>"
                    b"<Location_Y>111</Location_Y><MsgId>1</MsgId></xml>",
    "nested field": b"<xml><FromUserName><a>1</a><b>2</b></FromUserName><MsgType>text</MsgType></xml>",
    "not utf-8": b"<xml><FromUserName>\xff\xfe\xfd</FromUserName><MsgType>text</MsgType></xml>",
    "whitespace": b"   \n  ",
}


@pytest.mark.parametrize("name", list(BAD_PLAINTEXT))
async def test_unreadable_plaintext_body_is_400(service: RunningService, name: str) -> None:
    signed = signer(service).request("<xml/>", "plaintext", timestamp=now(service))
    status, body = await post(service, signed.query, BAD_PLAINTEXT[name])
    assert status == 400, body
    assert await processed(service) == 0


async def test_empty_body_is_400(service: RunningService) -> None:
    signed = signer(service).request("<xml/>", "plaintext", timestamp=now(service))
    assert (await post(service, signed.query, b""))[0] == 400


@pytest.mark.parametrize("name", ["xxe", "wrong root", "missing FromUserName", "non-numeric MsgId", "not xml"])
async def test_unreadable_encrypted_content_is_400(service: RunningService, name: str) -> None:
    """The same bad payloads, correctly encrypted and signed: decryption succeeds, parsing refuses."""
    encrypt = signer(service).crypto.encrypt(BAD_PLAINTEXT[name].decode())  # type: ignore[union-attr]
    request = safe_request_for(service, encrypt)
    assert (await post(service, request.query, request.body))[0] == 400
    assert await processed(service) == 0


@pytest.mark.parametrize(
    "encrypt",
    [
        "!!!not base64!!!",
        base64.b64encode(b"too short").decode(),
        base64.b64encode(b"sixteen bytes!!!" * 3).decode(),  # a whole number of blocks, garbage inside
        "A" * 43,
    ],
)
async def test_bad_encrypt_field_is_400(service: RunningService, encrypt: str) -> None:
    request = safe_request_for(service, encrypt)
    assert (await post(service, request.query, request.body))[0] == 400


async def test_encrypt_for_another_app_is_400(service: RunningService) -> None:
    config = service.config.wechat
    other_app = PushSigner(config.token, config.encoding_aes_key, "wx_another_app_id")
    signed = other_app.request(text_push(service), "safe", timestamp=now(service))
    assert (await post(service, signed.query, signed.body))[0] == 400
    other_key = PushSigner(config.token, OTHER_KEY, config.app_id)
    signed = other_key.request(text_push(service), "safe", timestamp=now(service))
    assert (await post(service, signed.query, signed.body))[0] == 400
    assert await processed(service) == 0


async def test_safe_mode_envelope_problems_are_400(service: RunningService) -> None:
    def fresh() -> dict[str, str]:  # each body under its own signed URL: a URL is good for one body only
        return signer(service).request(text_push(service), "safe", timestamp=now(service)).query

    no_encrypt = b"<xml><ToUserName>gh</ToUserName></xml>"
    assert (await post(service, fresh(), no_encrypt))[0] == 400
    xxe_envelope = (b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/hostname">]><xml><Encrypt>&e;</Encrypt></xml>')
    assert (await post(service, fresh(), xxe_envelope))[0] == 400
    signed = signer(service).request(text_push(service), "safe", timestamp=now(service))
    unknown_type = {**signed.query, "encrypt_type": "rot13"}
    assert (await post(service, unknown_type, signed.body))[0] == 400


# ---- 413 ------------------------------------------------------------------------------------------

def oversized(service: RunningService) -> bytes:
    limit = service.config.server.max_body_bytes
    return text_push(service, "长" * limit).encode()


async def test_oversized_body_with_content_length_is_413(service: RunningService) -> None:
    signed = signer(service).request("<xml/>", "plaintext", timestamp=now(service))
    status, _ = await post(service, signed.query, oversized(service))
    assert status == 413
    assert await processed(service) == 0


async def test_oversized_chunked_body_without_content_length_is_413(service: RunningService) -> None:
    signed = signer(service).request("<xml/>", "plaintext", timestamp=now(service))
    data = oversized(service)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 4096):
            yield data[start:start + 4096]

    status, _ = await post(service, signed.query, chunks())
    assert status == 413
    assert await processed(service) == 0


async def test_large_but_allowed_body_arriving_in_pieces_is_read_whole(service: RunningService) -> None:
    """A body just under the cap, sent chunked in small pieces, must be read to its end, not cut."""
    limit = service.config.server.max_body_bytes
    content = "帮" * ((limit - 400) // 3)
    xml = push.text_xml("gh_test_account", "user-big", content, create_time=now(service))
    signed = signer(service).request(xml, "plaintext", timestamp=now(service))
    assert len(signed.body) <= limit

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(signed.body), 1000):
            yield signed.body[start:start + 1000]

    status, body = await post(service, signed.query, chunks())
    assert status == 200, body
    assert await processed(service) == 1


async def test_a_rejected_push_does_not_block_the_next_good_one(service: RunningService) -> None:
    signed = signer(service).request("<xml/>", "plaintext", timestamp=now(service))
    assert (await post(service, signed.query, b"<xml"))[0] == 400
    assert (await service.wx.send_text("user-n", "帮助")).content == texts.HELP


async def test_an_unexpected_parser_error_is_still_400(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.callback

    def surprise(fields: object) -> None:
        raise OverflowError("a parser bug")

    monkeypatch.setattr(bot.callback, "to_incoming", surprise)
    for mode in ("plaintext", "safe"):
        signed = signer(service).request(text_push(service), mode, timestamp=now(service))
        assert (await post(service, signed.query, signed.body))[0] == 400
