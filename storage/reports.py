"""The reports domain API, shared by the chat wizard, the staff console and the CLI.

Every function writes through the caller's session and never commits. Functions that change a report
record a history row (who, when, notes) and enqueue the notifications in the same transaction:

- ``create_report``: the wizard's confirmation; idempotent on the draft id; routes, detects duplicates,
  notifies the responsible department's and the county's bound officials.
- ``change_status``: the state machine below; notifies the reporter (and the reporters of linked
  duplicates) through the outbox (channel ``mp``, purpose ``report_update``).
- ``transfer`` / ``set_county``: re-route; notify the new unit.
- ``add_internal_note``: a staff note the reporter never sees.
- ``report_to_dict``: the JSON shape of the CLI and the console; reporter identity only with
  ``include_private=True`` (admins).

States::

    submitted ──> accepted ──> investigating ──> resolved ──> closed
        │  │                        ^                │
        │  └──> duplicate ──> accepted / closed     └──> investigating (reopened)
        └──> rejected ──> closed
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot import geo
from bot.outbox import enqueue
from handlers import texts
from storage.models import Department, Report, ReportEvent, ReportPhoto

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Category:
    """A report category: its code, label and the responsible city department(s)."""

    code: str
    label: str
    department: str
    also_notify: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


# Division of duties per the plan: pesticides and veterinary drugs → agriculture; pharmacy antibiotic
# sales → market regulation (with health); toys and student supplies → market regulation; import and
# export → customs; everything else → ecology and environment.
CATEGORIES: tuple[Category, ...] = (
    Category(
        "discharge",
        texts.REPORT_CATEGORY_LABELS["discharge"],
        "市生态环境局",
        keywords=("偷排", "直排", "排放", "排污", "废水", "废气", "有毒", "有害", "异味", "污水"),
    ),
    Category(
        "pesticide",
        texts.REPORT_CATEGORY_LABELS["pesticide"],
        "市农业农村局",
        keywords=("农药", "兽药", "包装", "农膜", "过期药", "废弃药", "兽用"),
    ),
    Category(
        "antibiotic_sale",
        texts.REPORT_CATEGORY_LABELS["antibiotic_sale"],
        "市市场监管局",
        also_notify=("市卫健委",),
        keywords=("药店", "药房", "处方", "抗生素", "抗菌药", "消炎药"),
    ),
    Category(
        "toys",
        texts.REPORT_CATEGORY_LABELS["toys"],
        "市市场监管局",
        keywords=("玩具", "文具", "学生用品", "书包", "橡皮", "儿童"),
    ),
    Category(
        "banned_chemical",
        texts.REPORT_CATEGORY_LABELS["banned_chemical"],
        "市生态环境局",
        keywords=("淘汰", "禁用", "禁止", "PFOS", "全氟", "六溴", "短链氯化石蜡", "十溴"),
    ),
    Category(
        "import_export",
        texts.REPORT_CATEGORY_LABELS["import_export"],
        "运城海关",
        keywords=("进口", "出口", "进出口", "走私", "海关"),
    ),
    Category("other", texts.REPORT_CATEGORY_LABELS["other"], "市生态环境局", keywords=("其他", "其它")),
)
CATEGORY_BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}

STATUSES: tuple[str, ...] = (
    "submitted",
    "accepted",
    "rejected",
    "duplicate",
    "investigating",
    "resolved",
    "closed",
)
OPEN_STATUSES: frozenset[str] = frozenset({"submitted", "accepted", "investigating"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"accepted", "rejected", "duplicate"}),
    "accepted": frozenset({"investigating"}),
    "duplicate": frozenset({"accepted", "closed"}),
    "investigating": frozenset({"resolved"}),
    "resolved": frozenset({"closed", "investigating"}),
    "rejected": frozenset({"closed"}),
    "closed": frozenset(),
}
SORTS: dict[str, Any] = {
    "created_at": Report.created_at,
    "updated_at": Report.updated_at,
    "case_no": Report.id,
    "status": Report.status,
    "category": Report.category,
    "county": Report.county,
    "department": Report.department,
}
MAX_NOTE_CHARS = 2000
NOTICE_REPLY_CHARS = 300  # a customer-service text stays well inside WeChat's limits
MAX_ACTOR_CHARS = 64
SYSTEM_ACTOR = "system"
REPORTER_ACTOR = "reporter"


class ReportError(ValueError):
    """A request the reports API refuses; the message (Chinese) is fit to show to staff."""


class ReportNotFound(ReportError):
    pass


@dataclass
class ReportDraft:
    """What the wizard gathered, ready to be filed by ``create_report``."""

    draft_id: str
    category: str
    description: str
    reported_object: str = ""
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    location_source: str = ""
    county: str | None = None
    county_method: str = ""
    needs_manual_routing: bool = False
    routing_note: str = ""
    real_name: bool = False
    reporter_name: str = ""
    reporter_phone: str = ""


# ---- helpers -------------------------------------------------------------------------------------


def local_zone(services: Services | None) -> ZoneInfo:
    name = services.config.reminders.timezone if services is not None else "Asia/Shanghai"
    return ZoneInfo(name)


def format_case_no(report_id: int, created_at: datetime, zone: ZoneInfo) -> str:
    """YC<local date>-<id, at least 4 digits>: unique because the id is."""
    return f"YC{created_at.astimezone(zone):%Y%m%d}-{report_id:04d}"


def normalize_case_no(text: str) -> str:
    """Accept lower case, spaces and full-width characters as the reporter may type them."""
    table = str.maketrans("０１２３４５６７８９－—ＹＣｙｃ", "0123456789--YCyc")
    return "".join(text.translate(table).split()).upper()


def category_label(code: str) -> str:
    cat = CATEGORY_BY_CODE.get(code)
    return cat.label if cat else code


def status_label(status: str) -> str:
    return texts.REPORT_STATUS_LABELS.get(status, status)


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def _mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def reporter_masked(report: Report) -> str:
    """How non-admin staff see the reporter: anonymous, or a masked name and phone."""
    if not report.real_name:
        return texts.REPORTER_MASK_ANONYMOUS
    return texts.REPORTER_MASK_REAL.format(
        name=_mask_name(report.reporter_name), phone=_mask_phone(report.reporter_phone)
    )


def _check_actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise ReportError(texts.REPORT_ERR_ACTOR)
    return actor[:MAX_ACTOR_CHARS]


def _check_len(value: str, field: str, limit: int = MAX_NOTE_CHARS) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ReportError(texts.REPORT_ERR_TOO_LONG.format(field=field, max=limit))
    return value


def _event(report: Report, *, actor: str, kind: str, now: datetime, **fields: Any) -> ReportEvent:
    event = ReportEvent(actor=actor, kind=kind, at=now, **fields)
    report.events.append(event)
    return event


def console_url(services: Services, case_no: str) -> str:
    return f"{services.config.server.public_base_url.rstrip('/')}/console/reports/{case_no}"


# ---- reading -------------------------------------------------------------------------------------


async def get_report(session: AsyncSession, case_no: str) -> Report | None:
    """The report with this case number (lenient about case and full-width digits), photos and history loaded."""
    return await session.scalar(select(Report).where(Report.case_no == normalize_case_no(case_no)))


async def get_report_for_update(session: AsyncSession, case_no: str) -> Report:
    """Like ``get_report`` but locks the row on PostgreSQL (SQLite's writers already serialize)."""
    stmt = select(Report).where(Report.case_no == normalize_case_no(case_no)).with_for_update()
    report = await session.scalar(stmt)
    if report is None:
        raise ReportNotFound(texts.REPORT_ERR_NOT_FOUND.format(case_no=case_no))
    return report


def _filtered(
    stmt: Select[Any],
    *,
    status: str | None,
    category: str | None,
    county: str | None,
    department: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
    reporter_openid: str | None = None,
) -> Select[Any]:
    if status:
        stmt = stmt.where(Report.status == status)
    if category:
        stmt = stmt.where(Report.category == category)
    if county:
        stmt = stmt.where(Report.county.is_(None)) if county == "-" else stmt.where(Report.county == county)
    if department:
        stmt = stmt.where(Report.department == department)
    if date_from is not None:
        stmt = stmt.where(Report.created_at >= date_from)
    if date_to is not None:
        stmt = stmt.where(Report.created_at < date_to)
    if reporter_openid is not None:
        stmt = stmt.where(Report.reporter_openid == reporter_openid)
    return stmt


async def list_reports(
    session: AsyncSession,
    *,
    status: str | None = None,
    category: str | None = None,
    county: str | None = None,
    department: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    sort: str = "-created_at",
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Report], int]:
    """A page of reports and the total matching the filters.

    ``county="-"`` selects reports awaiting manual routing (no county). ``date_to`` is exclusive.
    ``sort`` is a key of ``SORTS`` with an optional leading ``-`` for descending; unknown keys fall back
    to ``-created_at``. Ties are broken by id so pages are stable.
    """
    filters = dict(
        status=status, category=category, county=county, department=department, date_from=date_from, date_to=date_to
    )
    total = await session.scalar(_filtered(select(func.count(Report.id)), **filters)) or 0
    descending = sort.startswith("-")
    column = SORTS.get(sort.lstrip("-"))
    if column is None:
        column, descending = Report.created_at, True
    order = [column.desc(), Report.id.desc()] if descending else [column.asc(), Report.id.asc()]
    stmt = _filtered(select(Report), **filters).order_by(*order).offset(max(0, offset)).limit(max(0, min(limit, 1000)))
    return list((await session.scalars(stmt)).all()), int(total)


async def reports_of(session: AsyncSession, openid: str, *, limit: int = 10) -> list[Report]:
    """The reporter's own reports, newest first."""
    stmt = select(Report).where(Report.reporter_openid == openid).order_by(Report.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def count_reports_today(session: AsyncSession, openid: str, now: datetime, zone: ZoneInfo) -> int:
    """Reports this user filed since local midnight."""
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    stmt = select(func.count(Report.id)).where(Report.reporter_openid == openid, Report.created_at >= midnight)
    return int(await session.scalar(stmt) or 0)


async def linked_reports(session: AsyncSession, case_no: str) -> list[Report]:
    """Reports marked as duplicates of ``case_no``."""
    stmt = select(Report).where(Report.duplicate_of == case_no).order_by(Report.id)
    return list((await session.scalars(stmt)).all())


async def find_duplicate(
    session: AsyncSession,
    *,
    category: str,
    latitude: float,
    longitude: float,
    now: datetime,
    radius_m: float,
    window_days: int,
    exclude_id: int | None = None,
) -> Report | None:
    """The nearest open report of ``category`` within ``radius_m`` filed in the last ``window_days``."""
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(0.01, math.cos(math.radians(latitude))))
    stmt = select(Report).where(
        Report.category == category,
        Report.status.in_(OPEN_STATUSES),
        Report.created_at >= now - timedelta(days=window_days),
        Report.latitude.between(latitude - dlat, latitude + dlat),
        Report.longitude.between(longitude - dlon, longitude + dlon),
    )
    if exclude_id is not None:
        stmt = stmt.where(Report.id != exclude_id)
    best: tuple[float, Report] | None = None
    for candidate in (await session.scalars(stmt)).all():
        assert candidate.latitude is not None and candidate.longitude is not None
        distance = geo.haversine_m(latitude, longitude, candidate.latitude, candidate.longitude)
        if distance <= radius_m and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None


# ---- filing --------------------------------------------------------------------------------------


async def create_report(
    session: AsyncSession, services: Services, draft: ReportDraft, *, openid: str, now: datetime
) -> Report:
    """File the draft as a report (or return the report already filed from this draft).

    Attaches the draft's photos, links it to an open report nearby (status ``duplicate``), writes the
    history and enqueues the new-case notices for the department(s) and the county.
    """
    existing = await session.scalar(select(Report).where(Report.draft_id == draft.draft_id))
    if existing is not None:
        return existing
    category = CATEGORY_BY_CODE.get(draft.category)
    if category is None:
        raise ReportError(texts.REPORT_ERR_CATEGORY.format(category=draft.category))
    report = Report(
        draft_id=draft.draft_id,
        status="submitted",
        category=category.code,
        description=draft.description,
        reported_object=draft.reported_object,
        latitude=draft.latitude,
        longitude=draft.longitude,
        address=draft.address,
        location_source=draft.location_source,
        department=category.department,
        county=draft.county,
        county_method=draft.county_method if draft.county else "",
        needs_manual_routing=draft.needs_manual_routing or draft.county is None,
        routing_note=draft.routing_note,
        reporter_openid=openid,
        real_name=draft.real_name,
        reporter_name=draft.reporter_name if draft.real_name else "",
        reporter_phone=draft.reporter_phone if draft.real_name else "",
        created_at=now,
        updated_at=now,
        photos=[],
        events=[],
    )
    try:
        async with session.begin_nested():
            session.add(report)
            await session.flush()
    except IntegrityError:
        # The same draft was confirmed twice at once (two processes): the other one filed it.
        existing = await session.scalar(select(Report).where(Report.draft_id == draft.draft_id))
        if existing is None:
            raise
        return existing
    report.case_no = format_case_no(report.id, now, local_zone(services))
    _event(report, actor=REPORTER_ACTOR, kind="created", now=now, to_status="submitted")

    cfg = services.config.reports
    original = None
    if report.latitude is not None and report.longitude is not None:
        original = await find_duplicate(
            session,
            category=report.category,
            latitude=report.latitude,
            longitude=report.longitude,
            now=now,
            radius_m=cfg.duplicate_radius_m,
            window_days=cfg.duplicate_window_days,
            exclude_id=report.id,
        )
    if original is not None:
        report.status = "duplicate"
        report.duplicate_of = original.case_no
        _event(
            report,
            actor=SYSTEM_ACTOR,
            kind="status",
            now=now,
            from_status="submitted",
            to_status="duplicate",
            note=f"{original.case_no}",
            internal=True,
        )
    await session.execute(
        update(ReportPhoto)
        .where(
            ReportPhoto.draft_id == draft.draft_id,
            ReportPhoto.reporter_openid == openid,
            ReportPhoto.report_id.is_(None),
        )
        .values(report_id=report.id)
    )
    await session.flush()
    # The photos just attached, in one query (a refresh would first re-select the report itself).
    photos = await session.scalars(
        select(ReportPhoto).where(ReportPhoto.report_id == report.id).order_by(ReportPhoto.position)
    )
    set_committed_value(report, "photos", list(photos.all()))
    if original is None:
        await notify_new_case(session, services, report, now=now)
    return report


# ---- notifications -------------------------------------------------------------------------------


async def _notify_department(
    session: AsyncSession, services: Services, report: Report, department: str, *, title: str, key: str, now: datetime
) -> int:
    """One notice to a department's bound officials (the reminders area owns the contacts)."""
    from bot.notices.department import case_template, case_values, labelled
    from bot.notifications import notify_department

    zone = local_zone(services)
    assert report.case_no is not None
    values = case_values(
        report.case_no, category_label(report.category), report.county or "", report.created_at.astimezone(zone)
    )
    fields = labelled(values)
    place = report.address or ""
    detail = report.description[:300] + (f"\n{place}" if place else "")
    return await notify_department(
        session,
        services,
        department=department,
        title=title,
        fields=fields,
        detail=detail,
        url=console_url(services, report.case_no),
        dedup_key=key,
        now=now,
        template=case_template(services.config, values),
    )


async def notify_new_case(session: AsyncSession, services: Services, report: Report, *, now: datetime) -> int:
    """New-case notices to the category's department(s) and the county-level unit; returns the count."""
    category = CATEGORY_BY_CODE[report.category]
    targets = [report.department, *category.also_notify]
    if report.county:
        targets.append(geo.county_government(report.county))
    sent = 0
    for department in dict.fromkeys(targets):
        sent += await _notify_department(
            session,
            services,
            report,
            department,
            title=texts.REPORT_DEPT_NOTICE_TITLE,
            key=f"report-new:{report.case_no}:{department}",
            now=now,
        )
    return sent


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reply_part(report: Report, public_reply: str) -> str:
    """The reply or reason inside a notice, kept short (查询 shows the whole text)."""
    if report.status == "rejected":
        return texts.REPORT_NOTICE_REJECTED.format(
            reason=clip(report.reject_reason, NOTICE_REPLY_CHARS), authority=clip(report.competent_authority, 60)
        )
    return texts.REPORT_NOTICE_REPLY.format(reply=clip(public_reply, NOTICE_REPLY_CHARS)) if public_reply else ""


async def _notify_reporters(
    session: AsyncSession, report: Report, event: ReportEvent, public_reply: str, *, now: datetime
) -> None:
    """The status change to the reporter, and to the reporters of reports linked to this one."""
    assert report.case_no is not None
    reply = _reply_part(report, public_reply)
    content = texts.REPORT_UPDATE_NOTICE.format(case_no=report.case_no, status=status_label(report.status), reply=reply)
    await enqueue(
        session,
        channel="mp",
        kind="text",
        recipient=report.reporter_openid,
        payload={"content": content},
        now=now,
        dedup_key=f"report-status:{event.id}",
        purpose="report_update",
    )
    for linked in await linked_reports(session, report.case_no):
        assert linked.case_no is not None
        content = texts.REPORT_LINKED_NOTICE.format(
            case_no=linked.case_no, original=report.case_no, status=status_label(report.status), reply=reply
        )
        await enqueue(
            session,
            channel="mp",
            kind="text",
            recipient=linked.reporter_openid,
            payload={"content": content},
            now=now,
            dedup_key=f"report-status:{event.id}:{linked.id}",
            purpose="report_update",
        )


# ---- staff actions -------------------------------------------------------------------------------


async def change_status(
    session: AsyncSession,
    services: Services,
    case_no: str,
    new_status: str,
    *,
    actor: str,
    note: str = "",
    public_reply: str = "",
    reason: str = "",
    competent_authority: str = "",
    duplicate_of: str | None = None,
    now: datetime,
) -> Report:
    """Move a report along the state machine and tell the reporter.

    Required by target: ``rejected`` — ``reason`` and ``competent_authority``; ``duplicate`` —
    ``duplicate_of`` (another existing case); ``resolved`` — ``note`` (the handling result) and
    ``public_reply``. Raises ``ReportError`` (or ``ReportNotFound``) with a message fit for staff.
    """
    actor = _check_actor(actor)
    note = _check_len(note, "note")
    public_reply = _check_len(public_reply, "public_reply")
    reason = _check_len(reason, "reason")
    competent_authority = _check_len(competent_authority, "competent_authority", 128)
    if new_status not in STATUSES:
        raise ReportError(texts.REPORT_ERR_STATUS.format(status=new_status, known=", ".join(STATUSES)))
    report = await get_report_for_update(session, case_no)
    old = report.status
    allowed = TRANSITIONS[old]
    if new_status not in allowed:
        raise ReportError(
            texts.REPORT_ERR_TRANSITION.format(old=old, new=new_status, allowed=", ".join(sorted(allowed)) or "—")
        )
    original: Report | None = None
    if new_status == "rejected" and not (reason and competent_authority):
        raise ReportError(texts.REPORT_ERR_REASON)
    if new_status == "resolved" and not (note and public_reply):
        raise ReportError(texts.REPORT_ERR_RESOLVED)
    if new_status == "duplicate":
        original = await get_report(session, duplicate_of or "")
        if original is None or original.id == report.id:
            raise ReportError(texts.REPORT_ERR_DUPLICATE_OF)
        # Link to the root case, never to another duplicate.
        while original.duplicate_of and original.status == "duplicate":
            root = await get_report(session, original.duplicate_of)
            if root is None or root.id == report.id:
                break
            original = root

    report.status = new_status
    report.updated_at = now
    if new_status == "rejected":
        report.reject_reason, report.competent_authority = reason, competent_authority
    if new_status == "resolved":
        report.result = note
    if new_status == "duplicate" and original is not None:
        report.duplicate_of = original.case_no
    if old == "duplicate" and new_status == "accepted":
        report.duplicate_of = None
    if public_reply:
        report.public_reply = public_reply
    event = _event(
        report,
        actor=actor,
        kind="status",
        now=now,
        from_status=old,
        to_status=new_status,
        note=note if new_status != "rejected" else (note or reason),
        public_reply=public_reply,
    )
    await session.flush()
    await _notify_reporters(session, report, event, public_reply, now=now)
    return report


async def transfer(
    session: AsyncSession, services: Services, case_no: str, department: str, *, actor: str, note: str, now: datetime
) -> Report:
    """Hand the report to another department (any unit in ``departments``) and notify its officials."""
    actor = _check_actor(actor)
    note = _check_len(note, "note")
    known = await session.scalar(select(Department.id).where(Department.name == department))
    if known is None:
        raise ReportError(texts.REPORT_ERR_DEPARTMENT.format(department=department))
    report = await get_report_for_update(session, case_no)
    old = report.department
    report.department = department
    report.updated_at = now
    event = _event(
        report, actor=actor, kind="transfer", now=now, note=f"{old} → {department}: {note}".rstrip(": "), internal=True
    )
    await session.flush()
    await _notify_department(
        session,
        services,
        report,
        department,
        title=texts.REPORT_DEPT_TRANSFER_TITLE,
        key=f"report-transfer:{event.id}",
        now=now,
    )
    return report


async def set_county(
    session: AsyncSession,
    services: Services,
    case_no: str,
    county: str,
    *,
    actor: str,
    note: str = "",
    now: datetime,
) -> Report:
    """Route a report to a county-level unit by hand (e.g. one awaiting manual routing)."""
    actor = _check_actor(actor)
    note = _check_len(note, "note")
    if county not in geo.ROUTING_TARGETS:
        raise ReportError(texts.REPORT_ERR_COUNTY.format(county=county, known=", ".join(geo.ROUTING_TARGETS)))
    report = await get_report_for_update(session, case_no)
    old = report.county or "—"
    report.county = county
    report.county_method = "staff"
    report.needs_manual_routing = False
    report.updated_at = now
    event = _event(
        report, actor=actor, kind="county", now=now, note=f"{old} → {county}: {note}".rstrip(": "), internal=True
    )
    await session.flush()
    await _notify_department(
        session,
        services,
        report,
        geo.county_government(county),
        title=texts.REPORT_DEPT_TRANSFER_TITLE,
        key=f"report-county:{event.id}",
        now=now,
    )
    return report


async def add_internal_note(
    session: AsyncSession, case_no: str, note: str, *, actor: str, now: datetime
) -> ReportEvent:
    """A staff note in the history; never shown to the reporter."""
    actor = _check_actor(actor)
    note = _check_len(note, "note")
    if not note:
        raise ReportError(texts.REPORT_ERR_NOTE)
    report = await get_report_for_update(session, case_no)
    report.updated_at = now
    event = _event(report, actor=actor, kind="note", now=now, note=note, internal=True)
    await session.flush()
    return event


# ---- photos of drafts ----------------------------------------------------------------------------


async def add_draft_photo(
    session: AsyncSession, *, openid: str, draft_id: str | None, media_id: str, now: datetime
) -> int:
    """Queue a photo for download; returns how many photos the draft (or the pending pool) now has."""
    owner = _draft_photos(openid, draft_id)
    count = int(await session.scalar(select(func.count(ReportPhoto.id)).where(*owner)) or 0)
    session.add(
        ReportPhoto(
            draft_id=draft_id,
            reporter_openid=openid,
            position=count + 1,
            media_id=media_id[:255],
            status="pending",
            next_attempt_at=now,
            received_at=now,
        )
    )
    await session.flush()
    return count + 1


def _draft_photos(openid: str, draft_id: str | None) -> tuple[Any, ...]:
    base = (ReportPhoto.reporter_openid == openid, ReportPhoto.report_id.is_(None))
    if draft_id is None:
        return (*base, ReportPhoto.draft_id.is_(None))
    return (*base, ReportPhoto.draft_id == draft_id)


async def count_draft_photos(session: AsyncSession, openid: str, draft_id: str | None) -> int:
    return int(await session.scalar(select(func.count(ReportPhoto.id)).where(*_draft_photos(openid, draft_id))) or 0)


async def adopt_pending_photos(
    session: AsyncSession, *, openid: str, draft_id: str, since: datetime, limit: int
) -> int:
    """Attach photos sent before the report started (within the pending window) to the new draft."""
    ids = (
        await session.scalars(
            select(ReportPhoto.id)
            .where(*_draft_photos(openid, None), ReportPhoto.received_at >= since)
            .order_by(ReportPhoto.id)
            .limit(limit)
        )
    ).all()
    for position, photo_id in enumerate(ids, start=1):
        await session.execute(
            update(ReportPhoto).where(ReportPhoto.id == photo_id).values(draft_id=draft_id, position=position)
        )
    return len(ids)


async def discard_draft_photos(session: AsyncSession, *, openid: str, draft_id: str) -> int:
    """Forget a draft's photos (the reporter asked to start the photos over). Files go with the media job's purge."""
    result = await session.execute(
        update(ReportPhoto).where(*_draft_photos(openid, draft_id)).values(draft_id=f"discarded:{draft_id}"[:64])
    )
    return int(result.rowcount or 0)


# ---- output --------------------------------------------------------------------------------------


def photo_to_dict(photo: ReportPhoto) -> dict[str, Any]:
    return {
        "position": photo.position,
        "status": photo.status,
        "stored": photo.stored,
        "sha256": photo.sha256,
        "size": photo.size,
        "content_type": photo.content_type or None,
        "width": photo.width,
        "height": photo.height,
        "attempts": photo.attempts,
        "last_error": photo.last_error or None,
        "received_at": photo.received_at,
        "stored_at": photo.stored_at,
    }


def event_to_dict(event: ReportEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "actor": event.actor,
        "kind": event.kind,
        "from_status": event.from_status or None,
        "to_status": event.to_status or None,
        "note": event.note,
        "public_reply": event.public_reply,
        "internal": event.internal,
    }


def report_to_dict(report: Report, *, include_private: bool = False) -> dict[str, Any]:
    """The report as JSON-ready data (datetimes stay datetimes; ``print_json`` formats them).

    ``include_private`` adds the reporter's openid, name and phone: admins only.
    """
    data: dict[str, Any] = {
        "case_no": report.case_no,
        "status": report.status,
        "status_label": status_label(report.status),
        "category": report.category,
        "category_label": category_label(report.category),
        "description": report.description,
        "reported_object": report.reported_object,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "coordinate_system": "GCJ-02" if report.latitude is not None else None,
        "address": report.address,
        "location_source": report.location_source or None,
        "county": report.county,
        "county_method": report.county_method or None,
        "needs_manual_routing": report.needs_manual_routing,
        "routing_note": report.routing_note,
        "department": report.department,
        "duplicate_of": report.duplicate_of,
        "result": report.result,
        "public_reply": report.public_reply,
        "reject_reason": report.reject_reason,
        "competent_authority": report.competent_authority,
        "reporter": reporter_masked(report),
        "real_name": report.real_name,
        "photos": [photo_to_dict(p) for p in report.photos],
        "photos_missing": sum(1 for p in report.photos if not p.stored),
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "history": [event_to_dict(e) for e in report.events],
    }
    if include_private:
        data["reporter_private"] = {
            "openid": report.reporter_openid,
            "name": report.reporter_name,
            "phone": report.reporter_phone,
        }
    return data


__all__ = [
    "CATEGORIES",
    "CATEGORY_BY_CODE",
    "MAX_NOTE_CHARS",
    "OPEN_STATUSES",
    "SORTS",
    "STATUSES",
    "TRANSITIONS",
    "Category",
    "ReportDraft",
    "ReportError",
    "ReportNotFound",
    "add_draft_photo",
    "add_internal_note",
    "adopt_pending_photos",
    "category_label",
    "change_status",
    "count_draft_photos",
    "count_reports_today",
    "create_report",
    "discard_draft_photos",
    "event_to_dict",
    "find_duplicate",
    "format_case_no",
    "get_report",
    "get_report_for_update",
    "linked_reports",
    "list_reports",
    "local_zone",
    "normalize_case_no",
    "notify_new_case",
    "photo_to_dict",
    "report_to_dict",
    "reporter_masked",
    "reports_of",
    "set_county",
    "status_label",
    "transfer",
]
