"""knowledge/data/workdays.toml: the State Council's holiday arrangement per calendar year, as data.

Each year is a table of holidays; each holiday names its days off (weekends inside the holiday included)
and its make-up working days (调休上班, always a Saturday or Sunday). A year is either listed in full or
left out: the calendar never guesses a year whose notice is not published.

    [2026]
    source = "chinese-calendar 1.11.0"

    [[2026.holiday]]
    name = "元旦"
    off = [2026-01-01, 2026-01-02, 2026-01-03]
    makeup = [2026-01-04]

This module only reads, validates and (from chinese-calendar's data) writes the file; the working-day
arithmetic lives with the reminders.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

# The data folder (knowledge.loader names it too, but importing the loader would load every data module)
DATA_DIR = Path(__file__).resolve().parent / "data"

WORKDAYS_FILE = "workdays.toml"
_YEAR_KEYS = {"source", "holiday"}
_HOLIDAY_KEYS = {"name", "off", "makeup"}
# chinese-calendar names its holidays in English; the file speaks the notice's language.
_CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class WorkdaysError(ValueError):
    """The file cannot be used; the message starts with "workdays.toml:LINE: "."""


@dataclass(frozen=True)
class YearDays:
    year: int
    off: frozenset[date]
    makeup: frozenset[date]
    source: str

    def is_working_day(self, day: date) -> bool:
        return day in self.makeup or (day.weekday() < 5 and day not in self.off)


def default_path() -> Path:
    return DATA_DIR / WORKDAYS_FILE


def _line_of(lines: list[str], needle: str, start: int = 1) -> int:
    for n, line in enumerate(lines[start - 1 :], start):
        if needle in line:
            return n
    return start


def _day_problem(day: object, year: int, field: str, listed: set[date]) -> str:
    """What is wrong with one listed day ("" when nothing is)."""
    if not isinstance(day, date) or isinstance(day, datetime):
        return f"{day!r} is not a date (write {year}-01-01, no quotes)"
    if day.year != year:
        return f"{day} is not in {year} (list it under [{day.year}])"
    if day in listed:
        return f"{day} is listed twice"
    if field == "makeup" and day.weekday() < 5:
        return f"{day} is a weekday (make-up days are Saturdays or Sundays)"
    return ""


def check_text(text: str, name: str = WORKDAYS_FILE) -> tuple[dict[int, YearDays], list[str]]:
    """Parse and validate; returns (years, problems). Every problem reads "file:line: what is wrong"."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return {}, [f"{name}: not valid TOML: {exc}"]
    lines = text.splitlines()
    problems: list[str] = []
    years: dict[int, YearDays] = {}
    for key, table in raw.items():
        header = _line_of(lines, f"[{key}]")
        where = f"{name}:{header}"
        if not (key.isdigit() and len(key) == 4):
            problems.append(f"{where}: {key!r} is not a year (expected a table such as [2026])")
            continue
        year = int(key)
        if not isinstance(table, dict):
            problems.append(f"{where}: [{key}] must be a table with `source` and [[{key}.holiday]] entries")
            continue
        for unknown in sorted(set(table) - _YEAR_KEYS):
            problems.append(f"{where}: [{key}] {unknown}: unknown key (known: holiday, source)")
        source = table.get("source", "")
        if not isinstance(source, str) or not source.strip():
            problems.append(f"{where}: [{key}] source: say where the arrangement comes from (notice or library)")
        holidays = table.get("holiday", [])
        if not isinstance(holidays, list) or not holidays:
            problems.append(f"{where}: [{key}] has no [[{key}.holiday]] entries")
            continue
        off: dict[date, str] = {}
        makeup: dict[date, str] = {}
        line = header
        for entry in holidays:
            line = _line_of(lines, f"[[{key}.holiday]]", line + 1)
            here = f"{name}:{line}"
            if not isinstance(entry, dict):
                problems.append(f"{here}: a holiday must be a table with name, off and makeup")
                continue
            for unknown in sorted(set(entry) - _HOLIDAY_KEYS):
                problems.append(f"{here}: {unknown}: unknown key (known: makeup, name, off)")
            label = entry.get("name")
            if not isinstance(label, str) or not label.strip():
                problems.append(f'{here}: name: the holiday\'s name, e.g. "春节"')
                label = "?"
            for field, seen in (("off", off), ("makeup", makeup)):
                days = entry.get(field, [] if field == "makeup" else None)
                if not isinstance(days, list) or (field == "off" and not days):
                    problems.append(f"{here}: {label} {field}: a list of dates such as [{year}-10-01]")
                    continue
                for day in days:
                    if wrong := _day_problem(day, year, field, off.keys() | makeup.keys()):
                        problems.append(f"{here}: {label} {field}: {wrong}")
                    else:
                        seen[day] = label
        if date(year, 1, 1) not in off:
            problems.append(f"{where}: [{key}] 1 January ({year}-01-01) is missing from the days off")
        years[year] = YearDays(year, frozenset(off), frozenset(makeup), str(source))
    ordered = sorted(years)
    for before, after in itertools.pairwise(ordered):
        if after != before + 1:
            missing = ", ".join(str(y) for y in range(before + 1, after))
            problems.append(f"{name}: years must follow one another: {missing} missing between {before} and {after}")
    return years, problems


def load(path: Path | None = None) -> dict[int, YearDays]:
    """The years the file covers; raises WorkdaysError listing every problem. No file: no years."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkdaysError(f"{path.name}: cannot read: {exc}") from None
    years, problems = check_text(text, path.name)
    if problems:
        raise WorkdaysError("; ".join(problems))
    return years


def render_from_chinese_calendar(first: int, last: int) -> str:
    """The file's text for ``first``–``last`` from chinese-calendar's published data.

    Raises ValueError naming the first year the installed chinese-calendar has no arrangement for.
    """
    import chinese_calendar

    version = getattr(chinese_calendar, "__version__", "?")
    known = {d.year for d in chinese_calendar.holidays}
    out = [
        "# China's statutory holidays and make-up working days (调休), one table per calendar year.",
        "# Each year is listed in full or not at all: a year missing here is not covered (reminders count",
        "# Monday to Friday). Add a year once the State Council's notice for it is published.",
        f"# Written by `python -m bot kb workdays import {first} {last}` from chinese-calendar {version}.",
    ]
    for year in range(first, last + 1):
        if year not in known:
            raise ValueError(f"chinese-calendar {version} has no holiday arrangement for {year}")
        out += ["", f"[{year}]", f'source = "chinese-calendar {version}"']
        for label, off, makeup in _holiday_runs(chinese_calendar, year):
            out += ["", f"[[{year}.holiday]]", f'name = "{label}"']
            out.append(f"off = [{', '.join(d.isoformat() for d in off)}]")
            out.append(f"makeup = [{', '.join(d.isoformat() for d in makeup)}]")
    return "\n".join(out) + "\n"


def _holiday_runs(library: Any, year: int) -> list[tuple[str, list[date], list[date]]]:
    """One (name, days off, make-up days) per holiday period of ``year``, in date order.

    A name can occur twice in one year (New Year's Day in January, and the next one's days off from
    30 December), so days off more than a week apart start a new period; a make-up day joins the
    period of the same name nearest to it.
    """
    runs: list[tuple[str, list[date], list[date]]] = []
    for day in sorted(d for d in library.holidays if d.year == year):
        label = _CHINESE_NAMES.get(str(library.holidays[day]), str(library.holidays[day]))
        same = [r for r in runs if r[0] == label and (day - r[1][-1]).days <= 7]
        if same:
            same[-1][1].append(day)
        else:
            runs.append((label, [day], []))
    for day in sorted(d for d in library.workdays if d.year == year):
        label = _CHINESE_NAMES.get(str(library.workdays[day]), str(library.workdays[day]))
        candidates = [r for r in runs if r[0] == label] or runs
        nearest = min(candidates, key=lambda r: min(abs((day - d).days) for d in r[1]))
        nearest[2].append(day)
    return runs


def describe(years: dict[int, YearDays]) -> dict[str, Any]:
    """A summary for `kb workdays` and the status command."""
    return {
        "years": sorted(years),
        "days_off": sum(len(y.off) for y in years.values()),
        "makeup_days": sum(len(y.makeup) for y in years.values()),
    }
