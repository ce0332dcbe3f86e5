"""`serve` runs on uvloop when [server] uvloop is on (the default), on asyncio's own loop when it is off."""

from __future__ import annotations

import asyncio

import uvloop

from bot.cli.core import _event_loop


def test_serve_loop_follows_the_setting() -> None:
    fast, plain = _event_loop(True), _event_loop(False)
    try:
        assert isinstance(fast, uvloop.Loop)
        assert not isinstance(plain, uvloop.Loop) and isinstance(plain, asyncio.AbstractEventLoop)
    finally:
        fast.close()
        plain.close()
