"""Every job the service runs, in one table. APScheduler is only the clock: each job reads due rows from our
tables and acts on them, so a restart or a second process changes nothing."""

from __future__ import annotations

from bot.outbound.worker import OutboxWorker
from bot.privacy.retention import purge
from bot.reminders.dispatch import run_pass
from bot.reports.photos import run_media_job
from bot.services import Services
from scheduler.runner import ServiceScheduler


def register_jobs(scheduler: ServiceScheduler, services: Services) -> None:
    """Register every background job of the service."""
    config = services.config
    send_hour, send_minute = (int(part) for part in config.reminders.send_hour.split(":"))
    house_hour, house_minute = (int(part) for part in config.privacy.housekeeping_time.split(":"))

    async def housekeeping() -> None:
        # Retention ([privacy]): closed cases lose identity, photos and exact positions in time; old
        # dialogs, dedup rows, sent messages, stale pending locations and ended sessions are deleted.
        await purge(services)

    async def reminder_pass() -> None:
        await run_pass(services)

    # name, when, what
    scheduler.daily("housekeeping", house_hour, house_minute, housekeeping)
    scheduler.every("outbox", config.outbox.poll_seconds, OutboxWorker(services).run_once)
    scheduler.every("report-photos", config.reports.media_poll_seconds, lambda: run_media_job(services))
    # A reminder pass plans, batches and sends; the one at send_hour makes the daily digest go out on time.
    scheduler.every("reminders", config.reminders.dispatch_interval_seconds, reminder_pass)
    scheduler.daily("reminders-daily-digest", send_hour, send_minute, reminder_pass)
