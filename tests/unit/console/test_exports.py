"""CSV and XLSX exports: filters applied, department visibility, no reporter identity, formula-safe cells."""

from __future__ import annotations

import csv
import io

import openpyxl
from sqlalchemy import select

from bot import texts
from bot.console.exports import to_csv, to_xlsx
from storage.models.console import AuditEntry
from tests.conftest import RunningService
from tests.unit.console.helpers import make_staff, seed_report, seed_tasks

REPORT_HEADERS = [label for _key, label in texts.REPORT_COLUMNS]


async def _seed(service: RunningService) -> dict[str, str]:
    services = service.services
    await make_staff(services, "eco", "市生态环境局")
    await make_staff(services, "boss", "市生态环境局", admin=True)
    return {
        "eco_a": await seed_report(services, real_name=True, name="李四", phone="13900001111", openid="o-secret-1"),
        "eco_b": await seed_report(
            services, description='=HYPERLINK("http://x")偷排', latitude=35.3, longitude=111.2, county="夏县"
        ),
        "agri": await seed_report(services, category="pesticide", latitude=35.6, longitude=110.9, county="稷山县"),
    }


async def test_csv_export_with_filters_and_visibility(console_service: RunningService, client_factory) -> None:
    cases = await _seed(console_service)
    client = await client_factory()
    await client.login("eco")
    status, _text, response = await client.get("/console/reports/export.csv")
    assert status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.body_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == REPORT_HEADERS
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {cases["eco_a"], cases["eco_b"]}  # the agriculture case is not ours
    text = raw.decode("utf-8-sig")
    for secret in ("李四", "13900001111", "o-secret-1", "1390000"):
        assert secret not in text
    injected = next(row for row in rows if row[0] == cases["eco_b"])
    assert injected[REPORT_HEADERS.index("举报内容")].startswith("'=")

    status, _text, response = await client.get("/console/reports/export.csv?county=%E5%A4%8F%E5%8E%BF")
    rows = list(csv.reader(io.StringIO(response.body_bytes.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [cases["eco_b"]]


async def test_xlsx_export_opens_with_openpyxl(console_service: RunningService, client_factory) -> None:
    cases = await _seed(console_service)
    client = await client_factory()
    await client.login("boss")
    status, _text, response = await client.get("/console/reports/export.xlsx?category=pesticide")
    assert status == 200
    assert response.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(response.body_bytes))
    sheet = workbook.active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == REPORT_HEADERS
    assert [row[0] for row in values[1:]] == [cases["agri"]]
    assert values[1][REPORT_HEADERS.index("责任部门")] == "市农业农村局"

    status, _text, response = await client.get("/console/reports/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.body_bytes)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert {row[0] for row in rows[1:]} == set(cases.values())
    formula_cell = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == cases["eco_b"])[3]
    assert formula_cell.data_type == "s" and formula_cell.value.startswith("=HYPERLINK")
    flat = " ".join(str(v) for row in rows for v in row if v is not None)
    assert "李四" not in flat and "13900001111" not in flat
    async with console_service.services.database.session() as db:
        exports = (await db.scalars(select(AuditEntry).where(AuditEntry.action == "export_reports"))).all()
    assert [(e.actor, e.detail["rows"]) for e in exports] == [("boss", 1), ("boss", 3)]


async def test_export_errors(console_service: RunningService, client_factory) -> None:
    await _seed(console_service)
    client = await client_factory()
    await client.login("eco")
    assert (await client.get("/console/reports/export.pdf"))[0] == 404
    status, text, _ = await client.get("/console/reports/export.csv?status=nope")
    assert status == 400
    console_service.config.console.export_max_rows = 1
    status, text, _ = await client.get("/console/reports/export.xlsx")
    assert status == 400 and "超过单次导出上限" in text


async def test_task_export(console_service: RunningService, client_factory) -> None:
    await seed_tasks(console_service.services)
    await make_staff(console_service.services, "eco", "市生态环境局")
    client = await client_factory()
    await client.login("eco")
    status, _text, response = await client.get("/console/tasks/export.xlsx")
    assert status == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.body_bytes)).active.iter_rows(values_only=True))
    assert list(rows[0]) == [label for _key, label in texts.TASK_COLUMNS]
    assert [(row[0], row[6]) for row in rows[1:]] == [("T01", "市生态环境局（牵头）"), ("T02", "市生态环境局（配合）")]
    status, _text, response = await client.get("/console/tasks/export.csv?status=overdue")
    rows = list(csv.reader(io.StringIO(response.body_bytes.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["T01"]
    assert rows[1][rows[0].index("状态")] == "已逾期"
    status, _text, _ = await client.get("/console/tasks/export.csv?status=bogus")
    assert status == 400


def test_builders_round_trip() -> None:
    rows = [["YC1", "第一行\n第二行", 1.5, None], ["YC2", "-1+1", 2, "@cmd"]]
    text = to_csv(["编号", "内容", "数", "空"], rows).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1] == ["YC1", "第一行\n第二行", "1.5", ""]
    assert parsed[2][1] == "'-1+1" and parsed[2][3] == "'@cmd"
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx("表", ["编号", "内容", "数", "空"], rows))).active
    assert [c.value for c in sheet[3]] == ["YC2", "-1+1", 2, "@cmd"]


def test_xlsx_columns_fit_their_content_and_long_text_wraps() -> None:
    from datetime import datetime

    long_text = "河边有人乱扔农药瓶子，" * 12  # 132 CJK characters, far wider than a column may be
    rows = [
        ["YC20261204-0001", long_text, datetime(2026, 12, 4, 9, 30), "a\nlonger second line"],
        ["YC20261204-0002", "短", datetime(2026, 12, 4, 10, 0), "x"],
    ]
    headers = ["案件编号", "举报内容", "提交时间", "备注"]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx("表", headers, rows))).active
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCD"}
    assert widths["A"] == len("YC20261204-0001") + 2  # the case number fits, no more
    assert widths["B"] == 60  # capped …
    assert sheet["B2"].alignment.wrap_text and sheet["B2"].value == long_text  # … and the text wraps, whole
    assert not sheet["B3"].alignment.wrap_text  # "短" fits
    assert widths["C"] == len("yyyy-mm-dd hh:mm") + 2
    assert widths["D"] == len("longer second line") + 2  # the longest line of a multi-line cell
    assert sheet["D2"].alignment.wrap_text
    assert not sheet["A1"].alignment.wrap_text and sheet["A1"].font.bold
