"""APScheduler used as a clock only: fixed interval jobs that read due rows from our own tables.

One ``AsyncIOScheduler`` with the in-memory job store, started and stopped with the app. Nothing is
pickled or persisted by APScheduler; a restart or a second process changes nothing because every
job's state lives in the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)
# Every tick would log twice at INFO; our jobs log what they do themselves.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

JobFunc = Callable[[], Awaitable[object]]
# Told after every run: (job name, started, finished, the error or None). Set by the app (tick records, metrics).
TickObserver = Callable[[str, float, float, BaseException | None], Awaitable[None]]


class ServiceScheduler:
    def __init__(self, timezone: str = DEFAULT_TIMEZONE) -> None:
        self._scheduler = AsyncIOScheduler(timezone=timezone)
        self.jobs: dict[str, JobFunc] = {}
        self.observers: list[TickObserver] = []

    def every(self, name: str, seconds: float, func: JobFunc) -> None:
        """Run ``func`` every ``seconds``; a tick still running when the next is due is skipped, not stacked."""
        self.jobs[name] = func
        self._scheduler.add_job(
            self._guarded(name, func),
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            replace_existing=True,
        )

    def daily(self, name: str, hour: int, minute: int, func: JobFunc) -> None:
        self.jobs[name] = func
        self._scheduler.add_job(
            self._guarded(name, func),
            "cron",
            hour=hour,
            minute=minute,
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            replace_existing=True,
        )

    def _guarded(self, name: str, func: JobFunc) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            started, error = time.time(), None
            try:
                await func()
            except Exception as exc:
                error = exc
                log.exception("scheduled job %s failed", name)
            for observe in self.observers:
                try:
                    await observe(name, started, time.time(), error)
                except Exception:
                    log.exception("recording the run of job %s failed", name)

        return run

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
