"""The 统计 page in headless Chromium: known cases, figures checked against a direct database count,
the filters used through the form, and the download button's XLSX read back with openpyxl.

Screenshots go to /tmp/console-stats-*.png.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from storage.models.reports import Report
from tests.conftest import RunningService
from tests.e2e.test_console_browser import (  # noqa: F401  (fixtures)
    DESKTOP,
    PHONE,
    _login,
    api_service,
    browser,
    chromium_path,
)
from tests.unit.console.helpers import make_staff
from tests.unit.stats.known import seed_known_cases

pytestmark = pytest.mark.browser

# 1-30 November 2026 in Yuncheng, as UTC instants.
NOV_START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
DEC_START = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


async def _bars(page: Any, key: str) -> dict[str, str]:
    return dict(
        await page.eval_on_selector_all(
            f"#chart-{key} g.bar", "bars => bars.map(b => [b.dataset.label, b.dataset.value])"
        )
    )


async def _summary(page: Any) -> dict[str, str]:
    pairs = await page.eval_on_selector_all(
        "#stats-summary tr", "rows => rows.map(r => [r.querySelector('th').innerText, r.querySelector('td').innerText])"
    )
    return dict(pairs)


async def test_statistics_page_matches_the_database(browser: Any, api_service: RunningService) -> None:  # noqa: F811
    services = api_service.services
    base = api_service.url
    await seed_known_cases(services)
    await make_staff(services, "boss", "市生态环境局", admin=True)

    async with services.database.session() as db:
        in_november = (Report.created_at >= NOV_START) & (Report.created_at < DEC_START)
        total = await db.scalar(select(func.count()).select_from(Report).where(in_november))
        by_county = dict(
            (await db.execute(select(Report.county, func.count()).where(in_november).group_by(Report.county))).all()
        )
        xia_total = await db.scalar(
            select(func.count()).select_from(Report).where(in_november, Report.county == "夏县")
        )
        submitted = await db.scalar(
            select(func.count()).select_from(Report).where(in_november, Report.status == "submitted")
        )

    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    page = await context.new_page()
    await _login(page, base, "boss")
    await page.click("nav >> text=统计")
    await page.wait_for_url(f"{base}/console/stats")
    await page.fill("input[name=date_from]", "2026-11-01")
    await page.fill("input[name=date_to]", "2026-11-30")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**/console/stats?*date_from=2026-11-01*")
    await page.wait_for_selector("#chart-month svg")

    figures = await _summary(page)
    assert figures["案件总数"] == str(total) == "4"
    months = await _bars(page, "month")
    assert months == {"2026-11": str(total)}
    counties = await _bars(page, "county")
    for county, count in by_county.items():
        assert counties["待分派" if county is None else county] == str(count)
    assert (await _bars(page, "status"))["待受理"] == str(submitted)
    assert await page.locator("#chart-county svg").is_visible()
    await page.screenshot(path="/tmp/console-stats-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path="/tmp/console-stats-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)

    # The download button gives the same figures.
    async with page.expect_download() as info:
        await page.click("#download-xlsx")
    download = await info.value
    assert download.suggested_filename.endswith(".xlsx")
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    book = load_workbook(io.BytesIO(data))
    summary = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert summary["案件总数"] == total
    assert {k: v for k, v in book["按县（市、区）"].iter_rows(min_row=2, values_only=True)} == {
        k: int(v) for k, v in counties.items()
    }

    # The county filter through the form.
    await page.select_option("select[name=county]", "夏县")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**/console/stats?*county=*")
    assert (await _summary(page))["案件总数"] == str(xia_total) == "2"
    await context.close()
