"""Telling the coordinator department that the working-day calendar is about to run out.

From 60 days before the last covered day (and on every pass once a year is uncovered) the reminder pass
queues one notice per coverage end to the ``[reminders] coordinator_department``; the outbox's dedup
key makes later passes add nothing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from bot import texts
from bot.outbound.notify import notify_department
from bot.reminders.ladder import Ladder
from bot.services import Services
from bot.tasks import workdays

log = logging.getLogger(__name__)

WARN_DAYS = 60


def coverage_state(today: date) -> tuple[date | None, bool]:
    """(the last covered day or None, whether the coordinator should be told now)."""
    until = workdays.covered_until(today)
    return until, until is None or until - today <= timedelta(days=WARN_DAYS)


def covered_until_iso(services: Services) -> str | None:
    """The last day of exact working-day data from today on (ISO date), or None when today is past it."""
    until = workdays.covered_until(Ladder.from_config(services.config.reminders).local(services.now()).date())
    return until.isoformat() if until else None


async def warn_coordinator(services: Services, now: datetime) -> int:
    """Queue the notice when coverage ends within WARN_DAYS; returns how many contacts it went to."""
    config = services.config
    today = Ladder.from_config(config.reminders).local(now).date()
    until, due = coverage_state(today)
    if not due:
        return 0
    last = until or date(today.year - 1, 12, 31)
    values = {
        "until": f"{last:%Y年%m月%d日}",
        "until_time": f"{last:%Y年%m月%d日} 23:59",  # a template `time` key takes a time of day too
        "year": last.year + 1,
        "department": config.reminders.coordinator_department,
        "state": texts.CALENDAR_STATE_ENDED
        if until is None
        else texts.CALENDAR_STATE_ENDING.format(days=(until - today).days),
    }
    async with services.database.session() as session:
        sent = await notify_department(
            session,
            services,
            department=config.reminders.coordinator_department,
            title=texts.CALENDAR_TITLE,
            fields={label: value.format(**values) for label, value in texts.CALENDAR_FIELDS.items()},
            detail=texts.CALENDAR_DETAIL.format(**values),
            url=config.server.public_base_url,
            dedup_key=f"calendar:coverage:{last.isoformat()}:{'ended' if until is None else 'ending'}",
            now=now,
            purpose="calendar",
            kinds=("text", "time", "status", "unit"),
        )
        await session.commit()
    if sent:
        log.warning("working-day calendar covered until %s: coordinator notice queued", last)
    return sent
