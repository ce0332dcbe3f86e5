"""Report categories as the console and Open311 present them (codes and labels from duties.toml)."""

from __future__ import annotations

from bot import texts
from bot.reports.catalog import categories, category_label


def category_codes() -> list[str]:
    return [category.code for category in categories()]


def category_name(code: str) -> str:
    return category_label(code)


def category_catalog() -> list[tuple[str, str, str]]:
    """(code, label, description) for every category; the description names the responsible unit."""
    rows = []
    for category in categories():
        units = "、".join((category.department, *category.also_notify))
        rows.append(
            (category.code, category.label, texts.CATEGORY_DESCRIPTION.format(label=category.label, units=units))
        )
    return rows
