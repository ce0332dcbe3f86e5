"""Report categories as the console and Open311 present them (codes and labels from ``bot.reports.workflow``)."""

from __future__ import annotations

from bot import texts
from bot.reports.catalog import CATEGORIES, CATEGORY_BY_CODE


def category_codes() -> list[str]:
    return [category.code for category in CATEGORIES]


def category_name(code: str) -> str:
    category = CATEGORY_BY_CODE.get(code)
    return category.label if category else code


def category_catalog() -> list[tuple[str, str, str]]:
    """(code, label, description) for every category; the description names the responsible unit."""
    rows = []
    for category in CATEGORIES:
        units = "、".join((category.department, *category.also_notify))
        rows.append(
            (category.code, category.label, texts.CATEGORY_DESCRIPTION.format(label=category.label, units=units))
        )
    return rows
