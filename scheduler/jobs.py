"""The fixed jobs the service runs: each reads due rows from our tables and acts on them."""

from __future__ import annotations

from bot.outbound.worker import OutboxWorker
from bot.services import Services
from scheduler.runner import ServiceScheduler


def register_jobs(scheduler: ServiceScheduler, services: Services) -> None:
    """Every background job of the service, registered in one place."""
    from scheduler import maintenance

    scheduler.daily("maintenance", 3, 30, lambda: maintenance.prune(services))
    scheduler.every("outbox", services.config.outbox.poll_seconds, OutboxWorker(services).run_once)
    from scheduler import media

    media.register(scheduler, services)
    from bot.reminders import planner as reminders

    reminders.register(scheduler, services)
