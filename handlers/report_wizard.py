"""The report wizard's steps: what each state accepts, which step comes next, what each prompt says.

The draft lives in the conversation data (saved in the message's transaction, expiring after
``[reports] draft_expiry_hours``); photos are ``report_photos`` rows tagged with the draft id. The next
step is always "the first thing still missing", so a location or photo sent early simply fills its
slot, and 修改 only has to forget one answer (see docs/report-wizard.md for the diagram).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from bot import texts
from bot.context import Context
from bot.reports import catalog, geo
from bot.reports.steps import EDIT_STEPS, PREFIX, Step
from handlers.report_parse import (
    check_description,
    clean,
    guess_category,
    needs_source,
)
from storage import report_queries
from storage.models import ReportPendingLocation

MAX_OBJECT_CHARS = 200
MAX_CONTACT_CHARS = 100


def current_step(ctx: Context) -> Step | None:
    return Step.of(ctx.conversation.state)


def enter(ctx: Context, step: Step, **data: Any) -> None:
    """Put the conversation on ``step`` (stored as its value, e.g. "report:location")."""
    ctx.conversation.set(step.value, ttl=draft_ttl(ctx), **data)


def draft(ctx: Context) -> dict[str, Any]:
    return ctx.conversation.data


def draft_ttl(ctx: Context) -> timedelta:
    return timedelta(hours=ctx.services.config.reports.draft_expiry_hours)


def next_step(data: dict[str, Any]) -> Step:
    """The first step whose answer is still missing."""
    if not data.get("category"):
        return Step.CATEGORY_CONFIRM if data.get("category_guess") else Step.CATEGORY
    if not data.get("description"):
        return Step.DESCRIPTION
    if data.get("lat") is None and not data.get("address"):
        return Step.LOCATION
    if needs_source(data["description"], data["category"]) and "object" not in data:
        return Step.OBJECT
    if data.get("county_state") == "ask":
        return Step.COUNTY
    if not data.get("photos_done"):
        return Step.PHOTOS
    if data.get("contact_pending"):
        return Step.CONTACT_DETAILS
    if not data.get("contact"):
        return Step.CONTACT
    return Step.CONFIRM


async def photo_count(ctx: Context) -> int:
    return await report_queries.count_draft_photos(ctx.session, ctx.openid, draft(ctx).get("draft_id"))


def _numbered(items: list[str] | tuple[str, ...]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


def location_text(data: dict[str, Any]) -> str:
    if data.get("lat") is not None:
        label = data.get("address") or ""
        coords = f"{data['lat']:.5f}, {data['lon']:.5f}"
        return f"{label}（{coords}）" if label else coords
    return data.get("address") or texts.REPORT_LOCATION_NONE


async def prompt(ctx: Context, step: Step) -> str:
    """What to send next, for ``step``."""
    cfg = ctx.services.config.reports
    data = draft(ctx)
    if step is Step.CATEGORY:
        return texts.REPORT_ASK_CATEGORY.format(options=_numbered([c.label for c in catalog.categories()]))
    if step is Step.CATEGORY_CONFIRM:
        return texts.REPORT_CONFIRM_CATEGORY.format(
            category=catalog.category_label(data.get("category_guess", "")),
            options=_numbered([c.label for c in catalog.categories()]),
        )
    if step is Step.DESCRIPTION:
        return texts.REPORT_ASK_DESCRIPTION.format(min=cfg.min_description_hanzi, max=cfg.max_description_chars)
    if step is Step.LOCATION:
        return texts.REPORT_ASK_LOCATION
    if step is Step.OBJECT:
        return texts.REPORT_ASK_OBJECT
    if step is Step.COUNTY:
        options = _numbered(data.get("county_candidates") or list(geo.routing_targets()))
        template = texts.REPORT_ASK_COUNTY_BORDER if data.get("lat") is not None else texts.REPORT_ASK_COUNTY_ADDRESS
        return template.format(options=options)
    if step is Step.PHOTOS:
        count = await photo_count(ctx)
        if count:
            return texts.REPORT_ASK_PHOTOS_MORE.format(n=count, left=max(0, cfg.max_photos - count))
        return texts.REPORT_ASK_PHOTOS.format(max=cfg.max_photos)
    if step is Step.CONTACT:
        return texts.REPORT_ASK_CONTACT.format(identity_days=ctx.services.config.privacy.closed_identity_days)
    if step is Step.CONTACT_DETAILS:
        return texts.REPORT_ASK_CONTACT_DETAILS
    if step is Step.EDIT:
        return texts.REPORT_EDIT_MENU.format(options=_numbered([texts.REPORT_STEP_NAMES[s.key] for s in EDIT_STEPS]))
    return await summary(ctx)


async def summary(ctx: Context) -> str:
    data = draft(ctx)
    contact = data.get("contact") or {}
    if contact.get("mode") == "real":
        who = texts.REPORT_CONTACT_REAL.format(name=contact["name"], phone=contact["phone"])
    else:
        who = texts.REPORT_CONTACT_ANONYMOUS
    obj = data.get("object") or ""
    return texts.REPORT_SUMMARY.format(
        category=catalog.category_label(data.get("category", "")),
        description=data.get("description", ""),
        object_line=texts.REPORT_SUMMARY_OBJECT.format(object=obj) if obj else "",
        location=location_text(data),
        county=data.get("county") or texts.REPORT_COUNTY_PENDING,
        photos=await photo_count(ctx),
        contact=who,
    )


async def advance(ctx: Context, prefix: str = "") -> str:
    """Move to the first missing step and say what to send."""
    step = next_step(draft(ctx))
    enter(ctx, step)
    return prefix + await prompt(ctx, step)


async def reprompt(ctx: Context, prefix: str = "") -> str:
    """Stay on the current step, repeating its prompt after ``prefix``."""
    step = current_step(ctx) or next_step(draft(ctx))  # an unknown stored step: the first gap
    enter(ctx, step)
    return prefix + await prompt(ctx, step)


# ---- starting ------------------------------------------------------------------------------------


async def refusal(ctx: Context) -> str | None:
    """Why this user may not file a report now (block list, daily limit), or None."""
    cfg = ctx.services.config.reports
    if ctx.openid in cfg.blocked_openids:
        return texts.REPORT_BLOCKED
    filed = await report_queries.count_reports_today(ctx.session, ctx.openid, ctx.now, catalog.local_zone(ctx.services))
    if filed >= cfg.max_per_day:
        return texts.REPORT_LIMIT_REACHED.format(n=filed)
    return None


async def start(ctx: Context, description: str = "") -> str:
    """Open a new draft, adopting a photo or location sent shortly before."""
    cfg = ctx.services.config.reports
    notes = ""
    if ctx.conversation.expired_state and ctx.conversation.expired_state.startswith(PREFIX):
        notes += texts.REPORT_DRAFT_EXPIRED.format(hours=cfg.draft_expiry_hours)
    refused = await refusal(ctx)
    if refused:
        ctx.conversation.clear()
        return notes + refused
    ctx.conversation.clear()
    draft_id = uuid.uuid4().hex
    enter(ctx, Step.CATEGORY, draft_id=draft_id)
    since = ctx.now - timedelta(minutes=cfg.pending_attachment_minutes)
    adopted = await report_queries.adopt_pending_photos(
        ctx.session, openid=ctx.openid, draft_id=draft_id, since=since, limit=cfg.max_photos
    )
    items = [texts.REPORT_ATTACHED_PHOTOS.format(n=adopted)] if adopted else []
    pending = await ctx.session.get(ReportPendingLocation, ctx.openid)
    if pending is not None:
        if pending.received_at >= since:
            set_pin(ctx, pending.latitude, pending.longitude, pending.label)
            items.append(texts.REPORT_ATTACHED_LOCATION)
        await ctx.session.execute(delete(ReportPendingLocation).where(ReportPendingLocation.openid == ctx.openid))
    if items:
        notes += texts.REPORT_ATTACHED_ON_START.format(items=texts.REPORT_ATTACHED_JOIN.join(items))
    if description:
        notes += take_description(ctx, description)
    return await advance(ctx, texts.REPORT_START.format(hours=cfg.draft_expiry_hours) + notes)


def take_description(ctx: Context, text: str) -> str:
    """Keep a description typed before it was asked for (exactly as typed) and guess its category from
    its words, to be confirmed; returns what to tell the reporter."""
    cfg = ctx.services.config.reports
    checked = check_description(text, min_hanzi=cfg.min_description_hanzi, max_chars=cfg.max_description_chars)
    if not checked.ok:
        if checked.problem == "long":
            return texts.REPORT_DESCRIPTION_LONG.format(n=len(checked.value), max=cfg.max_description_chars) + "\n"
        return ""  # a word or two after 我要举报: the description step asks properly later
    data = draft(ctx)
    if data.get("description") != checked.value:
        data.pop("object", None)
    data["description"] = checked.value
    guess = guess_category(checked.value)
    if guess and not data.get("category"):
        data["category_guess"] = guess
    return texts.REPORT_DESCRIPTION_NOTED.format(excerpt=excerpt(checked.value)) + "\n"


def excerpt(text: str, limit: int = 30) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ---- locations and photos, accepted at any step ---------------------------------------------------


def routing_of(
    data: dict[str, Any], *, county: str | None, method: str, state: str, note: str, candidates: list[str] | None = None
) -> None:
    data.update(
        county=county, county_method=method, county_state=state, routing_note=note, county_candidates=candidates or []
    )


def set_pin(ctx: Context, lat: float, lon: float, label: str) -> str:
    """Record a WeChat location (GCJ-02, as received) and route it; returns a note for the reply."""
    cfg = ctx.services.config.reports
    data = draft(ctx)
    data.update(lat=lat, lon=lon, address=label.strip()[: cfg.max_address_chars], location_source="pin")
    guess = geo.locate_point(lat, lon, label, border_ratio=cfg.border_ratio, seat_radius_km=cfg.seat_radius_km)
    if guess.outside:
        routing_of(data, county=None, method="", state="outside", note=texts.REPORT_NOTE_OUTSIDE)
        return texts.REPORT_OUTSIDE + "\n"
    if guess.near_border:
        routing_of(
            data, county=guess.county, method="nearest_seat", state="ask", note="", candidates=list(guess.candidates)
        )
        return ""
    note = (
        texts.REPORT_NOTE_LABEL.format(county=guess.county)
        if guess.method == "label"
        else texts.REPORT_NOTE_NEAREST.format(county=guess.county, km=guess.distance_km)
    )
    routing_of(data, county=guess.county, method=guess.method, state="ok", note=note)
    return texts.REPORT_COUNTY_SET.format(county=guess.county) + "\n"


def set_address(ctx: Context, address: str) -> str:
    """Keep the address as typed; the county is read from its normalized form."""
    data = draft(ctx)
    data.update(lat=None, lon=None, address=address, location_source="typed")
    guess = geo.locate_address(clean(address))
    if guess.county is not None:
        routing_of(
            data,
            county=guess.county,
            method="address",
            state="ok",
            note=texts.REPORT_NOTE_ADDRESS.format(county=guess.county),
        )
        return texts.REPORT_COUNTY_SET.format(county=guess.county) + "\n"
    routing_of(data, county=None, method="", state="ask", note="", candidates=list(geo.routing_targets()))
    return ""


async def attach_location(ctx: Context) -> str:
    loc = ctx.incoming.location
    assert loc is not None
    if not geo.valid_coordinates(loc.latitude, loc.longitude):
        return await reprompt(ctx, texts.REPORT_LOCATION_INVALID + "\n")
    note = set_pin(ctx, loc.latitude, loc.longitude, loc.label)
    shown = texts.REPORT_LOCATION_ADDED.format(location=location_text(draft(ctx))) + "\n"
    return await advance(ctx, shown + note)


async def attach_photo(ctx: Context) -> str:
    cfg = ctx.services.config.reports
    count = await photo_count(ctx)
    if count >= cfg.max_photos:
        return await reprompt(ctx, texts.REPORT_PHOTO_LIMIT.format(max=cfg.max_photos) + "\n")
    if not ctx.incoming.media_id:
        return await reprompt(ctx, texts.REPORT_NEED_PHOTO_OR_DONE + "\n")
    count = await report_queries.add_draft_photo(
        ctx.session,
        openid=ctx.openid,
        draft_id=draft(ctx)["draft_id"],
        media_id=ctx.incoming.media_id,
        now=ctx.now,
        pic_url=ctx.incoming.pic_url,
    )
    if current_step(ctx) is Step.PHOTOS:
        return await reprompt(ctx, texts.REPORT_PHOTO_ADDED.format(n=count) + "\n")
    return await advance(ctx, texts.REPORT_PHOTO_ADDED_ASIDE.format(n=count) + "\n")


# ---- text answers, one handler per step -----------------------------------------------------------


# ---- confirmation --------------------------------------------------------------------------------








