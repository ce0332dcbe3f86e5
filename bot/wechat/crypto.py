"""The AES envelope of safe and compatible mode, on top of wechatpy's PrpCrypto.

wechatpy raises assorted untyped errors on bad input; here every failure becomes ``CryptoError``.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from wechatpy.crypto import PrpCrypto

from bot.wechat.signature import compute_signature


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

    def decrypt(self, encrypt: str) -> bytes:
        try:
            text = PrpCrypto(self.key).decrypt(encrypt, self.app_id)
        except Exception as exc:  # wechatpy raises ValueError, TypeError, binascii.Error, its own types…
            raise CryptoError(f"cannot decrypt message: {type(exc).__name__}") from None
        return text if isinstance(text, bytes) else text.encode("utf-8")

    def encrypt(self, plaintext: str) -> str:
        encrypted = PrpCrypto(self.key).encrypt(plaintext, self.app_id)
        return encrypted if isinstance(encrypted, str) else encrypted.decode("ascii")

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
