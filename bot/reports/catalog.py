"""What a report can be: the categories (with their department, from duties.toml), the states and their moves."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import texts
from bot.config import LOCAL_TZ
from knowledge.duties import Category, duties

if TYPE_CHECKING:
    from bot.services import Services


def categories() -> tuple[Category, ...]:
    """The report categories, in the order the wizard lists them (knowledge/data/duties.toml)."""
    return duties().categories


def find_category(code: str) -> Category | None:
    return duties().category(code)


STATUSES: tuple[str, ...] = (
    "submitted",
    "accepted",
    "rejected",
    "duplicate",
    "investigating",
    "resolved",
    "closed",
)


OPEN_STATUSES: frozenset[str] = frozenset({"submitted", "accepted", "investigating"})


TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"accepted", "rejected", "duplicate"}),
    "accepted": frozenset({"investigating"}),
    "duplicate": frozenset({"accepted", "closed"}),
    "investigating": frozenset({"resolved"}),
    "resolved": frozenset({"closed", "investigating"}),
    "rejected": frozenset({"closed"}),
    "closed": frozenset(),
}


def local_zone(services: Services | None) -> ZoneInfo:
    return ZoneInfo(services.config.reminders.timezone) if services is not None else LOCAL_TZ


def category_label(code: str) -> str:
    cat = find_category(code)
    return cat.label if cat else code


def status_label(status: str) -> str:
    return texts.REPORT_STATUS_LABELS.get(status, status)
