"""Which of Yuncheng's county-level units a report belongs to.

We have no county polygons, only the approximate county seats and a rough bounding box (FACTS §7), so
the county is decided in this order:

1. a county named in the typed address or in the WeChat pin's label (WeChat labels are reverse-geocoded
   addresses such as "山西省运城市盐湖区…");
2. otherwise the nearest county seat, flagged ``near_border`` when the second-nearest seat is almost as
   close (the reporter is then asked to confirm);
3. a point outside the bounding box, or a label naming another province or prefecture, is ``outside``:
   the report is kept with no county for manual routing.

运城开发区 (the development zone, inside 盐湖区) has no polygon either. It is chosen only when the address
or label mentions 开发区/经开区 and names no county other than 盐湖区 (other counties have development
zones of their own, e.g. 河津经济技术开发区, which stay with their county). The counties, their seats and
the zone come from knowledge/data/duties.toml.

Coordinates are GCJ-02 as WeChat sends them; the ~500 m offset to WGS84 does not matter at this scale.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from knowledge.duties import County, duties


def counties() -> tuple[County, ...]:
    """The 13 county-level units with their seats (knowledge/data/duties.toml)."""
    return duties().counties


def routing_targets() -> tuple[str, ...]:
    """Where a report can be routed: the counties, then the development zone."""
    return duties().areas


BBOX_LAT = (34.58, 35.82)
BBOX_LON = (110.25, 112.07)

EARTH_RADIUS_M = 6_371_008.8
_ZONE_WORDS = ("运城开发区", "运城经济技术开发区", "经济技术开发区", "经济开发区", "经开区", "开发区")
_YUNCHENG_CITIES = {"运城", "永济", "河津"}
_PROVINCE = re.compile(r"^(?:中国)?([\u4e00-\u9fff]{2,3}?)(?:省|自治区)")
_CITY = re.compile(r"^([\u4e00-\u9fff]{2,6}?)市")


@dataclass(frozen=True)
class CountyGuess:
    """The routing decision for one location.

    ``method``: address (named in typed text), label (named in the pin's label), nearest_seat, or ''.
    ``candidates``: counties to offer the reporter when ``near_border`` (nearest first).
    """

    county: str | None
    method: str
    outside: bool = False
    near_border: bool = False
    candidates: tuple[str, ...] = ()
    distance_km: float | None = None


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def in_bounding_box(lat: float, lon: float) -> bool:
    return BBOX_LAT[0] <= lat <= BBOX_LAT[1] and BBOX_LON[0] <= lon <= BBOX_LON[1]


def valid_coordinates(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def seats_by_distance(lat: float, lon: float) -> list[tuple[str, float]]:
    """(county, km) for every seat, nearest first."""
    rows = [(c.name, haversine_m(lat, lon, c.lat, c.lon) / 1000) for c in counties()]
    return sorted(rows, key=lambda row: row[1])


def counties_in_text(text: str) -> list[str]:
    """Yuncheng counties named in ``text`` (full or short names), in order of first mention."""
    found: list[tuple[int, str]] = []
    for county in counties():
        name = county.name
        for word in {name, county.short}:
            start = 0
            while (pos := text.find(word, start)) != -1:
                start = pos + 1
                # "绛县" inside "新绛县" names 新绛县, not 绛县.
                if name == "绛县" and pos > 0 and text[pos - 1] == "新":
                    continue
                found.append((pos, name))
    ordered: list[str] = []
    for _, name in sorted(found):
        if name not in ordered:
            ordered.append(name)
    return ordered


def mentions_zone(text: str) -> bool:
    return any(word in text for word in _ZONE_WORDS)


def county_from_text(text: str) -> str | None:
    """The one routing target a typed address or label names, or None when it names none or several."""
    named = counties_in_text(text)
    zone = duties().zone
    if mentions_zone(text) and set(named) <= {zone.inside}:
        return zone.name
    if len(named) == 1:
        return named[0]
    return None


def names_other_place(label: str) -> bool:
    """True when a reverse-geocoded label starts with a province other than 山西 or a city other than 运城."""
    text = label.strip()
    province = _PROVINCE.match(text)
    if province:
        if province.group(1) != "山西":
            return True
        text = text[province.end() :]
    city = _CITY.match(text)
    return bool(city) and city.group(1) not in _YUNCHENG_CITIES and not counties_in_text(city.group(0))


def locate_point(
    lat: float, lon: float, label: str = "", *, border_ratio: float = 1.3, seat_radius_km: float = 6.0
) -> CountyGuess:
    """Route a WeChat pin; see the module docstring for the rules."""
    if not valid_coordinates(lat, lon) or not in_bounding_box(lat, lon) or (label and names_other_place(label)):
        return CountyGuess(county=None, method="", outside=True)
    ranked = seats_by_distance(lat, lon)
    nearest, d1 = ranked[0]
    if label:
        named = county_from_text(label)
        if named is not None:
            return CountyGuess(county=named, method="label", distance_km=round(d1, 1))
    _, d2 = ranked[1]
    near_border = d1 > seat_radius_km and d2 < d1 * border_ratio
    candidates = tuple(name for name, d in ranked[:3] if d < d1 * border_ratio) if near_border else (nearest,)
    return CountyGuess(
        county=nearest,
        method="nearest_seat",
        near_border=near_border,
        candidates=candidates,
        distance_km=round(d1, 1),
    )


def locate_address(text: str) -> CountyGuess:
    """Route a typed address: the county it names, else unknown (the reporter is asked)."""
    county = county_from_text(text)
    if county is not None:
        return CountyGuess(county=county, method="address")
    return CountyGuess(county=None, method="", candidates=routing_targets())


def county_government(county: str) -> str:
    """The department that stands for a routing target: 盐湖区 → 盐湖区政府, the zone → 运城开发区管委会."""
    return duties().department_of(county)
