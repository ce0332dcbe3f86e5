"""Refuse the Token and EncodingAESKey published in config.example.toml outside the sandbox.

Anyone can read the example file, so an account configured with its values accepts forged pushes (the
Token signs them) and readable replies (the key decrypts them).
"""

from __future__ import annotations

import tomllib

from bot.config import EXAMPLE_CONFIG_PATH, Config


def published_secrets() -> dict[str, str]:
    """The example file's ``[wechat] token`` and ``encoding_aes_key`` (empty when the file is absent)."""
    try:
        raw = tomllib.loads(EXAMPLE_CONFIG_PATH.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    wechat = raw.get("wechat", {})
    return {key: str(wechat.get(key) or "") for key in ("token", "encoding_aes_key")}


def secret_problems(config: Config) -> list[str]:
    if config.uses_sandbox:
        return []
    published = published_secrets()
    wechat = config.wechat
    problems = []
    for key, value in (("token", wechat.token), ("encoding_aes_key", wechat.encoding_aes_key)):
        if value and value == published.get(key):
            problems.append(f"[wechat] {key}: the value published in config.example.toml; set the account's own")
    previous = wechat.previous_encoding_aes_key
    if previous and previous == published.get("encoding_aes_key"):
        problems.append("[wechat] previous_encoding_aes_key: the value published in config.example.toml")
    return problems
