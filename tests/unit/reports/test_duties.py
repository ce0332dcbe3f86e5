"""The division of duties is data: a new category for a new department is one edit to duties.toml."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from shutil import copytree

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.reports import geo
from knowledge.checks import check_duties
from knowledge.duties import DEFAULT_PATH, DUTIES_FILE, Duties, DutiesError, duties, load_duties, use_duties
from storage import report_queries
from storage.contacts import add_wecom_contact, resolve_department
from storage.models import OutboxMessage
from tests.conftest import RunningService, make_config, start_service, stop_service
from tests.support.clock import FakeClock
from tests.unit.console.helpers import ConsoleClient, make_staff

NEW_UNIT = "市教育局"
NEW_LABEL = "校园及周边违规使用有毒有害化学品"
NEW_CATEGORY = f"""
[[category]]
code = "school"
label = "{NEW_LABEL}"
department = "{NEW_UNIT}"
keywords = ["校园", "学校"]
"""


def edited(text: str, *, unit: str = NEW_UNIT, department: str = NEW_UNIT) -> str:
    """The shipped duties.toml with one more city unit and one more category routed to ``department``."""
    listed = '    "运城银保监分局",\n]'
    assert listed in text
    return text.replace(listed, f'    "运城银保监分局",\n    "{unit}",\n]') + NEW_CATEGORY.replace(
        f'department = "{NEW_UNIT}"', f'department = "{department}"'
    )


@pytest.fixture
def school_duties(tmp_path: Path) -> Iterator[Duties]:
    path = tmp_path / DUTIES_FILE
    path.write_text(edited(DEFAULT_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    use_duties(load_duties(path))
    yield duties()
    use_duties(None)


@pytest.fixture
async def running(
    school_duties: Duties, tmp_path: Path, sqlite_url: str, clock: FakeClock
) -> AsyncIterator[RunningService]:
    config = make_config(tmp_path, sqlite_url, YCBOT_CONSOLE_SECRET_KEY="test-console-key")
    service = await start_service(config, object(), clock)
    yield service
    await stop_service(service)


async def test_a_category_for_a_new_department_is_one_edit(running: RunningService) -> None:
    services = running.services
    # Start-up seeded the new unit: officials and staff can be attached to it.
    async with services.database.session() as session:
        education = await resolve_department(session, NEW_UNIT)
        await add_wecom_contact(session, education, "edu-duty", name="值班", now=services.now())
        await session.commit()
    await make_staff(services, "edu", NEW_UNIT)
    await make_staff(services, "eco", "市生态环境局")

    wx = running.wx
    offer = (await wx.send_text("reporter", "举报")).content
    assert f"8. {NEW_LABEL}" in offer
    guess = (await wx.send_text("reporter", "学校")).content  # recognised by its keyword, to be confirmed
    assert NEW_LABEL in guess and "对吗" in guess
    assert "第2步" in (await wx.send_text("reporter", "是")).content
    assert "第3步" in (await wx.send_text("reporter", "学校操场旁边的仓库里堆放着大量没有标签的化学品桶")).content
    assert "第4步" in (await wx.send_text("reporter", "盐湖区解放南路88号实验小学东侧")).content
    assert "第5步" in (await wx.send_text("reporter", "完成")).content
    summary = (await wx.send_text("reporter", "匿名")).content
    assert NEW_LABEL in summary
    confirm = (await wx.send_text("reporter", "确认")).content
    case_no = report_queries.normalize_case_no(confirm.split("案件编号：")[1].split()[0])

    async with services.database.session() as session:
        report = await report_queries.get_report(session, case_no)
        assert (report.category, report.department, report.county) == ("school", NEW_UNIT, "盐湖区")
        notices = (await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "notice"))).all()
    assert "edu-duty" in {n.recipient for n in notices}

    edu, eco = ConsoleClient(running.url), ConsoleClient(running.url)
    try:
        assert await edu.login("edu") == 303 and await eco.login("eco") == 303
        _, listing, _ = await edu.get("/console/reports")
        assert case_no in listing and NEW_LABEL in listing
        status, _, _ = await edu.get(f"/console/reports/{case_no}")
        assert status == 200
        _, listing, _ = await edu.get("/console/reports?category=school")
        assert case_no in listing
        _, listing, _ = await eco.get("/console/reports")
        assert case_no not in listing
        status, _, _ = await eco.get(f"/console/reports/{case_no}")
        assert status == 404
    finally:
        await edu.close()
        await eco.close()


def test_a_misspelt_department_fails_kb_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    copytree(DEFAULT_PATH.parent, data)
    (data / DUTIES_FILE).write_text(
        edited(DEFAULT_PATH.read_text(encoding="utf-8"), department="市教育厅"), encoding="utf-8"
    )
    problems = [str(p) for p in check_duties(data)]
    assert len(problems) == 1
    assert problems[0].startswith("duties.toml: category #8 (school): department '市教育厅' is not a listed unit")
    assert "(did you mean '市教育局'?)" in problems[0]
    assert main(["kb", "check", "--data-dir", str(data)]) == 1
    assert "市教育厅" in capsys.readouterr().out
    assert check_duties(DEFAULT_PATH.parent) == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda t: t.replace('short = "盐湖"\nseat = [35.02, 110.98]\n', 'short = "盐湖"\n'), "seat must be"),
        (lambda t: t.replace('["市卫健委"]', '["卫健委"]'), "'卫健委' is not a listed unit"),
        (lambda t: t.replace('code = "toys"', 'code = "pesticide"'), "category code 'pesticide' is listed twice"),
        (lambda t: t.replace('county_department = "{county}政府"', 'county_department = "政府"'), "county_department"),
        (lambda t: t.replace('inside = "盐湖区"', 'inside = "盐湖"'), "inside = '盐湖'"),
        (lambda t: t + "\n[[category]]\ncode = 3\n", "code is required"),
        (lambda t: t + "\nnot valid toml [", "cannot read the file"),
        (lambda t: t.replace('code = "toys"', 'code = "Toys and more"'), "code must be lower-case"),
        (lambda t: t.replace('code = "140802"', 'code = "盐湖"'), "six-digit administrative code"),
        (lambda t: t.replace("seat = [35.02, 110.98]", "seat = [true, 110.98]"), "seat must be"),
    ],
)
def test_bad_duties_name_what_is_wrong(tmp_path: Path, change, said: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / DUTIES_FILE
    path.write_text(change(DEFAULT_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(DutiesError) as info:
        load_duties(path)
    assert any(said in problem and problem.startswith("duties.toml: ") for problem in info.value.problems)


def test_the_shipped_duties_cover_the_plan() -> None:
    shipped = duties()
    assert len(shipped.counties) == 13 and len(shipped.city) == 13
    assert shipped.department_of("绛县") == "绛县政府" and shipped.area_of("绛县政府") == "绛县"
    assert shipped.department_of("运城开发区") == "运城开发区管委会" and shipped.area_of("市卫健委") is None
    assert geo.routing_targets() == (*(c.name for c in shipped.counties), "运城开发区")
    assert {c.department for c in shipped.categories} <= set(shipped.department_names)
