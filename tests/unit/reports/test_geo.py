"""County routing without polygons: names in text, nearest seat, borders, outside the city."""

from __future__ import annotations

import pytest

from bot.reports import geo
from knowledge.duties import duties


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("盐湖区解放南路88号", "盐湖区"),
        ("新绛县龙兴镇", "新绛县"),  # not 绛县, although "绛县" is inside "新绛县"
        ("绛县古绛镇某厂", "绛县"),
        ("河津市清涧街道", "河津市"),
        ("永济蒲州镇", "永济市"),
        ("运城开发区某工业园", "运城开发区"),
        ("盐湖区运城经济技术开发区", "运城开发区"),
        ("河津经济技术开发区", "河津市"),  # another county's zone stays with that county
        ("临猗和万荣交界处", None),  # two counties: ask
        ("某化工厂附近", None),
    ],
)
def test_county_from_text(text: str, county: str | None) -> None:
    assert geo.county_from_text(text) == county


def test_a_pin_near_a_seat_goes_to_that_county() -> None:
    guess = geo.locate_point(35.03, 110.99)
    assert (guess.county, guess.method, guess.near_border, guess.outside) == ("盐湖区", "nearest_seat", False, False)


def test_the_label_wins_over_the_nearest_seat() -> None:
    guess = geo.locate_point(35.085, 111.10, "山西省运城市夏县裴介镇")
    assert (guess.county, guess.method, guess.near_border) == ("夏县", "label", False)


def test_a_point_between_two_seats_is_near_a_border() -> None:
    guess = geo.locate_point(35.085, 111.10)
    assert guess.near_border and set(guess.candidates[:2]) == {"盐湖区", "夏县"}
    assert guess.county == guess.candidates[0]


@pytest.mark.parametrize(
    ("lat", "lon", "label"),
    [
        (39.9087, 116.3975, ""),  # Beijing
        (34.50, 110.30, ""),  # south of the box
        (35.20, 110.40, "陕西省渭南市合阳县"),  # inside the rough box, but the label names Shaanxi
        (35.70, 111.40, "山西省临汾市侯马市"),  # inside the box, another prefecture
        (float("nan"), 111.0, ""),
        (95.0, 111.0, ""),
    ],
)
def test_outside_yuncheng(lat: float, lon: float, label: str) -> None:
    guess = geo.locate_point(lat, lon, label)
    assert guess.outside and guess.county is None


def test_labels_of_yuncheng_are_not_outside() -> None:
    assert not geo.names_other_place("山西省运城市盐湖区")
    assert not geo.names_other_place("山西省永济市蒲州镇")
    assert not geo.names_other_place("解放路与红旗街交叉口")


def test_haversine_is_metres() -> None:
    # 0.001° of latitude is about 111 m.
    assert 110 < geo.haversine_m(35.0, 111.0, 35.001, 111.0) < 112


def test_county_government_names_match_the_seeded_departments() -> None:
    names = set(duties().department_names)
    assert geo.county_government("盐湖区") == "盐湖区政府"
    assert geo.county_government("运城开发区") == "运城开发区管委会"
    assert all(geo.county_government(c) in names for c in geo.routing_targets())
