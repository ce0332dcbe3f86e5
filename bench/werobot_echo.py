"""WeRoBot's echo robot in safe mode: the bare-framework yardstick ``bench/callback.py`` measures against.

Served by gunicorn with one sync worker (``gunicorn bench.werobot_echo:app``); it reads the account's
token, AppID and EncodingAESKey from ``config.example.toml``, like the service under test, so both
accept the same signed and encrypted requests. Bench-only: WeRoBot comes with the ``bench`` extra.
"""

from __future__ import annotations

from pathlib import Path

from werobot import WeRoBot

from bot.config import load_config

_wechat = load_config(Path(__file__).resolve().parent.parent / "config.example.toml", env={}).wechat
robot = WeRoBot(token=_wechat.token, encoding_aes_key=_wechat.encoding_aes_key, app_id=_wechat.app_id)
robot.config["SESSION_STORAGE"] = False  # keeps nothing: the echo does no work beyond the protocol


@robot.text
def echo(message):  # type: ignore[no-untyped-def]
    return message.content


def app(environ, start_response):  # type: ignore[no-untyped-def]
    """WeRoBot answers on every path; /healthz (the bench's readiness probe) is answered here."""
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return robot.wsgi(environ, start_response)
