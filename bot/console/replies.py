"""Reply templates on the case page: the choices for the case's category, and filling the chosen one into
the reply box (resolve) or the reason box (reject), where staff edit it before sending."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from bot import texts
from bot.cases.replies import ReplyTemplateError, load_templates, templates_for
from bot.console.catalog import category_name
from bot.console.common import console_of
from storage.models.reports import Report

log = logging.getLogger(__name__)
TARGETS = {"resolved": ("resolve", "public_reply"), "rejected": ("reject", "reason")}


def apply_reply_templates(request: web.Request, report: Report, context: dict[str, Any]) -> None:
    """Add the template choices to the case page's context; with ``?reply=KEY`` fill that one in."""
    try:
        templates = load_templates(console_of(request).services.config)
    except ReplyTemplateError as exc:
        log.warning("reply templates unavailable: %s", exc)
        context["reply_templates"] = {}
        return
    choices = {outcome: templates_for(templates, report.category, outcome) for outcome in TARGETS}
    context["reply_templates"] = {outcome: [(t.key, t.title) for t in items] for outcome, items in choices.items()}
    wanted = request.query.get("reply", "").strip()[:64]
    if not wanted:
        return
    for outcome, items in choices.items():
        chosen = next((t for t in items if t.key == wanted), None)
        if chosen is None:
            continue
        action, field = TARGETS[outcome]
        text = chosen.fill(
            case_no=report.case_no or "", category=category_name(report.category), department=report.department
        )
        context["form"] = {field: text}
        context["open_action"] = action
        context["chosen_reply"] = chosen.key
        return
    context["error"] = texts.REPLY_TEMPLATE_UNKNOWN
