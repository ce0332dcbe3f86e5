"""A reminder pass: plan, batch into digests (queued in the outbox) and send the due digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import metrics
from bot.reminders.coverage import warn_coordinator
from bot.reminders.digest import batch
from bot.reminders.ladder import Ladder
from bot.reminders.planner import PlanReport, plan
from bot.reminders.sending import SendReport, send_due
from bot.services import Services

__all__ = ["PassReport", "SendReport", "run_pass", "send_due"]


@dataclass
class PassReport:
    plan: PlanReport
    messages: int
    send: SendReport
    window_open: bool
    calendar_notices: int = 0


async def run_pass(services: Services, now: datetime | None = None) -> PassReport:
    """Plan, batch and send as of ``now`` (default: the services' clock)."""
    now = now or services.now()
    planned = await plan(services.database, services.config, now)
    messages = await batch(services.database, services.config, now)
    sent = await send_due(services, now)
    metrics.reminder_pass(planned.planned, sent.sent, sent.dead)
    window = Ladder.from_config(services.config.reminders).may_send(now)
    return PassReport(planned, messages, sent, window, await warn_coordinator(services, now))
