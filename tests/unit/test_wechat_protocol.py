"""The wire protocol: signatures, the AES envelope (with the fixed vector), parsing pushes, rendering replies."""

from __future__ import annotations

import base64
import random

import pytest
from wechatpy.crypto import WeChatCrypto

from bot.wechat import push
from bot.wechat.crypto import CryptoError, MessageCrypto
from bot.wechat.messages import MalformedMessage, parse_body, parse_xml, to_incoming
from bot.wechat.push import PushSigner
from bot.wechat.replies import NewsReply, TextReply, cdata
from bot.wechat.signature import compute_signature, signature_matches, timestamp_is_fresh

# The fixed vector from shared/domain/wechat-vectors.md.
VEC_TOKEN = "123456"
VEC_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
VEC_APPID = "wx49f0ab532d5d035a"
VEC_SIGNATURE = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
VEC_TIMESTAMP = "1411525903"
VEC_NONCE = "461056294"
VEC_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzx"
    "h6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQ"
    "qGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7"
    "FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)

# Official documentation samples of what WeChat pushes.
SAMPLES = {
    "text": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]>"
    "</Content><MsgId>1234567890123456</MsgId></xml>",
    "image": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[this is a url]]>"
    "</PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1234567890123456</MsgId></xml>",
    "location": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>"
    "<CreateTime>1351776360</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X>"
    "<Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label>"
    "<MsgId>1234567890123456</MsgId></xml>",
    "voice": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>"
    "<CreateTime>1357290913</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]>"
    "</MediaId><Format><![CDATA[Format]]></Format><Recognition><![CDATA[腾讯微信团队]]></Recognition>"
    "<MsgId>1234567890123456</MsgId></xml>",
    "subscribe": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>"
    "<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>",
    "subscribe_qr": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]>"
    "</FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]>"
    "</Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>",
    "click": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>"
    "<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event>"
    "<EventKey><![CDATA[EVENTKEY]]></EventKey></xml>",
    "location_event": "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]>"
    "</FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]>"
    "</Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision></xml>",
}


# ---- signatures -----------------------------------------------------------------------------------

def test_get_verification_example_signature() -> None:
    assert compute_signature("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert signature_matches("f464b24fc39322e44b38aa78f5edd27bd1441696", "AAAAA", "1714036504", "1514711492")


def test_fixed_vector_msg_signature() -> None:
    assert compute_signature(VEC_TOKEN, VEC_TIMESTAMP, VEC_NONCE, VEC_ENCRYPT) == VEC_SIGNATURE


@pytest.mark.parametrize(
    "given",
    ["", "f464b24fc39322e44b38aa78f5edd27bd1441697", "F464B24FC39322E44B38AA78F5EDD27BD1441696", "签名",
     "f464b24fc39322e44b38aa78f5edd27bd1441696x"],
)
def test_signature_mismatch(given: str) -> None:
    assert not signature_matches(given, "AAAAA", "1714036504", "1514711492")


@pytest.mark.parametrize(
    ("timestamp", "fresh"),
    [("1000", True), ("700", True), ("1300", True), ("699", False), ("1301", False), ("", False), ("abc", False),
     ("1e3", False), ("9" * 40, False)],
)
def test_timestamp_freshness(timestamp: str, fresh: bool) -> None:
    assert timestamp_is_fresh(timestamp, 1000.0, 300) is fresh


# ---- crypto ---------------------------------------------------------------------------------------

def test_fixed_vector_decrypts_with_our_crypto() -> None:
    crypto = MessageCrypto(VEC_TOKEN, VEC_KEY, VEC_APPID)
    incoming = to_incoming(parse_xml(crypto.decrypt(VEC_ENCRYPT)))
    assert incoming.openid == "messense"
    assert incoming.content == "test"
    assert incoming.msg_type == "text"


def test_fixed_vector_decrypts_with_wechatpy() -> None:
    body = f"<xml><ToUserName><![CDATA[{VEC_APPID}]]></ToUserName><Encrypt><![CDATA[{VEC_ENCRYPT}]]></Encrypt></xml>"
    plain = WeChatCrypto(VEC_TOKEN, VEC_KEY, VEC_APPID).decrypt_message(body, VEC_SIGNATURE, VEC_TIMESTAMP, VEC_NONCE)
    fields = parse_xml(plain.encode("utf-8"))
    assert (fields["FromUserName"], fields["Content"]) == ("messense", "test")


def test_our_push_opens_with_wechatpy_and_theirs_with_ours() -> None:
    signer = PushSigner(VEC_TOKEN, VEC_KEY, VEC_APPID)
    xml = push.text_xml("gh_acct", "user-1", "新污染物 ]]> 测试", create_time=1700000000)
    signed = signer.request(xml, "safe", timestamp=1700000000, nonce="42")
    theirs = WeChatCrypto(VEC_TOKEN, VEC_KEY, VEC_APPID)
    opened = theirs.decrypt_message(signed.body.decode(), signed.query["msg_signature"], "1700000000", "42")
    assert parse_xml(opened.encode())["Content"] == "新污染物 ]]> 测试"

    reply = theirs.encrypt_message("<xml><Content><![CDATA[你好]]></Content></xml>", "42", "1700000001")
    assert parse_xml(signer.open_reply(reply).encode())["Content"] == "你好"


def test_encrypted_reply_envelope_opens_with_wechatpy() -> None:
    crypto = MessageCrypto(VEC_TOKEN, VEC_KEY, VEC_APPID)
    envelope = crypto.encrypt_reply(TextReply("回复").render("u", "gh", 1), "1700000000", "n1")
    fields = parse_xml(envelope.encode())
    theirs = WeChatCrypto(VEC_TOKEN, VEC_KEY, VEC_APPID)
    body = f"<xml><Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>"
    plain = theirs.decrypt_message(body, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
    assert parse_xml(plain.encode())["Content"] == "回复"


def test_werobot_opens_our_push_and_reply_and_we_open_theirs() -> None:
    """Interop with a second implementation (WeRoBot comes with the bench extra)."""
    werobot_crypto = pytest.importorskip("werobot.crypto")
    theirs = werobot_crypto.MessageCrypt(VEC_TOKEN, VEC_KEY, VEC_APPID)
    signer = PushSigner(VEC_TOKEN, VEC_KEY, VEC_APPID)
    signed = signer.request(push.text_xml("gh_acct", "user-1", "全氟 ]]> 测试"), "safe", timestamp=1700000000,
                            nonce="7")
    encrypt = parse_xml(signed.body)["Encrypt"]
    opened = theirs.decrypt_message("1700000000", "7", signed.query["msg_signature"], encrypt)
    assert parse_xml(opened if isinstance(opened, bytes) else opened.encode())["Content"] == "全氟 ]]> 测试"

    envelope = MessageCrypto(VEC_TOKEN, VEC_KEY, VEC_APPID).encrypt_reply(TextReply("回复").render("u", "gh", 1),
                                                                          "1700000000", "n1")
    fields = parse_xml(envelope.encode())
    plain = theirs.decrypt_message(fields["TimeStamp"], fields["Nonce"], fields["MsgSignature"], fields["Encrypt"])
    assert parse_xml(plain if isinstance(plain, bytes) else plain.encode())["Content"] == "回复"

    reply = theirs.encrypt_message("<xml><Content><![CDATA[你好]]></Content></xml>", "1700000001", "42")
    assert parse_xml(signer.open_reply(reply).encode())["Content"] == "你好"


@pytest.mark.parametrize(
    "encrypt",
    ["", "not base64 at all!!", base64.b64encode(b"short").decode(), base64.b64encode(b"x" * 64).decode(),
     VEC_ENCRYPT[:-8] + "AAAAAAA="],
)
def test_undecryptable_input_raises_crypto_error(encrypt: str) -> None:
    with pytest.raises(CryptoError):
        MessageCrypto(VEC_TOKEN, VEC_KEY, VEC_APPID).decrypt(encrypt)


def test_message_for_another_app_is_refused() -> None:
    with pytest.raises(CryptoError):
        MessageCrypto(VEC_TOKEN, VEC_KEY, "wx_some_other_app").decrypt(VEC_ENCRYPT)


@pytest.mark.parametrize("key", ["", "short", "!" * 43, base64.b64encode(b"k" * 16).decode().rstrip("=")])
def test_bad_encoding_aes_key_is_rejected(key: str) -> None:
    with pytest.raises(ValueError):
        MessageCrypto("t", key, "wx1")


# ---- parsing pushes --------------------------------------------------------------------------------

def test_documentation_samples_parse() -> None:
    text = to_incoming(parse_xml(SAMPLES["text"].encode()))
    assert (text.openid, text.msg_type, text.text, text.msg_id) == ("fromUser", "text", "this is a test",
                                                                    "1234567890123456")
    assert text.dedup_key == "m:fromUser:1234567890123456"
    image = to_incoming(parse_xml(SAMPLES["image"].encode()))
    assert (image.media_id, image.pic_url) == ("media_id", "this is a url")
    loc = to_incoming(parse_xml(SAMPLES["location"].encode()))
    assert loc.location is not None
    assert (loc.location.latitude, loc.location.longitude, loc.location.label, loc.location.scale) == (
        23.134521, 113.358803, "位置信息", 20)
    voice = to_incoming(parse_xml(SAMPLES["voice"].encode()))
    assert voice.text == "腾讯微信团队"
    sub = to_incoming(parse_xml(SAMPLES["subscribe"].encode()))
    assert sub.is_event and sub.event == "subscribe"
    assert sub.dedup_key == "e:FromUser:123456789:subscribe:"
    sub_qr = to_incoming(parse_xml(SAMPLES["subscribe_qr"].encode()))
    assert sub_qr.dedup_key == "e:FromUser:123456789:subscribe:qrscene_123123"
    click = to_incoming(parse_xml(SAMPLES["click"].encode()))
    assert (click.event, click.event_key) == ("CLICK", "EVENTKEY")
    loc_event = to_incoming(parse_xml(SAMPLES["location_event"].encode()))
    assert loc_event.location is not None and loc_event.location.latitude == 23.137466


def test_voice_without_recognition_has_no_text() -> None:
    xml = SAMPLES["voice"].replace("<![CDATA[腾讯微信团队]]>", "")
    assert to_incoming(parse_xml(xml.encode())).text == ""


def test_event_dedup_key_distinguishes_each_part() -> None:
    base = to_incoming(parse_xml(SAMPLES["click"].encode()))
    other_key = to_incoming(parse_xml(SAMPLES["click"].replace("EVENTKEY", "OTHER").encode()))
    other_time = to_incoming(parse_xml(SAMPLES["click"].replace("123456789", "123456790").encode()))
    other_user = to_incoming(parse_xml(SAMPLES["click"].replace("[FromUser]", "[Someone]").encode()))
    keys = {base.dedup_key, other_key.dedup_key, other_time.dedup_key, other_user.dedup_key}
    assert len(keys) == 4


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<xml><FromUserName>a</FromUserName>",
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<xml><FromUserName>&xxe;</FromUserName></xml>",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b"<xml><Content>&lol2;</Content></xml>",
        b"<root><FromUserName>a</FromUserName></root>",
        b"<xml>just text</xml>",
        b"<xml/>",
    ],
)
def test_unreadable_bodies_raise_malformed(body: bytes) -> None:
    with pytest.raises(MalformedMessage):
        to_incoming(parse_xml(body))


_CIPHER = base64.b64encode(bytes(range(256)) * 3).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[{_CIPHER}]]></Encrypt></xml>",
        f"<xml>\n    <ToUserName><![CDATA[gh_abc]]></ToUserName>\n"
        f"    <Encrypt><![CDATA[{_CIPHER}]]></Encrypt>\n</xml>\n",
        f'<?xml version="1.0"?><xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[{_CIPHER}]]>'
        "</Encrypt></xml>",
        f"<xml><ToUserName><![CDATA[ gh_abc ]]></ToUserName><Encrypt><![CDATA[{_CIPHER}]]></Encrypt></xml>",
        f"<xml><ToUserName>gh_abc</ToUserName><Encrypt>{_CIPHER}</Encrypt><FromUserName>u</FromUserName></xml>",
        f"<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[{_CIPHER}]]></Encrypt></xml><x/>",
        "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[]]></Encrypt></xml>",
        "<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[a&amp;b]]></Encrypt></xml>",
    ],
)
def test_the_envelope_shortcut_reads_exactly_what_the_parser_reads(body: str) -> None:
    data = body.encode()
    try:
        expected: object = parse_xml(data)
    except MalformedMessage as exc:
        expected = type(exc)
    try:
        got: object = parse_body(data)
    except MalformedMessage as exc:
        got = type(exc)
    assert got == expected


_SAFE = ["a", " ", "\n", "\t", "　", ">", "]]", "]", "[", "举报", "😀", "\u2028", "YC20261204-0007", "7"]
_RISKY = ["\r", "<", "&", "&amp;", "]]>", "\x01", "\x0b", "\ufffe", "]]><![CDATA[", "</Content>", "<![CDATA["]


def _random_push(rng: random.Random) -> bytes:
    """A push body that is often flat, sometimes nearly so: what the shortcut must read like the parser."""
    def text() -> str:
        return "".join(rng.choice(_RISKY if rng.random() < 0.04 else _SAFE) for _ in range(rng.randrange(0, 6)))

    tags = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "x1", "_a"]
    fields = []
    for _ in range(rng.randrange(0, 6)):
        tag = rng.choice(tags) if rng.random() < 0.05 else tags.pop(rng.randrange(len(tags)))
        shape = rng.randrange(24)
        if shape == 0:
            fields.append(f"<{tag}>{text()}</{tag}>")
        elif shape == 1:
            fields.append(f"<{tag}/>")
        elif shape == 2:
            fields.append(f"<{tag}><Inner><![CDATA[{text()}]]></Inner></{tag}>")
        elif shape == 3:
            fields.append(f"<{tag}>{text()}<![CDATA[{text()}]]></{tag}>")
        else:
            fields.append(f"<{tag}><![CDATA[{text()}]]></{tag}>")
    gap = rng.choice(["", "", "", " ", "\n  ", "\r\n", "　"])
    head = rng.choice(["<xml>"] * 12 + [" <xml>", '<?xml version="1.0"?><xml>', "<xml a='1'>", "<XML>"])
    tail = rng.choice(["</xml>"] * 12 + ["</xml>\n", "</xml>x", "", "</xml><xml/>"])
    return (head + gap.join(fields) + gap + tail).encode("utf-8", "surrogatepass")


def _reading(read, body: bytes) -> object:  # type: ignore[no-untyped-def]
    try:
        return read(body)
    except MalformedMessage:
        return MalformedMessage


def test_flat_pushes_are_read_exactly_as_the_xml_parser_reads_them() -> None:
    from bot.wechat.messages import _parse_tree, _read_flat

    rng = random.Random(20261205)
    shortcut = 0
    for _ in range(6000):
        body = _random_push(rng)
        shortcut += _read_flat(body) is not None
        assert _reading(parse_xml, body) == _reading(_parse_tree, body), body
    assert shortcut > 1000  # the shortcut was taken often enough for the comparison to mean something


def test_markup_in_a_message_text_is_just_text() -> None:
    """Only declarations before the root are refused: a user may type anything, "<!DOCTYPE" included."""
    body = ("<xml><FromUserName><![CDATA[u]]></FromUserName><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[网页开头写<!DOCTYPE html>对吗]]></Content></xml>").encode()
    assert to_incoming(parse_xml(body)).text == "网页开头写<!DOCTYPE html>对吗"


@pytest.mark.parametrize(
    "xml",
    [
        "<xml><MsgType>text</MsgType><Content>x</Content></xml>",  # no FromUserName
        "<xml><FromUserName>u</FromUserName><Content>x</Content></xml>",  # no MsgType
        "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><MsgId>12ab</MsgId></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><MsgId>١٢٣</MsgId></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><MsgId>12²</MsgId></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><MsgId>1" + "0" * 80 + "</MsgId></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><CreateTime>soon</CreateTime></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>north</Location_X>"
        "<Location_Y>1</Location_Y></xml>",
        "<xml><FromUserName><a>nested</a></FromUserName><MsgType>text</MsgType></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>nan</Location_X>"
        "<Location_Y>1</Location_Y></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>35</Location_X>"
        "<Location_Y>inf</Location_Y></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>91</Location_X>"
        "<Location_Y>111</Location_Y></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>35</Location_X>"
        "<Location_Y>111</Location_Y><Scale>inf</Scale></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>location</MsgType><Location_X>35</Location_X>"
        "<Location_Y>111</Location_Y><Scale>nan</Scale></xml>",
        "<xml><FromUserName>u</FromUserName><MsgType>event</MsgType><Event>LOCATION</Event>"
        "<Latitude>1e400</Latitude><Longitude>111</Longitude></xml>",
        "<xml><FromUserName>" + "u" * 200 + "</FromUserName><MsgType>text</MsgType></xml>",
    ],
)
def test_missing_or_wrong_fields_raise_malformed(xml: str) -> None:
    with pytest.raises(MalformedMessage):
        to_incoming(parse_xml(xml.encode()))


# ---- replies --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["plain", "]]>", "a]]>b]]>c", "]]]]>", "<![CDATA[x]]>", "中文]]>结尾]]"])
def test_cdata_round_trips_any_text(text: str) -> None:
    fields = parse_xml(f"<xml><Content>{cdata(text)}</Content></xml>".encode())
    assert fields["Content"] == text


def test_text_reply_renders_and_escapes() -> None:
    xml = TextReply("注意 ]]><MsgType>news</MsgType>").render("user-1", "gh_acct", 1700000000)
    fields = parse_xml(xml.encode())
    assert fields == {
        "ToUserName": "user-1",
        "FromUserName": "gh_acct",
        "CreateTime": "1700000000",
        "MsgType": "text",
        "Content": "注意 ]]><MsgType>news</MsgType>",
    }


def test_news_reply_has_one_article() -> None:
    xml = NewsReply("标题", "说明", "https://example.invalid/a", "https://example.invalid/p.jpg").render("u", "g", 1)
    fields = parse_xml(xml.encode())
    assert fields["MsgType"] == "news" and fields["ArticleCount"] == "1"
    assert fields["Articles"]["item"]["Title"] == "标题"


# ---- building pushes ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
def test_push_signer_modes(mode: str) -> None:
    signer = PushSigner("tok", VEC_KEY, "wxapp")
    xml = push.location_xml("gh", "u1", 35.03, 111.01, "运城", msg_id="1234567890123456789", create_time=1)
    signed = signer.request(xml, mode, timestamp=1700000000, nonce="7", openid="u1")
    assert signature_matches(signed.query["signature"], "tok", "1700000000", "7")
    assert signed.query["openid"] == "u1"
    fields = parse_xml(signed.body)
    if mode == "plaintext":
        assert "encrypt_type" not in signed.query and "Encrypt" not in fields
        inner = fields
    else:
        assert signed.query["encrypt_type"] == "aes"
        assert signature_matches(signed.query["msg_signature"], "tok", "1700000000", "7", fields["Encrypt"])
        assert ("MsgType" in fields) is (mode == "compatible")
        inner = parse_xml(MessageCrypto("tok", VEC_KEY, "wxapp").decrypt(fields["Encrypt"]))
    incoming = to_incoming(inner)
    assert incoming.location is not None and incoming.location.label == "运城"


def test_push_signer_refuses_unknown_mode_and_missing_key() -> None:
    with pytest.raises(ValueError):
        PushSigner("tok", VEC_KEY, "wxapp").request(push.event_xml("gh", "u", "subscribe"), "bogus")
    with pytest.raises(ValueError):
        PushSigner("tok").request(push.event_xml("gh", "u", "subscribe"), "safe")


def test_open_reply_checks_the_signature() -> None:
    crypto = MessageCrypto("tok", VEC_KEY, "wxapp")
    envelope = crypto.encrypt_reply("<xml><Content>hi</Content></xml>", "1700000000", "n")
    signer = PushSigner("tok", VEC_KEY, "wxapp")
    assert "hi" in signer.open_reply(envelope)
    forged = envelope.replace("<MsgSignature><![CDATA[", "<MsgSignature><![CDATA[0")
    with pytest.raises(ValueError):
        signer.open_reply(forged)
    assert signer.open_reply("success") == ""


def test_msg_ids_are_unique_and_19_digits() -> None:
    ids = {push.next_msg_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 19 and i.isdigit() for i in ids)


# ---- reading the callback body --------------------------------------------------------------------

async def _read_in_pieces(pieces: list[bytes], max_body_bytes: int) -> bytes:
    """Feeds a request stream one piece per event-loop turn, as a slow network would."""
    import asyncio
    from unittest import mock

    from aiohttp import streams

    from bot.callback import CallbackView

    stream = streams.StreamReader(mock.Mock(_reading_paused=False), 2**16, loop=asyncio.get_running_loop())

    async def feed() -> None:
        for piece in pieces:
            stream.feed_data(piece)
            await asyncio.sleep(0)
        stream.feed_eof()

    view = CallbackView(token="t", crypto=None, pipeline=None, max_body_bytes=max_body_bytes,  # type: ignore[arg-type]
                        max_skew_seconds=300)
    request = mock.Mock(content=stream, content_length=None)
    feeder = asyncio.create_task(feed())
    try:
        return await view._read_body(request)
    finally:
        feeder.cancel()


async def test_callback_reads_a_body_that_arrives_in_pieces() -> None:
    pieces = [b"<xml>", b"<FromUserName>u</FromUserName>", b"<MsgType>text</MsgType>", b"</xml>"]
    assert await _read_in_pieces(pieces, 1000) == b"".join(pieces)


async def test_callback_caps_a_body_that_arrives_in_pieces() -> None:
    from aiohttp import web

    with pytest.raises(web.HTTPRequestEntityTooLarge):
        await _read_in_pieces([b"x" * 600, b"y" * 600], 1000)
