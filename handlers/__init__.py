"""Conversation areas. Each module exports a ``router``; ``build_dispatcher`` orders them by priority."""

from __future__ import annotations

from bot.routing import Dispatcher, Router
from handlers import common, knowledge, notices, officials, privacy, report


def all_routers() -> list[Router]:
    """Routers in priority order: global commands first, dialogs next, free-text questions last."""
    return [
        knowledge.pick_router,  # a bare "1"/"2"/"3" right after suggestions; releases the offer otherwise
        officials.more_router,  # 更多 right after a page of 我的任务; releases the paging otherwise
        notices.router,  # delivery results and subscription choices: pushes, not user messages
        common.router,
        privacy.router,
        officials.router,
        report.router,
        knowledge.router,  # any other text outside a dialog is a question
        common.fallback_router,
    ]


def build_dispatcher() -> Dispatcher:
    return Dispatcher(all_routers(), fallback=common.fallback)
