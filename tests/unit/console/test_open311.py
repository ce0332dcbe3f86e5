"""Open311 GeoReport v2 read API: only accepted cases, no reporter data, rounded coordinates."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp
import pytest

from bot.coords import gcj02_to_wgs84, wgs84_to_gcj02
from bot.reports.geo import haversine_m
from bot.reports.workflow import change_status
from bot.scrub import scrub
from tests.conftest import RunningService
from tests.unit.console.helpers import seed_report

SPEC_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


async def _get(service: RunningService, path: str) -> tuple[int, object, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as http, http.get(service.url + path) as response:
        body = await response.read()
        return response.status, json.loads(body), response


async def _move(service: RunningService, case_no: str, *steps: str, **extra: str) -> None:
    services = service.services
    async with services.database.session() as db:
        for step in steps:
            kwargs = dict(extra) if step in ("resolved", "rejected") else {}
            if step == "accepted":
                kwargs["public_summary"] = extra.get("public_summary", "有工厂向河道排放废水")
            await change_status(db, services, case_no, step, actor="eco", now=services.now(), **kwargs)
        await db.commit()


@pytest.fixture
async def published(console_service: RunningService) -> dict[str, str]:
    services = console_service.services
    cases = {
        "accepted": await seed_report(
            services,
            real_name=True,
            name="王五",
            phone="13700002222",
            openid="o-private",
            latitude=35.031234,
            longitude=110.987654,
            description="工厂偷排废水，我的电话13700002222，邮箱 me@example.com",
        ),
        "resolved": await seed_report(services, category="pesticide", latitude=35.6, longitude=110.97, county="稷山县"),
        "submitted": await seed_report(services, latitude=35.3, longitude=111.2, county="夏县"),
        "rejected": await seed_report(services, latitude=35.5, longitude=111.5, county="绛县"),
    }
    await _move(console_service, cases["accepted"], "accepted")
    await _move(
        console_service,
        cases["resolved"],
        "accepted",
        "investigating",
        "resolved",
        note="已处理",
        public_reply="已清理农药包装，联系人电话 13711112222",
    )
    await _move(console_service, cases["rejected"], "rejected", reason="非本部门职责", competent_authority="住建部门")
    # Closed without ever being accepted: stays private.
    cases["closed_rejected"] = await seed_report(services, latitude=34.9, longitude=110.5, county="永济市")
    await _move(console_service, cases["closed_rejected"], "rejected", reason="重复信访", competent_authority="信访局")
    await _move(console_service, cases["closed_rejected"], "closed")
    # Filed within 300 m of the open accepted case: linked to it as a duplicate, then closed.
    cases["closed_duplicate"] = await seed_report(services, latitude=35.0315, longitude=110.9878)
    await _move(console_service, cases["closed_duplicate"], "closed")
    return cases


async def test_services_json(console_service: RunningService) -> None:
    status, body, response = await _get(console_service, "/open311/v2/services.json")
    assert status == 200 and response.content_type == "application/json"
    codes = {service["service_code"] for service in body}
    assert {"discharge", "pesticide", "other"} <= codes
    assert all(set(s) >= {"service_code", "service_name", "description", "metadata", "type"} for s in body)


async def test_requests_publish_only_accepted_without_reporter(console_service: RunningService, published) -> None:
    status, body, response = await _get(console_service, "/open311/v2/requests.json")
    assert status == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    assert {r["service_request_id"] for r in body} == {published["accepted"], published["resolved"]}
    for request in body:
        assert set(request) == SPEC_FIELDS
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("王五", "13700002222", "o-private", "me@example.com", "13711112222", "解放路"):
        assert secret not in text
    accepted = next(r for r in body if r["service_request_id"] == published["accepted"])
    # GCJ-02 (35.031234, 110.987654) as received is WGS84 (35.03204, 110.98196): converted, then rounded.
    assert (accepted["lat"], accepted["long"]) == (35.032, 110.982)
    assert accepted["description"] == "有工厂向河道排放废水"  # the staff summary, not what the reporter typed
    assert accepted["status"] == "open" and accepted["service_code"] == "discharge"
    assert accepted["agency_responsible"] == "市生态环境局" and accepted["address"] == "山西省运城市盐湖区"
    assert accepted["requested_datetime"].endswith("+08:00")
    resolved = next(r for r in body if r["service_request_id"] == published["resolved"])
    assert resolved["status"] == "closed" and resolved["status_notes"].startswith("已清理农药包装")


async def test_request_filters(console_service: RunningService, published) -> None:
    _, body, _ = await _get(console_service, "/open311/v2/requests.json?status=closed")
    assert [r["service_request_id"] for r in body] == [published["resolved"]]
    _, body, _ = await _get(console_service, "/open311/v2/requests.json?service_code=discharge")
    assert [r["service_request_id"] for r in body] == [published["accepted"]]
    ids = f"{published['accepted']},{published['submitted']}"
    _, body, _ = await _get(console_service, f"/open311/v2/requests.json?service_request_id={ids}")
    assert [r["service_request_id"] for r in body] == [published["accepted"]]
    now = console_service.clock()
    later = (now + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    _, body, _ = await _get(console_service, f"/open311/v2/requests.json?start_date={later}")
    assert body == []
    earlier = (now - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    _, body, _ = await _get(console_service, f"/open311/v2/requests.json?start_date={earlier}&end_date={later}")
    assert len(body) == 2
    console_service.clock.advance(days=91)
    _, body, _ = await _get(console_service, "/open311/v2/requests.json")
    assert body == []  # the default window is the last 90 days


async def test_single_request(console_service: RunningService, published) -> None:
    status, body, _ = await _get(console_service, f"/open311/v2/requests/{published['accepted']}.json")
    assert status == 200 and len(body) == 1 and body[0]["service_request_id"] == published["accepted"]
    hidden_cases = (
        published["submitted"],
        published["rejected"],
        published["closed_rejected"],
        published["closed_duplicate"],
    )
    for hidden in (*hidden_cases, "YC00000000-9999", "..%2Fetc", "x" * 80):
        status, body, _ = await _get(console_service, f"/open311/v2/requests/{hidden}.json")
        assert status == 404 and body[0]["code"] == 404


@pytest.mark.parametrize(
    "query",
    [
        "status=pending",
        "service_code=unknown",
        "start_date=yesterday",
        "start_date=2026-01-01T00:00:00Z&end_date=2025-01-01T00:00:00Z",
        "start_date=2025-01-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
        "service_request_id=" + ",".join(["A"] * 60),
        "start_date=0001-01-01T00:00:00Z",
        "end_date=0001-01-02T00:00:00%2B14:00",
        "start_date=0001-01-01T00:00:00&end_date=0001-03-01T00:00:00",
        "end_date=9999-12-31T23:59:59-12:00",
        "start_date=9999-12-31T00:00:00Z&end_date=9999-12-31T23:59:59Z",
    ],
)
async def test_bad_parameters_give_json_400(console_service: RunningService, query: str) -> None:
    status, body, _ = await _get(console_service, f"/open311/v2/requests.json?{query}")
    assert status == 400 and body[0]["code"] == 400 and body[0]["description"]


async def test_unknown_paths_and_methods(console_service: RunningService) -> None:
    status, body, _ = await _get(console_service, "/open311/v2/requests.xml")
    assert status == 404 and body[0]["code"] == 404
    async with aiohttp.ClientSession() as http, http.post(console_service.url + "/open311/v2/requests.json") as r:
        assert r.status == 405 and (await r.json())[0]["code"] == 405


def test_scrub() -> None:
    assert scrub("电话 138 1234 5678 或 0359-1234567，身份证 14080219900101123X，a.b@c.cn") == (
        "电话 *** 或 ***，身份证 ***，***"
    )
    assert scrub("2026年排放了120吨") == "2026年排放了120吨"


@pytest.mark.parametrize(
    "typed",
    [
        "8613712345678",
        "+86 137 1234 5678",
        "１３７１２３４５６７８",
        "＋８６－１３７－１２３４－５６７８",
        "0086 13712345678",
    ],
)
def test_scrub_normalises_before_matching(typed: str) -> None:
    assert "5678" not in scrub(f"我是住在X小区5号楼的，电话{typed}")


# Published pairs (WGS84 → GCJ-02) from another implementation's test suite (eviltransform).
KNOWN_POINTS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_POINTS)
def test_gcj02_to_wgs84_against_known_points(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert haversine_m(*wgs84_to_gcj02(*wgs), *gcj) < 0.01
    assert haversine_m(*gcj02_to_wgs84(*gcj), *wgs) < 0.5  # the inverse is iterative: under half a metre


def test_yuncheng_offset_exceeds_the_rounding() -> None:
    gcj = (35.0312, 111.0075)
    shift = haversine_m(*gcj, *gcj02_to_wgs84(*gcj))
    assert 450 < shift < 600  # far more than the ~100 m of 3 decimals
    assert gcj02_to_wgs84(48.85, 2.35) == (48.85, 2.35)  # outside China the datums agree


async def test_accepted_without_summary_is_not_published(console_service: RunningService) -> None:
    services = console_service.services
    case_no = await seed_report(services, description="我是住在X小区5号楼的王某，电话8613712345678，厂子偷排")
    async with services.database.session() as db:
        await change_status(db, services, case_no, "accepted", actor="eco", now=services.now())
        await db.commit()
    _status, body, _ = await _get(console_service, "/open311/v2/requests.json")
    assert body == []
    status, _body, _ = await _get(console_service, f"/open311/v2/requests/{case_no}.json")
    assert status == 404
