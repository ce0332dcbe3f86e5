"""Recording and reading when the scheduled jobs last ran (the ``job_ticks`` table)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from storage.db import Database
from storage.models.ops import JobTick

# A job that runs every second would otherwise write a row every second; the status command needs minutes.
TICK_RECORD_SECONDS = 30.0


class TickRecorder:
    """A scheduler observer that upserts ``job_ticks``: after a failure at once, otherwise at most every
    TICK_RECORD_SECONDS per job and process."""

    def __init__(self, database: Database, every: float = TICK_RECORD_SECONDS) -> None:
        self.database = database
        self.every = every
        self._written: dict[str, float] = {}
        self._runs: dict[str, int] = {}

    async def __call__(self, name: str, started: float, finished: float, error: BaseException | None) -> None:
        self._runs[name] = self._runs.get(name, 0) + 1
        if error is None and finished - self._written.get(name, float("-inf")) < self.every:
            return
        self._written[name] = finished
        runs, self._runs[name] = self._runs[name], 0
        await record(self.database, name, started, finished, error, runs)


async def record(
    database: Database, name: str, started: float, finished: float, error: BaseException | None, runs: int = 1
) -> None:
    start, end = datetime.fromtimestamp(started, UTC), datetime.fromtimestamp(finished, UTC)
    values: dict[str, object] = {"name": name, "last_started_at": start, "last_finished_at": end, "runs": runs}
    update: dict[str, object] = {"last_started_at": start, "last_finished_at": end, "runs": JobTick.runs + runs}
    if error is not None:
        message = f"{type(error).__name__}: {error}"[:500]
        values |= {"last_error": message, "last_failed_at": end}
        update |= {"last_error": message, "last_failed_at": end}
    else:
        values["last_error"] = ""
    insert = postgresql.insert if not database.is_sqlite else sqlite.insert
    async with database.session() as session:
        stmt = insert(JobTick).values(**values)
        await session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=update))
        await session.commit()


async def last_ticks(database: Database) -> list[JobTick]:
    async with database.session() as session:
        return list((await session.scalars(select(JobTick).order_by(JobTick.name))).all())
