"""knowledge/data/workdays.toml: the calendar prefers it, `kb check` validates it, coverage is reported."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from bot.tasks import workdays
from knowledge import workdays as data
from knowledge.cli import main as kb_main

SHIPPED = data.default_path()


@pytest.fixture
def data_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "workdays.toml"
    path.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    workdays.use_data_file(path)
    yield path
    workdays.use_data_file(None)


def test_shipped_file_covers_2023_to_2026_and_agrees_with_chinese_calendar() -> None:
    years = data.load()
    assert sorted(years) == [2023, 2024, 2025, 2026]
    day = date(2023, 1, 1)
    while day.year < 2027:
        assert years[day.year].is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    assert date(2026, 2, 14) in years[2026].makeup  # a Saturday worked before the Spring Festival
    assert 2027 not in years  # no published notice: left out


def test_the_file_wins_over_the_library(data_file: Path) -> None:
    # An arrangement changed after publication: an extra day off on Friday 2026-12-04.
    text = data_file.read_text(encoding="utf-8")
    text += '\n[[2026.holiday]]\nname = "特别休假"\noff = [2026-12-04]\nmakeup = []\n'
    data_file.write_text(text, encoding="utf-8")
    workdays.use_data_file(data_file)
    assert not workdays.is_working_day(date(2026, 12, 4))
    assert chinese_calendar.is_workday(date(2026, 12, 4))


def test_a_year_added_to_the_file_extends_coverage(data_file: Path) -> None:
    data_file.write_text(
        data_file.read_text(encoding="utf-8")
        + '\n[2027]\nsource = "test"\n\n[[2027.holiday]]\nname = "元旦"\noff = [2027-01-01]\nmakeup = []\n',
        encoding="utf-8",
    )
    workdays.use_data_file(data_file)
    assert workdays.source_for(2027) == "workdays.toml"
    assert workdays.covered_until(date(2026, 12, 4)) == date(2027, 12, 31)
    assert not workdays.is_working_day(date(2027, 1, 1))


def test_a_malformed_file_is_logged_and_the_library_used(data_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    data_file.write_text("[2026]\nsource = 'x'\n[[2026.holiday]]\nname = '元旦'\noff = ['2026-01-01']\n")
    workdays.use_data_file(data_file)
    assert workdays.source_for(2026) == "chinese-calendar"
    assert "working-day data not used" in caplog.text
    assert not workdays.is_working_day(date(2026, 1, 2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[2026]\nsource = 'x'\n", "has no [[2026.holiday]] entries"),
        ("[26]\nsource = 'x'\n", "'26' is not a year"),
        ("[2026]\nsource = 'x'\n[[2026.holiday]]\nname = '元旦'\noff = ['2026-01-01']\n", "is not a date"),
        ("[2026]\nsource = 'x'\n[[2026.holiday]]\nname = '元旦'\noff = [2025-01-01]\n", "is not in 2026"),
        (
            "[2026]\nsource = 'x'\n[[2026.holiday]]\nname = '元旦'\noff = [2026-01-01]\nmakeup = [2026-01-05]\n",
            "2026-01-05 is a weekday",
        ),
        (
            "[2026]\nsource = 'x'\n[[2026.holiday]]\nname = '元旦'\noff = [2026-01-01]\nmakeup = [2026-01-01]\n",
            "listed twice",
        ),
        ("[2026]\nsource = 'x'\n[[2026.holiday]]\nname = '春节'\noff = [2026-02-16]\n", "1 January"),
        ("[2026]\nsource = 'x'\n[[2026.holiday]]\nname = '元旦'\noff = [2026-01-01]\ncolour = 1\n", "unknown key"),
        ("[2026\n", "not valid TOML"),
    ],
)
def test_kb_check_rejects_a_malformed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    data_dir = tmp_path / "data"
    import shutil

    shutil.copytree(SHIPPED.parent, data_dir)
    (data_dir / data.WORKDAYS_FILE).write_text(text, encoding="utf-8")
    assert kb_main(["kb", "check", "--data-dir", str(data_dir)]) == 1
    out = capsys.readouterr().out
    assert message in out
    assert "workdays.toml:" in out


def test_years_must_follow_one_another() -> None:
    one = "[{y}]\nsource = 'x'\n[[{y}.holiday]]\nname = '元旦'\noff = [{y}-01-01]\n"
    _years, problems = data.check_text(one.format(y=2024) + one.format(y=2026))
    assert problems == ["workdays.toml: years must follow one another: 2025 missing between 2024 and 2026"]


def test_import_writes_what_the_library_knows_and_refuses_unpublished_years(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "w.toml"
    assert kb_main(["kb", "workdays", "import", "2023", "2026", "--file", str(out)]) == 0
    assert out.read_text(encoding="utf-8").split("\n", 4)[4] == SHIPPED.read_text(encoding="utf-8").split("\n", 4)[4]
    assert kb_main(["kb", "workdays", "import", "2026", "2027", "--file", str(tmp_path / "x.toml")]) == 1
    assert "no holiday arrangement for 2027" in capsys.readouterr().err
    assert not (tmp_path / "x.toml").exists()
