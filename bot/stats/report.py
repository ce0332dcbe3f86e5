"""The statistics as a spreadsheet: one XLSX sheet per section, or one CSV with a section column.

Both carry exactly the figures of the console page for the same scope and filters; the monthly report
(``python -m bot stats report``) is this file for one calendar month and the whole city.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from bot import texts
from bot.stats.figures import Figures, OnTime


def _share(value: OnTime) -> float | None:
    return None if value.share is None else round(value.share * 100, 1)


def summary_rows(figures: Figures, scope: str) -> list[tuple[str, Any]]:
    f, labels = figures, texts.STATS_SUMMARY_LABELS
    values: dict[str, Any] = {
        "period": f"{f.filters.date_from.isoformat()} — {f.filters.date_to.isoformat()}",
        "scope": scope,
        "total": f.total,
        "median_accept_days": f.median_accept_days,
        "median_resolve_days": f.median_resolve_days,
        "accept_on_time": f.accept.on_time,
        "accept_ended": f.accept.ended,
        "accept_share": _share(f.accept),
        "complete_on_time": f.complete.on_time,
        "complete_ended": f.complete.ended,
        "complete_share": _share(f.complete),
        "overdue_now": f.overdue_now,
        "computed_at": f.computed_at.strftime("%Y-%m-%d %H:%M UTC"),
    }
    return [(labels[key], values[key]) for key in labels]


def sections(figures: Figures, scope: str) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
    """(title, column headers, rows) for each part of the report, in reading order."""
    names, counts = texts.STATS_SECTIONS, texts.STATS_COUNT_COLUMNS
    return [
        (names["summary"], ("指标", "数值"), summary_rows(figures, scope)),
        (names["month"], counts, list(figures.by_month)),
        (names["county"], counts, list(figures.by_county)),
        (names["category"], counts, list(figures.by_category)),
        (names["status"], counts, list(figures.by_status)),
        (
            names["tasks"],
            texts.STATS_TASK_COLUMNS,
            [(t.department, t.done, t.open, t.overdue) for t in figures.tasks],
        ),
        (names["questions"], texts.STATS_QUESTION_COLUMNS, list(figures.questions)),
    ]


def to_xlsx(figures: Figures, scope: str) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for title, headers, rows in sections(figures, scope):
        sheet = workbook.create_sheet(title[:31])
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula
        sheet.column_dimensions["A"].width = 34
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_rows(figures: Figures, scope: str) -> list[list[Any]]:
    """Every section's rows in one table, the section's title first (``texts.STATS_CSV_COLUMNS``)."""
    rows: list[list[Any]] = []
    for title, _headers, section_rows in sections(figures, scope):
        for row in section_rows:
            rows.append([title, *row])
    return rows
