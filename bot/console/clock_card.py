"""The clock on a case page: its stage, deadline, time left and basis, the extensions, whether it may be
extended. (The 办理时限 list and the extension form's handler are in ``console.clocks``.)"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.cases.clock import ClockConfigError, ClockRules, case_clock, clock_rules
from bot.cases.extensions import extensions_of
from bot.cases.times import load_timed_cases
from bot.cases.view import view_of
from bot.console.common import console_of, fail
from storage.models.reports import Report


def rules_of(request: web.Request) -> ClockRules:
    try:
        return clock_rules(console_of(request).services.config)
    except ClockConfigError as exc:
        raise fail(500, str(exc)) from None


async def clock_context(request: web.Request, db: Any, report: Report, *, may_act: bool) -> dict[str, Any]:
    """What the case page shows about the clocks (added to its template context)."""
    now = console_of(request).services.now()
    rules = rules_of(request)
    timed = await load_timed_cases(db, Report.id == report.id)
    if not timed:
        return {"clock": None, "extensions": [], "can_extend": False}
    clock = case_clock(timed[0].times, rules, now)
    return {
        "clock": view_of(clock, now),
        "extensions": await extensions_of(db, report.id),
        "can_extend": may_act and report.status in ("accepted", "investigating"),
        "max_extension_days": rules.max_extension_days,
    }


