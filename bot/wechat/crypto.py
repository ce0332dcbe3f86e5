"""The AES envelope of safe and compatible mode, with ``cryptography``'s AES directly.

WeChat's scheme: AES-256-CBC, the key is the decoded EncodingAESKey and the IV its first 16 bytes; the
plaintext is 16 random bytes, the message length (4 bytes, network order), the message and the AppID,
padded PKCS#7-style to a multiple of 32 bytes; the result travels base64-encoded. This is what
wechatpy's PrpCrypto does, without its per-call wrapper objects and text/bytes conversions (it runs
twice per push). Every failure on bad input becomes ``CryptoError``.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.wechat.signature import compute_signature

_BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


class CryptoError(ValueError):
    """The Encrypt field cannot be decrypted, or belongs to another app."""


class MessageCrypto:
    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("encoding_aes_key is not valid base64") from exc
        if len(key) != 32:
            raise ValueError("encoding_aes_key must decode to 32 bytes")
        self.token = token
        self.key = key
        self.app_id = app_id
        self._app_id = app_id.encode("utf-8")
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def decrypt(self, encrypt: str) -> bytes:
        """The message inside ``encrypt``; CryptoError when it is not for this app or not well-formed."""
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("cannot decrypt message: not base64") from None
        if not data or len(data) % 16:
            raise CryptoError("cannot decrypt message: not whole AES blocks")
        decryptor = self._cipher.decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or len(plain) < 20 + pad:
            raise CryptoError("cannot decrypt message: bad padding")
        content = plain[16:-pad]
        length = int.from_bytes(content[:4], "big")
        if length > len(content) - 4:
            raise CryptoError("cannot decrypt message: bad length")
        message, app_id = content[4 : 4 + length], content[4 + length :]
        if app_id != self._app_id:
            raise CryptoError("cannot decrypt message: another AppID")
        try:
            message.decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("cannot decrypt message: not UTF-8") from None
        return message

    def encrypt(self, plaintext: str) -> str:
        message = plaintext.encode("utf-8")
        body = b"".join((secrets.token_bytes(16), len(message).to_bytes(4, "big"), message, self._app_id))
        pad = _BLOCK - len(body) % _BLOCK
        encryptor = self._cipher.encryptor()
        data = encryptor.update(body + bytes((pad,)) * pad) + encryptor.finalize()
        return base64.b64encode(data).decode("ascii")

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return compute_signature(self.token, timestamp, nonce, encrypt)

    def encrypt_reply(self, plaintext_xml: str, timestamp: str, nonce: str | None = None) -> str:
        """The encrypted passive-reply envelope."""
        nonce = nonce or secrets.token_hex(8)
        encrypt = self.encrypt(plaintext_xml)
        signature = self.sign(timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )
