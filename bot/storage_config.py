"""``[storage]``: the database, its pools, admission of pushes and the reply path's commits (kept apart
from bot.config, which is at its size limit)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StorageConfig:
    url: str = "sqlite:///var/bot.db"
    media_dir: str = "var/media"
    echo_sql: bool = False
    # PostgreSQL connection pool: connections kept open, and extra ones opened for peaks (jobs, console).
    pool_size: int = 10
    max_overflow: int = 5
    # WeChat pushes holding a transaction at once (0: pool_size; SQLite always 1); the rest queue in order.
    max_in_flight: int = 0
    # A push still queued this long after it arrived gets a "busy, send again" reply (0: wait indefinitely).
    admission_timeout_seconds: float = 3.5
    # Pushes whose handler needs no database session run their transaction through the driver directly.
    hot_path: bool = True
    # SQLite: such pushes share one commit; while other pushes are still in flight, it waits at most this
    # long for them to join (0: commit once the pushes ready now have run).
    group_commit_ms: float = 5.0

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty: nothing)."""
        found = []
        if self.pool_size < 1:
            found.append("[storage] pool_size: must be at least 1")
        if self.max_overflow < 0 or self.max_in_flight < 0:
            found.append("[storage] max_overflow and max_in_flight: must be 0 or more")
        if not 0 <= self.admission_timeout_seconds < 5:
            found.append("[storage] admission_timeout_seconds: 0 (off) or under WeChat's 5-second window")
        if not 0 <= self.group_commit_ms <= 100:
            found.append("[storage] group_commit_ms: from 0 to 100 (every reply waits for its commit)")
        return found
