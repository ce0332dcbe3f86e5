"""The fixed jobs the service runs: each reads due rows from our tables and acts on them."""

from __future__ import annotations

from bot.outbox_worker import OutboxWorker
from bot.services import Services
from scheduler.runner import ServiceScheduler


def register_jobs(scheduler: ServiceScheduler, services: Services) -> None:
    """Every background job of the service, registered in one place."""
    from bot.privacy import retention

    hour, minute = (int(part) for part in services.config.privacy.housekeeping_time.split(":"))
    scheduler.daily("housekeeping", hour, minute, lambda: retention.purge(services))
    scheduler.every("outbox", services.config.outbox.poll_seconds, OutboxWorker(services).run_once)
    from scheduler import media

    media.register(scheduler, services)
    from scheduler import reminders

    reminders.register(scheduler, services)
