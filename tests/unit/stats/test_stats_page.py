"""The 统计 page, its downloads and the monthly report: figures, filters, scoping, bad input."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.config import load_config
from bot.outbound.channels.factory import build_services
from bot.reports import catalog
from bot.stats.svg import bar_chart, column_chart
from storage.migrate import ensure_schema
from tests.conftest import PROJECT_ROOT, RunningService
from tests.unit.console.helpers import make_staff, seed_tasks
from tests.unit.stats.known import seed_known_cases

EXAMPLE = PROJECT_ROOT / "config.example.toml"
BAR = re.compile(r'<g class="bar" data-label="([^"]*)" data-value="([^"]*)">')
NOVEMBER = "?date_from=2026-11-01&date_to=2026-11-30"


def chart(html: str, key: str) -> dict[str, str]:
    """The bars of one chart on the page: label → value."""
    section = html.split(f'id="chart-{key}"', 1)[1].split("</section>", 1)[0]
    return dict(BAR.findall(section))


def summary(html: str) -> dict[str, str]:
    table = html.split('id="stats-summary"', 1)[1].split("</table>", 1)[0]
    return dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>", table))


async def test_admin_sees_the_city_figures_for_november(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await seed_known_cases(services)
    await seed_tasks(services)
    await make_staff(services, "boss", "市生态环境局", admin=True)
    client = await client_factory()
    await client.login("boss")
    status, html, _ = await client.get("/console/stats" + NOVEMBER)
    assert status == 200
    assert chart(html, "month") == {"2026-11": "4"}
    county = chart(html, "county")
    assert county["盐湖区"] == "1" and county["夏县"] == "2" and county["待分派"] == "1" and county["永济市"] == "0"
    assert chart(html, "status")["待受理"] == "1" and chart(html, "status")["已办结"] == "1"
    figures = summary(html)
    assert figures["案件总数"] == "4"
    assert figures["受理决定用时中位数（天）"] == "1.0"
    assert figures["办结用时中位数（天，自受理起）"] == "7.0"
    assert figures["按时作出受理决定"] == "3" and figures["受理时限已届满或已决定"] == "4"
    assert figures["按时受理率"] == "75.0%"
    assert figures["当前超期案件"] == "1"
    assert "<script" not in html  # charts are drawn on the server
    # Tasks per department (done, open, overdue): T01 and last year's T03 overdue, T02 open.
    assert chart(html, "tasks") == {
        "市生态环境局": "0,1,1",
        "市工信局": "0,0,1",
        "市农业农村局": "0,1,0",
        "市卫健委": "0,0,1",
    }


async def test_default_period_is_the_last_twelve_months(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await seed_known_cases(services)
    await make_staff(services, "boss", "市生态环境局", admin=True)
    client = await client_factory()
    await client.login("boss")
    _status, html, _ = await client.get("/console/stats")
    months = chart(html, "month")
    labels = list(months)
    assert labels[0] == "2025-12" and labels[-1] == "2026-11" and len(labels) == 12
    assert months["2026-09"] == "1" and months["2026-10"] == "1" and months["2026-11"] == "4"
    assert summary(html)["当前超期案件"] == "2"  # B and F never decided


async def test_county_and_department_filters(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await seed_known_cases(services)
    await make_staff(services, "boss", "市生态环境局", admin=True)
    client = await client_factory()
    await client.login("boss")
    _status, html, _ = await client.get("/console/stats" + NOVEMBER + "&county=夏县")
    assert summary(html)["案件总数"] == "2"
    _status, html, _ = await client.get("/console/stats" + NOVEMBER + "&department=市农业农村局")
    assert summary(html)["案件总数"] == "1"
    categories = chart(html, "category")
    assert categories[catalog.category_label("pesticide")] == "1"
    assert categories[catalog.category_label("discharge")] == "0"


async def test_a_department_sees_only_its_cases_and_tasks(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await seed_known_cases(services)
    await seed_tasks(services)
    await make_staff(services, "agri", "市农业农村局")
    await make_staff(services, "xia", "夏县政府")
    client = await client_factory()
    await client.login("agri")
    _status, html, _ = await client.get("/console/stats" + NOVEMBER)
    assert summary(html)["案件总数"] == "1"  # E only
    assert summary(html)["范围"] == "市农业农村局"
    assert chart(html, "tasks") == {"市农业农村局": "0,1,0"}
    # Asking for another department's figures shows nothing of theirs.
    _status, html, _ = await client.get("/console/stats" + NOVEMBER + "&department=市生态环境局")
    assert summary(html)["案件总数"] == "0"
    assert chart(html, "tasks") == {}
    county = await client_factory()
    await county.login("xia")
    _status, html, _ = await county.get("/console/stats" + NOVEMBER)
    assert summary(html)["案件总数"] == "2"  # B and E are in 夏县, whichever department handles them
    status, body, response = await county.get("/console/stats/export.csv" + NOVEMBER)
    assert status == 200 and response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert ["汇总", "案件总数", "2"] in [row[:3] for row in rows]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?date_from=2026-13-01", "日期须为"),
        ("?date_from=2026-11-10&date_to=2026-11-01", "起始日期晚于截止日期"),
        ("?county=火星", "火星"),
        ("?department=不存在局", "不存在局"),
        ("?date_from=2000-01-01&date_to=2026-11-01", "不能超过"),
    ],
)
async def test_bad_filters_get_a_clear_page(
    console_service: RunningService, client_factory, query: str, message: str
) -> None:
    await make_staff(console_service.services, "eco", "市生态环境局")
    client = await client_factory()
    await client.login("eco")
    status, html, _ = await client.get("/console/stats" + query)
    assert status == 400 and message in html


async def test_stats_need_a_login(console_service: RunningService, client_factory) -> None:
    client = await client_factory()
    status, _html, response = await client.get("/console/stats")
    assert status == 303 and "/console/login" in response.headers["Location"]
    status, _html, _ = await client.get("/console/stats/export.xlsx")
    assert status == 303
    await make_staff(console_service.services, "eco", "市生态环境局")
    await client.login("eco")
    status, _html, _ = await client.get("/console/stats/export.pdf")
    assert status == 404


async def test_download_button_gives_the_page_figures_as_xlsx(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    await seed_known_cases(services)
    await make_staff(services, "boss", "市生态环境局", admin=True)
    client = await client_factory()
    await client.login("boss")
    _status, html, _ = await client.get("/console/stats" + NOVEMBER)
    link = re.search(r'id="download-xlsx" href="([^"]+)"', html)
    assert link is not None
    status, _text, response = await client.get(link.group(1).replace("&amp;", "&"))
    assert status == 200
    book = load_workbook(io.BytesIO(response.body_bytes))  # type: ignore[attr-defined]
    rows = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    page = summary(html)
    assert str(rows["案件总数"]) == page["案件总数"] == "4"
    assert float(rows["按时受理率"]) == float(page["按时受理率"].rstrip("%")) == 75.0
    counties = {label: str(value) for label, value in book["按县（市、区）"].iter_rows(min_row=2, values_only=True)}
    assert counties == chart(html, "county")


def test_svg_charts_escape_labels_and_scale() -> None:
    svg = bar_chart("类别", [("<script>", 3), ("b", 0)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'data-value="3"' in svg and "style=" not in svg
    empty = column_chart("空", [])
    assert empty.startswith("<svg") and empty.endswith("</svg>")


def _cli_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock) -> None:  # type: ignore[no-untyped-def]
    """The CLI's services use the test clock (the figures depend on the moment they are computed)."""
    import bot.cli.common

    monkeypatch.setenv("YCBOT_STORAGE_URL", f"sqlite:///{tmp_path}/stats.db")
    monkeypatch.setenv("YCBOT_STORAGE_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("YCBOT_CHANNEL_KIND", "sandbox")
    monkeypatch.setenv("YCBOT_REMINDERS_SEED_FILE", "")
    original = bot.cli.common.build_services
    monkeypatch.setattr(
        bot.cli.common, "build_services", lambda config: dataclasses.replace(original(config), clock=clock)
    )


async def _report(out: Path) -> int:
    argv = ["--config", str(EXAMPLE), "stats", "report", "--month", "2026-11", "--out", str(out)]
    return await asyncio.to_thread(main, argv)


async def test_monthly_report_cli_reads_back_to_the_same_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_services(tmp_path, monkeypatch, clock)
    services = build_services(load_config(EXAMPLE))
    services = dataclasses.replace(services, clock=clock)
    await ensure_schema(services.database)
    await seed_known_cases(services)
    await services.database.dispose()

    out = tmp_path / "report.xlsx"
    assert await _report(out) == 0, capsys.readouterr().err
    book = load_workbook(out)
    summary_rows = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert summary_rows["案件总数"] == 4
    assert summary_rows["受理决定用时中位数（天）"] == 1.0
    assert summary_rows["办结用时中位数（天，自受理起）"] == 7.0
    assert summary_rows["按时受理率"] == 75.0 and summary_rows["当前超期案件"] == 1
    assert summary_rows["统计时间"] == "2026-11-20 02:00 UTC"  # the test clock, not the wall clock
    months = list(book["按月案件数"].iter_rows(min_row=2, values_only=True))
    assert months == [("2026-11", 4)]
    counties = dict(book["按县（市、区）"].iter_rows(min_row=2, values_only=True))
    assert counties["夏县"] == 2 and counties["待分派"] == 1

    csv_out = tmp_path / "report.csv"
    assert await _report(csv_out) == 0
    rows = list(csv.reader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    assert ["按月案件数", "2026-11", "4"] in [row[:3] for row in rows]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--month", "2026-13", "--out", "x.xlsx"], "YYYY-MM"),
        (["--month", "November", "--out", "x.xlsx"], "YYYY-MM"),
        (["--month", "2026-11", "--out", "x.pdf"], ".xlsx or .csv"),
        (["--month", "2026-11", "--out", "/no/such/dir/x.xlsx"], "no such directory"),
    ],
)
def test_monthly_report_cli_refuses_bad_input(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", str(EXAMPLE), "stats", "report", *argv])
    assert code == 2
    assert message in capsys.readouterr().err


async def test_questions_asked_and_refused_per_week(console_service: RunningService, client_factory) -> None:
    from storage.models.questions import QuestionLog
    from tests.unit.stats.known import at

    services = console_service.services
    asked = [(at(11, 10), "answer"), (at(11, 11), "refusal"), (at(11, 15), "partial"), (at(11, 16), "refusal"),
             (at(11, 17), "refusal"), (at(10, 1), "refusal")]  # fmt: skip
    async with services.database.session() as db:
        for when, kind in asked:
            db.add(QuestionLog(asked_at=when, user_hash="h" * 64, text="问题", kind=kind, score=0.1))
        await db.commit()
    await make_staff(services, "agri", "市农业农村局")
    client = await client_factory()
    await client.login("agri")
    _status, html, _ = await client.get("/console/stats" + NOVEMBER)
    weeks = chart(html, "questions")
    # 9-15 Nov 2026 is ISO week 46; Monday 16 Nov starts week 47. Bars: answered, refused.
    assert weeks["2026-W46"] == "2,1" and weeks["2026-W47"] == "0,2" and weeks["2026-W45"] == "0,0"
    _status, _body, response = await client.get("/console/stats/export.xlsx" + NOVEMBER)
    book = load_workbook(io.BytesIO(response.body_bytes))  # type: ignore[attr-defined]
    rows = {
        week: (n, refused) for week, n, refused in book["每周提问与未能回答"].iter_rows(min_row=2, values_only=True)
    }
    assert rows["2026-W46"] == (3, 1) and rows["2026-W47"] == (2, 2)
