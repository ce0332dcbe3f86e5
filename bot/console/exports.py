"""CSV and XLSX exports of reports and tasks, with the page's filters and the account's visibility.

The report columns are fixed (``texts.REPORT_COLUMNS``) and never include the reporter. CSV is UTF-8 with
a byte-order mark so that Excel opens the Chinese text correctly. A cell that starts like a formula
(= + - @) is written as text: a CSV cell gets a leading apostrophe, an XLSX cell is typed as a string.
"""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot import texts
from bot.config import LOCAL_TZ
from bot.console.catalog import category_codes, category_name
from bot.console.common import client_ip, console_of, fail, require_staff
from bot.console.queries import FilterError, all_matching, count_reports, parse_filters
from bot.console.tasks import load_task_rows
from storage.models.reports import Report
from storage.staff import record_audit

FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MIN_WIDTH = 8  # spreadsheet columns, about one Latin character each
MAX_WIDTH = 60
WRAP = {"wrap_text": True, "vertical": "top"}  # the cell alignment of long or multi-line text


def _plain(value: Any) -> Any:
    """A value as it goes into a cell: local naive datetimes (spreadsheets have no time zones)."""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return value


def report_row(report: Report) -> list[Any]:
    values = {
        "case_no": report.case_no,
        "status": texts.STATUS_LABELS.get(report.status, report.status),
        "category": category_name(report.category),
        "description": report.description,
        "reported_object": report.reported_object,
        "address": report.address,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "county": report.county or "",
        "department": report.department,
        "duplicate_of": report.duplicate_of or "",
        "public_reply": report.public_reply,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }
    return [_plain(values[key]) for key, _label in texts.REPORT_COLUMNS]


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def display_width(value: Any) -> int:
    """Columns a value takes in a spreadsheet: its longest line, a CJK character counting as two."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("yyyy-mm-dd hh:mm")
    if isinstance(value, date):
        return len("yyyy-mm-dd")
    return max(
        (sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in str(value).splitlines()),
        default=0,
    )


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Each column as wide as its widest cell (header included), between ``MIN_WIDTH`` and ``MAX_WIDTH``."""
    widths = [display_width(header) for header in headers]
    for row in rows:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], display_width(value))
    return [min(MAX_WIDTH, max(MIN_WIDTH, width + 2)) for width in widths]


def to_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet: bold frozen header, columns sized to their content, long or multi-line text wrapped."""
    # openpyxl (and the numpy it pulls in) loads on the first export rather than at every start-up
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    rows = list(rows)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    widths = column_widths(headers, rows)
    for index, width in enumerate(widths):
        sheet.column_dimensions[_column_letter(index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append(
            [_xlsx_cell(sheet, value, widths[i] if i < len(widths) else MAX_WIDTH) for i, value in enumerate(row)]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet: Any, value: Any, width: int) -> Any:
    from openpyxl.cell import WriteOnlyCell  # loaded already by to_xlsx
    from openpyxl.styles import Alignment  # loaded already by to_xlsx

    if isinstance(value, str):
        value = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)  # XML forbids control chars
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # never a formula, whatever the text starts with
        if "\n" in value or display_width(value) > width - 2:
            cell.alignment = Alignment(**WRAP)
        return cell
    if isinstance(value, datetime | date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
        return cell
    return value


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def attachment(fmt: str, stem: str, body: bytes) -> web.Response:
    filename = f"{stem}.{fmt}"
    return web.Response(
        body=body,
        content_type=FORMATS[fmt],
        charset="utf-8" if fmt == "csv" else None,
        headers={
            "Content-Disposition": f'attachment; filename="{filename.encode("ascii", "ignore").decode()}"; '
            f"filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
        },
    )


def export_format(request: web.Request) -> str:
    fmt = request.match_info["fmt"]
    if fmt not in FORMATS:
        raise fail(404)
    return fmt


async def build_file(fmt: str, title: str, headers: Sequence[str], rows: list[list[Any]]) -> bytes:
    if fmt == "csv":
        return to_csv(headers, rows)
    return await asyncio.to_thread(to_xlsx, title, headers, rows)


async def export_reports(request: web.Request) -> web.Response:
    staff = require_staff(request)
    fmt = export_format(request)
    try:
        filters = parse_filters(request.query, category_codes())
    except FilterError as exc:
        raise fail(400, texts.BAD_FILTER.format(what=exc)) from None
    console = console_of(request)
    limit = console.config.export_max_rows
    now = console.services.now()
    async with console.services.database.session() as db:
        total = await count_reports(db, staff, filters)
        if total > limit:
            raise fail(400, texts.EXPORT_TOO_MANY.format(total=total, limit=limit))
        reports = await all_matching(db, staff, filters, limit=limit)
        rows = [report_row(report) for report in reports]
        await record_audit(
            db,
            actor=staff.username,
            action="export_reports",
            ip=client_ip(request),
            now=now,
            detail={"format": fmt, "rows": len(rows), "filters": dict(filters.query_pairs())},
        )
        await db.commit()
    headers = [label for _key, label in texts.REPORT_COLUMNS]
    body = await build_file(fmt, texts.SHEET_REPORTS, headers, rows)
    stamp = now.astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return attachment(fmt, f"reports-{stamp}", body)


async def export_tasks(request: web.Request) -> web.Response:
    staff = require_staff(request)
    fmt = export_format(request)
    console = console_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        rows = [[_plain(value) for value in row] for row in await load_task_rows(db, staff, request.query, now=now)]
        await record_audit(
            db,
            actor=staff.username,
            action="export_tasks",
            ip=client_ip(request),
            now=now,
            detail={"format": fmt, "rows": len(rows)},
        )
        await db.commit()
    headers = [label for _key, label in texts.TASK_COLUMNS]
    body = await build_file(fmt, texts.SHEET_TASKS, headers, rows)
    stamp = now.astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return attachment(fmt, f"tasks-{stamp}", body)
