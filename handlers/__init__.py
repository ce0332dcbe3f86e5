"""Conversation areas. Each module exports a ``router``; ``build_dispatcher`` orders them by priority."""

from __future__ import annotations

from bot.routing import Dispatcher, Router


def all_routers() -> list[Router]:
    """Routers in priority order: global commands first, dialogs next, free-text questions last."""
    from handlers import common

    routers: list[Router] = [common.router]
    from handlers import officials

    routers.append(officials.router)
    from handlers import report

    routers.append(report.router)
    routers.append(common.fallback_router)
    return routers


def build_dispatcher() -> Dispatcher:
    from handlers import common

    return Dispatcher(all_routers(), fallback=common.fallback)
