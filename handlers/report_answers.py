"""The report wizard's text answers, one handler per step, and the confirmation that files the report."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from bot import logsafe, texts
from bot.context import Context
from bot.reports import filing, geo
from bot.reports.reporter_notice import case_page_url, outcome_promise
from bot.reports.steps import EDIT_STEPS, Step
from handlers.report_parse import (
    ANONYMOUS_WORDS,
    CLEAR_WORDS,
    CONFIRM_WORDS,
    DONE_WORDS,
    EDIT_WORDS,
    NO_WORDS,
    REAL_NAME_WORDS,
    SKIP_WORDS,
    UNKNOWN_OBJECT_WORDS,
    UNSURE_WORDS,
    YES_WORDS,
    category_match,
    check_description,
    choose_number,
    clean,
    looks_like_address,
    parse_contact,
    word,
)
from handlers.report_wizard import (
    MAX_CONTACT_CHARS,
    MAX_OBJECT_CHARS,
    advance,
    draft,
    enter,
    next_step,
    prompt,
    refusal,
    reprompt,
    routing_of,
    set_address,
    take_description,
)
from storage import report_queries
from storage.models import Report


async def on_category(ctx: Context) -> str:
    data = draft(ctx)
    code, how = category_match(ctx.text)
    if code is not None and how != "keyword":
        data["category"] = code
        data.pop("category_guess", None)
        return await advance(ctx)
    if not data.get("description") or code is not None:
        # A sentence describing the problem: keep it as the description (when none yet) and, if its
        # words point to one category, ask the reporter to confirm that category.
        noted = take_description(ctx, ctx.text) if not data.get("description") else ""
        if code is not None:
            data["category_guess"] = code
        if noted or code is not None:
            return await advance(ctx, noted)
    return await reprompt(ctx, texts.REPORT_CATEGORY_UNKNOWN + "\n")


async def on_category_confirm(ctx: Context) -> str:
    """The reporter answers the guessed category: yes, another category, or no."""
    data = draft(ctx)
    answer = word(ctx.text)
    code, how = category_match(ctx.text)
    if answer in CONFIRM_WORDS or answer in YES_WORDS:
        data["category"] = data.pop("category_guess")
        return await advance(ctx)
    if code is not None and how != "keyword":
        data["category"] = code
        data.pop("category_guess", None)
        return await advance(ctx)
    if answer in NO_WORDS:
        data.pop("category_guess", None)
        return await advance(ctx)
    return await reprompt(ctx, texts.REPORT_CONFIRM_CATEGORY_HINT + "\n")


async def on_description(ctx: Context) -> str:
    cfg = ctx.services.config.reports
    checked = check_description(ctx.text, min_hanzi=cfg.min_description_hanzi, max_chars=cfg.max_description_chars)
    if not checked.ok:
        if checked.problem == "long":
            problem = texts.REPORT_DESCRIPTION_LONG.format(n=len(checked.value), max=cfg.max_description_chars)
        else:
            problem = texts.REPORT_DESCRIPTION_SHORT.format(min=cfg.min_description_hanzi)
        return problem
    data = draft(ctx)
    if data.get("description") != checked.value:
        data.pop("object", None)
    data["description"] = checked.value
    return await advance(ctx)


async def on_location_text(ctx: Context) -> str:
    cfg = ctx.services.config.reports
    typed = ctx.text.strip()  # stored as typed; matched in normalized form
    if len(typed) > cfg.max_address_chars:
        return await reprompt(ctx, texts.REPORT_ADDRESS_LONG.format(max=cfg.max_address_chars) + "\n")
    if not looks_like_address(typed):
        return await reprompt(ctx, texts.REPORT_NOT_ADDRESS)
    return await advance(ctx, set_address(ctx, typed))


async def on_object(ctx: Context) -> str:
    typed = ctx.text.strip()
    if len(typed) > MAX_OBJECT_CHARS:
        return await reprompt(ctx, texts.REPORT_OBJECT_LONG.format(max=MAX_OBJECT_CHARS) + "\n")
    draft(ctx)["object"] = "" if word(typed) in UNKNOWN_OBJECT_WORDS else typed
    return await advance(ctx)


async def on_county(ctx: Context) -> str:
    data = draft(ctx)
    candidates: list[str] = data.get("county_candidates") or list(geo.routing_targets())
    answer = word(ctx.text)
    pin = data.get("lat") is not None
    joined = "、".join(candidates)
    if answer in UNSURE_WORDS:
        if pin:
            fallback = data.get("county") or candidates[0]
            routing_of(
                data,
                county=fallback,
                method="nearest_seat",
                state="manual",
                note=texts.REPORT_NOTE_BORDER_UNSURE.format(candidates=joined, county=fallback),
            )
        else:
            routing_of(data, county=None, method="", state="manual", note=texts.REPORT_NOTE_ADDRESS_UNSURE)
        return await advance(ctx, texts.REPORT_COUNTY_MANUAL + "\n")
    number = choose_number(ctx.text, len(candidates))
    chosen = candidates[number - 1] if number else geo.county_from_text(clean(ctx.text))
    if chosen is None or chosen not in geo.routing_targets():
        return await reprompt(ctx, texts.REPORT_COUNTY_UNKNOWN + "\n")
    note = (
        texts.REPORT_NOTE_BORDER.format(candidates=joined, county=chosen)
        if pin
        else texts.REPORT_NOTE_ADDRESS_CHOSEN.format(county=chosen)
    )
    routing_of(data, county=chosen, method="reporter", state="ok", note=note)
    return await advance(ctx, texts.REPORT_COUNTY_SET.format(county=chosen) + "\n")


async def on_photos_text(ctx: Context) -> str:
    answer = word(ctx.text)
    data = draft(ctx)
    if answer in CLEAR_WORDS:
        await report_queries.discard_draft_photos(ctx.session, openid=ctx.openid, draft_id=data["draft_id"])
        return await reprompt(ctx, texts.REPORT_PHOTOS_CLEARED + "\n")
    if answer in DONE_WORDS or answer in SKIP_WORDS:
        data["photos_done"] = True
        return await advance(ctx)
    return await reprompt(ctx, texts.REPORT_NEED_PHOTO_OR_DONE + "\n")


async def _take_contact(ctx: Context, text: str) -> str:
    contact = parse_contact(text)
    data = draft(ctx)
    if contact.problem == "phone":
        data["contact_pending"] = True
        return await advance(ctx, texts.REPORT_BAD_PHONE + "\n")
    if contact.problem in ("name", "none"):
        data["contact_pending"] = True
        problem = texts.REPORT_BAD_NAME if contact.problem == "name" else ""
        return await advance(ctx, problem + ("\n" if problem else ""))
    data.pop("contact_pending", None)
    data["contact"] = {"mode": "real", "name": contact.name, "phone": contact.phone}
    logsafe.remember(contact.name, contact.phone)
    return await advance(ctx)


async def on_contact(ctx: Context) -> str:
    answer = word(ctx.text)
    data = draft(ctx)
    if len(ctx.text) > MAX_CONTACT_CHARS:
        return await reprompt(ctx, texts.REPORT_TEXT_TOO_LONG.format(max=MAX_CONTACT_CHARS) + "\n")
    if answer in ANONYMOUS_WORDS:
        data.pop("contact_pending", None)
        data["contact"] = {"mode": "anonymous"}
        return await advance(ctx)
    if answer in REAL_NAME_WORDS:
        data["contact_pending"] = True
        data.pop("contact", None)
        return await advance(ctx)
    if any(ch.isdigit() for ch in answer):
        return await _take_contact(ctx, ctx.text)
    return await reprompt(ctx)


async def on_contact_details(ctx: Context) -> str:
    answer = word(ctx.text)
    data = draft(ctx)
    if len(ctx.text) > MAX_CONTACT_CHARS:
        return await reprompt(ctx, texts.REPORT_TEXT_TOO_LONG.format(max=MAX_CONTACT_CHARS) + "\n")
    if answer in ANONYMOUS_WORDS - {"1"}:
        data.pop("contact_pending", None)
        data["contact"] = {"mode": "anonymous"}
        return await advance(ctx)
    return await _take_contact(ctx, ctx.text)


async def on_edit(ctx: Context) -> str:
    answer = word(ctx.text)
    data = draft(ctx)
    number = choose_number(ctx.text, len(EDIT_STEPS))
    if number is None:
        names = {texts.REPORT_STEP_NAMES[s.key]: s for s in EDIT_STEPS}
        step = next((s for name, s in names.items() if answer and answer in name), None)
    else:
        step = EDIT_STEPS[number - 1]
    if step is None:
        return await reprompt(ctx, texts.REPORT_EDIT_UNKNOWN + "\n")
    if step is Step.CATEGORY:
        data.pop("category", None)
        data.pop("category_guess", None)
    elif step is Step.DESCRIPTION:
        data.pop("description", None)
        data.pop("object", None)
    elif step is Step.LOCATION:
        for key in (
            "lat",
            "lon",
            "address",
            "location_source",
            "county",
            "county_method",
            "county_state",
            "county_candidates",
            "routing_note",
            "object",
        ):
            data.pop(key, None)
    elif step is Step.PHOTOS:
        data["photos_done"] = False
    elif step is Step.CONTACT:
        data.pop("contact", None)
        data.pop("contact_pending", None)
    return await advance(ctx)


def to_report_draft(data: dict[str, Any]) -> filing.ReportDraft:
    contact = data.get("contact") or {}
    real = contact.get("mode") == "real"
    state = data.get("county_state")
    return filing.ReportDraft(
        draft_id=data["draft_id"],
        category=data["category"],
        description=data["description"],
        reported_object=data.get("object") or "",
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        address=data.get("address") or "",
        location_source=data.get("location_source") or "",
        county=data.get("county"),
        county_method=data.get("county_method") or "",
        needs_manual_routing=state in ("outside", "manual") or not data.get("county"),
        routing_note=data.get("routing_note") or "",
        real_name=real,
        reporter_name=contact.get("name", "") if real else "",
        reporter_phone=contact.get("phone", "") if real else "",
    )


async def submit(ctx: Context) -> str:
    """File the draft (idempotent on the draft id) and say what happens next."""
    data = draft(ctx)
    if next_step(data) is not Step.CONFIRM:
        return await advance(ctx)
    filed = to_report_draft(data)
    # Whatever fails from here on (the database, say), no log line of this push may name the reporter.
    logsafe.remember(filed.reporter_name, filed.reporter_phone, filed.latitude, filed.longitude, filed.address)
    existing = await ctx.session.scalar(select(Report).where(Report.draft_id == data["draft_id"]))
    if existing is None:
        refused = await refusal(ctx)
        if refused:
            return refused
    report = existing or await filing.create_report(ctx.session, ctx.services, filed, openid=ctx.openid, now=ctx.now)
    ctx.conversation.clear()
    if report.status == "duplicate":
        return texts.REPORT_SUBMITTED_DUPLICATE.format(case_no=report.case_no, original=report.duplicate_of)
    routing = report.department
    if report.county:
        routing += "、" + geo.county_government(report.county)
    if report.needs_manual_routing:
        routing += texts.REPORT_ROUTING_MANUAL
    assert report.case_no is not None
    page = await case_page_url(ctx.session, ctx.services.config, report.case_no, ctx.now)
    outcome = outcome_promise(ctx.services.config, report.case_no, page)
    return texts.REPORT_SUBMITTED.format(case_no=report.case_no, routing=routing, outcome=outcome)


async def on_confirm(ctx: Context) -> str:
    answer = word(ctx.text)
    if answer in CONFIRM_WORDS:
        return await submit(ctx)
    if answer in EDIT_WORDS:
        enter(ctx, Step.EDIT)
        return await prompt(ctx, Step.EDIT)
    return await reprompt(ctx, texts.REPORT_CONFIRM_HINT + "\n")


TEXT_STEPS: dict[Step, Callable[[Context], Awaitable[str]]] = {
    Step.CATEGORY: on_category,
    Step.CATEGORY_CONFIRM: on_category_confirm,
    Step.DESCRIPTION: on_description,
    Step.LOCATION: on_location_text,
    Step.OBJECT: on_object,
    Step.COUNTY: on_county,
    Step.PHOTOS: on_photos_text,
    Step.CONTACT: on_contact,
    Step.CONTACT_DETAILS: on_contact_details,
    Step.EDIT: on_edit,
    Step.CONFIRM: on_confirm,
}
