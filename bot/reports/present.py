"""How a report is shown: the reporter masked for staff, and the JSON shape of the console, the CLI and exports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import texts
from bot.reports.catalog import category_label, status_label
from storage.models import Report, ReportEvent, ReportPhoto

if TYPE_CHECKING:
    pass


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def _mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def reporter_masked(report: Report) -> str:
    """How non-admin staff see the reporter: anonymous, or a masked name and phone."""
    if report.identity_erased_at is not None:
        return texts.REPORTER_MASK_ERASED
    if not report.real_name:
        return texts.REPORTER_MASK_ANONYMOUS
    return texts.REPORTER_MASK_REAL.format(
        name=_mask_name(report.reporter_name), phone=_mask_phone(report.reporter_phone)
    )


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
