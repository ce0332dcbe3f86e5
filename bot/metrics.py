"""Prometheus metrics (prometheus-client), safe with several ``serve`` processes.

With ``PROMETHEUS_MULTIPROC_DIR`` set in the environment before the process starts, every process writes
its counters and histograms to files in that folder and ``/metrics`` on any of them adds all processes up
(the folder must be emptied before the first process starts: the compose file and the systemd unit do
it). Without it, ``/metrics`` shows this process alone. Figures that live in the database (outbox rows,
the oldest pending row, calendar coverage) are read at scrape time, so every process reports the same.

``/metrics`` answers a request carrying ``Authorization: Bearer <[metrics] token>``, or, with no token
configured, only requests from the loopback address.
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event

SLOW_PUSH_SECONDS = 4.5
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_ERRCODE = re.compile(r"errcode (-?\d+)")

CALLBACK_SECONDS = Histogram(
    "ycbot_callback_seconds",
    "Time to answer a WeChat push, by outcome (answered, busy, rejected_403, rejected_400, rejected_413).",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 4.5, 5.0, 10.0),
)
SLOW_PUSHES = Counter("ycbot_callback_slow", f"Pushes answered after more than {SLOW_PUSH_SECONDS} s.")
BUSY_REPLIES = Counter("ycbot_busy_replies", "Pushes answered with the busy reply (no transaction slot in time).")
KNOWLEDGE_ANSWERS = Counter("ycbot_knowledge_answers", "Knowledge-base replies by kind.", ["kind"])
DELIVERIES = Counter(
    "ycbot_deliveries",
    "Outbound send attempts by channel (mp, wecom), source (outbox, reminder), result and WeChat errcode.",
    ["channel", "source", "result", "errcode"],
)
REMINDERS = Counter("ycbot_reminders", "Reminder deliveries by step (planned, sent, dead).", ["step"])
PHOTO_DOWNLOADS = Counter("ycbot_photo_downloads", "Report photo downloads by result.", ["result"])
DB_POOL_IN_USE = Gauge(
    "ycbot_db_pool_connections_in_use", "Database connections checked out of the pools.", multiprocess_mode="livesum"
)
DB_POOL_CAPACITY = Gauge(
    "ycbot_db_pool_capacity", "Connections the pools may open (pool size + overflow).", multiprocess_mode="livesum"
)

_busy: contextvars.ContextVar[bool] = contextvars.ContextVar("ycbot_busy", default=False)


def busy_reply() -> None:
    """Called by the pipeline when it answers with the busy reply."""
    BUSY_REPLIES.inc()
    _busy.set(True)


_CHILDREN: dict[tuple[Any, str], Any] = {}  # (metric, label) → its labelled child: ``labels`` locks and builds


def _child(metric: Any, label: str) -> Any:
    """``metric``'s child for its one label value ``label``, looked up once."""
    key = (metric, label)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(label)
    return child


def knowledge_answered(kind: str) -> None:
    _child(KNOWLEDGE_ANSWERS, kind).inc()


def push_answered(seconds: float, status: int, busy: bool) -> None:
    outcome = "busy" if busy else "answered" if status < 400 else f"rejected_{status}"
    _child(CALLBACK_SECONDS, outcome).observe(seconds)
    if seconds > SLOW_PUSH_SECONDS:
        SLOW_PUSHES.inc()


def was_busy() -> bool:
    return _busy.get()


def reset_busy() -> None:
    _busy.set(False)


def delivery(channel: str, source: str, result: str, error: str = "", errcode: int | None = None) -> None:
    """One send attempt; the errcode label is ``errcode`` or the "errcode N" in ``error`` ("" when none)."""
    if errcode is None and (match := _ERRCODE.search(error or "")):
        errcode = int(match.group(1))
    DELIVERIES.labels(
        channel=channel, source=source, result=result, errcode="" if errcode is None else str(errcode)
    ).inc()


def reminder_pass(planned: int, sent: int, dead: int) -> None:
    for step, n in (("planned", planned), ("sent", sent), ("dead", dead)):
        if n:
            REMINDERS.labels(step=step).inc(n)


def photo_run(run: object) -> None:
    """Counts of one photo-download pass (a MediaRun: stored, retried, failed, expired, rejected)."""
    for result in ("stored", "retried", "failed", "expired", "rejected"):
        if n := getattr(run, result, 0):
            PHOTO_DOWNLOADS.labels(result=result).inc(n)


def instrument_pool(engine: object, capacity: int) -> None:
    """Count connections in use from the pool's checkout/checkin events (an async engine's sync_engine)."""
    DB_POOL_CAPACITY.inc(capacity)
    event.listen(engine, "checkout", lambda *_: DB_POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: DB_POOL_IN_USE.dec())


class DatabaseFigures(Collector):
    """Series read from the database at scrape time (the same on every process)."""

    def __init__(
        self, outbox: dict[tuple[str, str], int], oldest_pending_seconds: float, covered_until: str | None
    ) -> None:
        self.outbox = outbox
        self.oldest = oldest_pending_seconds
        self.covered_until = covered_until

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rows = GaugeMetricFamily("ycbot_outbox_rows", "Outbox rows by state and purpose.", labels=["state", "purpose"])
        for (state, purpose), n in sorted(self.outbox.items()):
            rows.add_metric([state, purpose], n)
        yield rows
        yield GaugeMetricFamily(
            "ycbot_outbox_oldest_pending_seconds", "Age of the oldest pending outbox row.", value=self.oldest
        )
        until = GaugeMetricFamily(
            "ycbot_calendar_covered_until",
            "End of the working-day data (Unix time of 23:59:59 Asia/Shanghai; 0 when today is not covered).",
            labels=["calendar_covered_until"],
        )
        when = 0.0
        if self.covered_until:
            day = datetime.fromisoformat(self.covered_until).replace(hour=15, minute=59, second=59, tzinfo=UTC)
            when = day.timestamp()
        until.add_metric([self.covered_until or "none"], when)
        yield until


def render(figures: DatabaseFigures) -> tuple[bytes, str]:
    """The exposition text: every process's series (multiprocess mode) or this process's, plus ``figures``."""
    from prometheus_client import REGISTRY

    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(figures)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    registry.register(figures)
    return generate_latest(REGISTRY) + generate_latest(registry), CONTENT_TYPE_LATEST


def mark_process_dead() -> None:
    """Drop this process's live gauges from the multiprocess files (called when the app stops)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


def allowed(authorization: str, remote: str | None, token: str) -> bool:
    """The bearer token when one is configured; otherwise loopback callers only."""
    if token:
        scheme, _, given = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False
