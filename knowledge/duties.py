"""The division of duties (data/duties.toml): the plan's units and the report categories routed to them.

The one reader of that file. Reports (categories, county routing), the console (departments, scoping),
start-up (seeding the departments table) and ``kb check`` all read the same ``Duties``. Everything a unit
is called is decided here once: a county ``X`` stands for the department ``county_department`` names
(``X政府``), the zone for its committee.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from bot import texts

DUTIES_FILE = "duties.toml"
DEFAULT_PATH = Path(__file__).resolve().parent / "data" / DUTIES_FILE
_TOP_KEYS = frozenset({"units", "zone", "county", "category"})
_CATEGORY_KEYS = frozenset({"code", "label", "department", "also_notify", "keywords"})
_COUNTY_KEYS = frozenset({"name", "code", "short", "seat"})
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")  # reports.category holds it (32 characters)
_ADCODE = re.compile(r"\d{6}")
MAX_UNIT_CHARS = 64  # departments.name and reports.department


class DutiesError(ValueError):
    """duties.toml cannot be used; ``problems`` says what is wrong, each naming the entry."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Category:
    """A report category: its code, label, the responsible department and who else hears of it."""

    code: str
    label: str
    department: str
    also_notify: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class County:
    """A county-level unit: name, adcode, short name, approximate seat and the department standing for it."""

    name: str
    code: str
    short: str
    lat: float
    lon: float
    department: str


@dataclass(frozen=True)
class Zone:
    """The development zone: its name, its administrative committee, the county it lies in."""

    name: str
    department: str
    inside: str


class Unit(NamedTuple):
    """A row of the departments table: name, kind (city / county / zone), adcode."""

    name: str
    kind: str
    adcode: str | None


@dataclass(frozen=True)
class Duties:
    city: tuple[str, ...]
    counties: tuple[County, ...]
    zone: Zone
    categories: tuple[Category, ...]

    @property
    def units(self) -> tuple[Unit, ...]:
        """Every unit, city departments first, then the counties, then the zone."""
        return (
            *(Unit(name, "city", None) for name in self.city),
            *(Unit(c.department, "county", c.code) for c in self.counties),
            Unit(self.zone.department, "zone", None),
        )

    @property
    def department_names(self) -> tuple[str, ...]:
        return tuple(unit.name for unit in self.units)

    @property
    def areas(self) -> tuple[str, ...]:
        """Where a report can be routed: the 13 counties, then the development zone."""
        return (*(c.name for c in self.counties), self.zone.name)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def department_of(self, area: str) -> str:
        """The department that stands for an area: 盐湖区 → 盐湖区政府, the zone → its committee."""
        if area == self.zone.name:
            return self.zone.department
        for county in self.counties:
            if county.name == area:
                return county.department
        raise KeyError(area)

    def area_of(self, department: str) -> str | None:
        """The area a county government or the zone's committee covers (None for a city department)."""
        if department == self.zone.department:
            return self.zone.name
        return next((c.name for c in self.counties if c.department == department), None)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _is_seat(value: Any) -> bool:
    """[latitude, longitude]: two finite numbers in range (a bool is not a number here)."""
    if not isinstance(value, list) or len(value) != 2:
        return False
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return False
    return -90 <= value[0] <= 90 and -180 <= value[1] <= 180


def _unknown_unit(where: str, name: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = texts.DUTIES_DID_YOU_MEAN.format(name=close[0]) if close else ""
    return texts.DUTIES_PROBLEMS["unit_unknown"].format(where=where, name=name, hint=hint, known="、".join(known))


def _county(entry: Any, index: int, department: str, problems: list[str]) -> County | None:
    if not isinstance(entry, dict):
        problems.append(texts.DUTIES_PROBLEMS["not_table"].format(where=f"county #{index}", table="[[county]]"))
        return None
    name = entry.get("name")
    where = f"county #{index}" + (f" ({name})" if isinstance(name, str) else "")
    for key in sorted(set(entry) - _COUNTY_KEYS):
        problems.append(texts.DUTIES_PROBLEMS["key_unknown"].format(where=where, key=key))
    for key in ("name", "code", "short"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            problems.append(texts.DUTIES_PROBLEMS["text_required"].format(where=where, key=key))
    seat = entry.get("seat")
    if not _is_seat(seat):
        problems.append(texts.DUTIES_PROBLEMS["seat"].format(where=where))
        return None
    if not all(isinstance(entry.get(key), str) and entry[key].strip() for key in ("name", "code", "short")):
        return None
    name = entry["name"].strip()
    if not _ADCODE.fullmatch(entry["code"].strip()):
        problems.append(texts.DUTIES_PROBLEMS["adcode"].format(where=where))
    return County(
        name, entry["code"].strip(), entry["short"].strip(), float(seat[0]), float(seat[1]),
        department.replace("{county}", name),
    )


def _category(entry: Any, index: int, units: tuple[str, ...], problems: list[str]) -> Category | None:
    if not isinstance(entry, dict):
        problems.append(texts.DUTIES_PROBLEMS["not_table"].format(where=f"category #{index}", table="[[category]]"))
        return None
    code = entry.get("code")
    where = f"category #{index}" + (f" ({code})" if isinstance(code, str) else "")
    before = len(problems)
    for key in sorted(set(entry) - _CATEGORY_KEYS):
        problems.append(texts.DUTIES_PROBLEMS["key_unknown"].format(where=where, key=key))
    for key in ("code", "label", "department"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            problems.append(texts.DUTIES_PROBLEMS["text_required"].format(where=where, key=key))
    for key in ("also_notify", "keywords"):
        if not _strings(entry.get(key, [])):
            problems.append(texts.DUTIES_PROBLEMS["list_required"].format(where=where, key=key))
    if len(problems) > before:
        return None
    if not _CODE.fullmatch(entry["code"].strip()):
        problems.append(texts.DUTIES_PROBLEMS["code"].format(where=where))
    department = entry["department"].strip()
    also = tuple(v.strip() for v in entry.get("also_notify", []))
    for name in (department, *also):
        if name not in units:
            problems.append(_unknown_unit(where, name, units))
    return Category(entry["code"].strip(), entry["label"].strip(), department, also,
                    tuple(v.strip() for v in entry.get("keywords", [])))


def parse_duties(raw: dict[str, Any]) -> Duties:
    """Check the parsed file and build ``Duties``; raises ``DutiesError`` listing every problem."""
    problems: list[str] = []
    for key in sorted(set(raw) - _TOP_KEYS):
        problems.append(texts.DUTIES_PROBLEMS["key_unknown"].format(where=DUTIES_FILE, key=key))
    units = raw.get("units") if isinstance(raw.get("units"), dict) else {}
    city = units.get("city")
    if not _strings(city) or not city:
        problems.append(texts.DUTIES_PROBLEMS["list_required"].format(where="[units]", key="city"))
        city = []
    template = units.get("county_department")
    if not isinstance(template, str) or "{county}" not in template:
        problems.append(texts.DUTIES_PROBLEMS["county_department"])
        template = "{county}"
    zone_raw = raw.get("zone") if isinstance(raw.get("zone"), dict) else {}
    for key in ("name", "department", "inside"):
        if not isinstance(zone_raw.get(key), str) or not zone_raw[key].strip():
            problems.append(texts.DUTIES_PROBLEMS["text_required"].format(where="[zone]", key=key))
    zone = Zone(*(str(zone_raw.get(key, "")).strip() for key in ("name", "department", "inside")))
    county_entries = raw.get("county") if isinstance(raw.get("county"), list) else []
    if len(county_entries) == 0:
        problems.append(texts.DUTIES_PROBLEMS["none"].format(table="[[county]]"))
    counties = [c for i, e in enumerate(county_entries, 1) if (c := _county(e, i, template, problems))]
    if zone.inside and zone.inside not in {c.name for c in counties}:
        problems.append(texts.DUTIES_PROBLEMS["zone_inside"].format(name=zone.inside))
    known = (*(n.strip() for n in city), *(c.department for c in counties), zone.department)
    category_entries = raw.get("category") if isinstance(raw.get("category"), list) else []
    if len(category_entries) == 0:
        problems.append(texts.DUTIES_PROBLEMS["none"].format(table="[[category]]"))
    categories = [c for i, e in enumerate(category_entries, 1) if (c := _category(e, i, known, problems))]
    for name in known:
        if len(name) > MAX_UNIT_CHARS:
            problems.append(texts.DUTIES_PROBLEMS["unit_long"].format(name=name, limit=MAX_UNIT_CHARS))
    for label, values in (
        ("unit", known),
        ("county code", [c.code for c in counties]),
        ("county short name", [c.short for c in counties]),
        ("category code", [c.code for c in categories]),
        ("category label", [c.label for c in categories]),
    ):
        for value in sorted({v for v in values if values.count(v) > 1}):
            problems.append(texts.DUTIES_PROBLEMS["twice"].format(what=label, value=value))
    if problems:
        raise DutiesError([f"{DUTIES_FILE}: {p}" for p in problems])
    return Duties(tuple(n.strip() for n in city), tuple(counties), zone, tuple(categories))


def load_duties(path: Path | None = None) -> Duties:
    """Read and check a duties file (default: knowledge/data/duties.toml)."""
    path = path or DEFAULT_PATH
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DutiesError([f"{DUTIES_FILE}: {texts.DUTIES_PROBLEMS['unreadable'].format(error=exc)}"]) from exc
    return parse_duties(raw)


_current: Duties | None = None


def duties() -> Duties:
    """The duties the service runs with: knowledge/data/duties.toml, read once."""
    global _current
    if _current is None:
        _current = load_duties()
    return _current


def use_duties(value: Duties | None) -> None:
    """Run with other duties from now on (``None``: read the default file again on next use)."""
    global _current
    _current = value
