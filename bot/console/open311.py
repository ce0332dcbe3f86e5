"""Open311 GeoReport v2, read only: ``services.json``, ``requests.json`` and ``requests/{id}.json``.

Only cases that were accepted (accepted, investigating, resolved, closed) with a public summary are
published; submitted, rejected and duplicate cases are not. What the reporter typed is never published:
the description is the summary staff wrote or approved when accepting. Nothing about the reporter is
published, the coordinates are converted from GCJ-02 to WGS84 (as GeoReport v2 requires) and rounded
(3 decimals ≈ 100 m by default), the address is reduced to the county, and phone numbers, e-mail
addresses and ID numbers left in the summary or reply are blanked out (after NFKC normalisation).
Errors follow the spec: a JSON list of ``{"code": …, "description": …}`` with the same HTTP status.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot import texts
from bot.config import LOCAL_TZ
from bot.console.catalog import category_catalog, category_name
from bot.coords import gcj02_to_wgs84
from bot.scrub import scrub
from bot.services import Services
from storage.models.reports import Report, ReportEvent

log = logging.getLogger(__name__)

PUBLISHED = {"accepted": "open", "investigating": "open", "resolved": "closed", "closed": "closed"}
# A closed case is public only if it was accepted once (not a rejected or duplicate report closed later).
WAS_ACCEPTED = (
    select(ReportEvent.id)
    .where(ReportEvent.report_id == Report.id, ReportEvent.kind == "status", ReportEvent.to_status == "accepted")
    .exists()
)
DEFAULT_WINDOW = timedelta(days=90)
MAX_IDS = 50
SERVICES_KEY = web.AppKey("open311_services", Services)

# Dates whose arithmetic (the 90-day window, time zones) stays inside what datetime can hold.
MIN_YEAR, MAX_YEAR = 1970, 9998


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def w3c(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def parse_w3c(value: str, name: str) -> datetime:
    text = value.strip()
    if not text or len(text) > 40:
        raise Open311Error(400, f"{name}: expected a W3C date-time such as 2026-11-01T00:00:00+08:00")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name}: expected a W3C date-time such as 2026-11-01T00:00:00+08:00") from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise Open311Error(400, f"{name}: the year must be between {MIN_YEAR} and {MAX_YEAR}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed


def to_request(report: Report, decimals: int) -> dict[str, Any]:
    """One report as an Open311 service request (public fields only)."""
    status = PUBLISHED[report.status]
    lat = lon = None
    if report.latitude is not None and report.longitude is not None:
        wgs_lat, wgs_lon = gcj02_to_wgs84(report.latitude, report.longitude)
        lat, lon = round(wgs_lat, decimals), round(wgs_lon, decimals)
    notes = scrub(report.public_reply) if status == "closed" else ""
    return {
        "service_request_id": report.case_no,
        "status": status,
        "status_notes": notes,
        "service_name": category_name(report.category),
        "service_code": report.category,
        "description": scrub(report.public_summary),
        "agency_responsible": report.department,
        "service_notice": "",
        "requested_datetime": w3c(report.created_at),
        "updated_datetime": w3c(report.updated_at),
        "expected_datetime": None,
        "address": texts.OPEN311_AREA.format(county=report.county or ""),
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


def _services(request: web.Request) -> Services:
    return request.config_dict[SERVICES_KEY]


async def services_json(request: web.Request) -> web.Response:
    body = [
        {
            "service_code": code,
            "service_name": name,
            "description": description,
            "metadata": False,
            "type": "realtime",
            "keywords": "",
            "group": texts.OPEN311_GROUP,
        }
        for code, name, description in category_catalog()
    ]
    return web.json_response(body, dumps=_dumps)


def _csv(value: str, name: str, allowed: set[str] | None = None) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if len(items) > MAX_IDS:
        raise Open311Error(400, f"{name}: at most {MAX_IDS} values")
    for item in items:
        if len(item) > 64 or (allowed is not None and item not in allowed):
            raise Open311Error(400, f"{name}: unknown value {item[:64]!r}")
    return items


async def requests_json(request: web.Request) -> web.Response:
    services = _services(request)
    cfg = services.config.console
    query = request.query
    stmt = select(Report).where(Report.case_no.is_not(None), Report.public_summary != "", WAS_ACCEPTED)
    ids = _csv(query.get("service_request_id", ""), "service_request_id")
    if ids:
        stmt = stmt.where(Report.case_no.in_(ids), Report.status.in_(list(PUBLISHED)))
    else:
        codes = _csv(query.get("service_code", ""), "service_code", {code for code, _n, _d in category_catalog()})
        states = _csv(query.get("status", ""), "status", {"open", "closed"})
        statuses = [s for s, public in PUBLISHED.items() if not states or public in states]
        stmt = stmt.where(Report.status.in_(statuses))
        if codes:
            stmt = stmt.where(Report.category.in_(codes))
        now = services.now()
        start = parse_w3c(query["start_date"], "start_date") if "start_date" in query else None
        end = parse_w3c(query["end_date"], "end_date") if "end_date" in query else None
        if start is None and end is None:
            start = now - DEFAULT_WINDOW
        elif start is None and end is not None:
            start = end - DEFAULT_WINDOW
        if start is not None and end is not None:
            if start > end:
                raise Open311Error(400, "start_date is after end_date")
            if end - start > DEFAULT_WINDOW:
                raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        if start is not None:
            stmt = stmt.where(Report.created_at >= start)
        if end is not None:
            stmt = stmt.where(Report.created_at <= end)
    stmt = stmt.order_by(Report.created_at.desc(), Report.id.desc()).limit(cfg.open311_max_requests)
    async with services.database.session() as session:
        reports = list((await session.scalars(stmt)).all())
    body = [to_request(report, cfg.open311_coordinate_decimals) for report in reports]
    return web.json_response(body, dumps=_dumps)


async def request_json(request: web.Request) -> web.Response:
    services = _services(request)
    case_no = request.match_info["case_no"]
    if not case_no or len(case_no) > 32 or not all(ch.isalnum() or ch in "-_" for ch in case_no):
        raise Open311Error(404, "no such service request")
    async with services.database.session() as session:
        report = await session.scalar(
            select(Report).where(Report.case_no == case_no, Report.public_summary != "", WAS_ACCEPTED)
        )
    if report is None or report.status not in PUBLISHED:
        raise Open311Error(404, "no such service request")
    decimals = services.config.console.open311_coordinate_decimals
    # The spec answers a single request as a list of one.
    return web.json_response([to_request(report, decimals)], dumps=_dumps)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _error(status: int, description: str) -> web.Response:
    return web.json_response([{"code": status, "description": description}], status=status, dumps=_dumps)


@web.middleware
async def open311_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response = await handler(request)
    except Open311Error as exc:
        response = _error(exc.status, exc.description)
    except web.HTTPException as exc:
        descriptions = {404: "not found (this endpoint serves JSON: …/requests.json)", 405: "method not allowed"}
        response = _error(exc.status, descriptions.get(exc.status, exc.reason))
        if exc.status == 405:
            response.headers["Allow"] = exc.headers.get("Allow", "GET")
    except Exception:
        log.exception("open311 request failed: %s", request.path)
        response = _error(500, "internal error")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "public, max-age=60")
    return response


def build_open311_app(services: Services) -> web.Application:
    app = web.Application(middlewares=[open311_middleware])
    app[SERVICES_KEY] = services
    app.router.add_get("/services.json", services_json)
    app.router.add_get("/requests.json", requests_json)
    app.router.add_get("/requests/{case_no}.json", request_json)
    return app
