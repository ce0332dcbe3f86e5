"""Failed deliveries for admins: outbox rows (notices, replies, reminder digests) dead, waiting or retrying, with
the WeChat error and its meaning; retry now, send by the contact's other route, or discard (all audited).
Configuration errors (IP whitelist, API permission, template id …) are shown as alerts above the list."""

from __future__ import annotations

from collections import Counter

from aiohttp import web

from bot import texts
from bot.console.common import client_ip, console_of, fail, redirect, render, require_admin, session_of
from bot.outbound.notify import template_data, template_id_for, textcard
from storage import failed_deliveries as fd
from storage.outbox import enqueue
from storage.staff import record_audit


async def deliveries_page(request: web.Request) -> web.Response:
    require_admin(request)
    console = console_of(request)
    async with console.services.database.session() as db:
        rows = await fd.list_failed(db)
    config_errors = Counter(r.errcode for r in rows if r.errcode in fd.CONFIG_ERRCODES)
    alerts = [
        texts.DELIVERY_CONFIG_ALERT.format(
            count=n, errcode=code, meaning=texts.ERRCODE_MEANINGS.get(code, ""), fix=texts.ERRCODE_FIXES.get(code, "")
        )
        for code, n in sorted(config_errors.items())
    ]
    return render(
        request,
        "deliveries.html",
        {
            "rows": rows,
            "alerts": alerts,
            "states": texts.DELIVERY_STATES,
            "sources": texts.DELIVERY_SOURCES,
            "purposes": texts.DELIVERY_PURPOSES,
            "actions": texts.DELIVERY_ACTIONS,
            "meaning": lambda code: texts.ERRCODE_MEANINGS.get(code, texts.ERRCODE_UNKNOWN) if code is not None else "",
        },
    )


async def delivery_action(request: web.Request) -> web.Response:
    staff = require_admin(request)
    source, action = request.match_info["source"], request.match_info["action"]
    if source not in fd.SOURCES or action not in fd.ACTIONS:
        raise fail(404)
    try:
        row_id = int(request.match_info["row_id"])
    except ValueError:
        raise fail(404) from None
    console = console_of(request)
    now = console.services.now()
    async with console.services.database.session() as db:
        try:
            if action == "retry":
                await fd.retry_now(db, source, row_id, now)
            elif action == "discard":
                await fd.discard(db, source, row_id)
            else:
                await _reroute(db, console.services.config, source, row_id, now)
        except fd.DeliveryActionError as exc:
            raise fail(409, texts.reason(exc)) from None
        await record_audit(
            db,
            actor=staff.username,
            action=f"delivery_{action}",
            ip=client_ip(request),
            now=now,
            detail={"source": source, "id": row_id},
        )
        await db.commit()
    session_of(request).flash(texts.DELIVERY_DONE[action].format(source=texts.DELIVERY_SOURCES[source], id=row_id))
    return redirect("/console/deliveries")


async def _reroute(db, config, source: str, row_id: int, now) -> None:  # type: ignore[no-untyped-def]
    """A new outbox row on the contact's other channel with the same content; the old row is closed."""
    row = await fd._load(db, source, row_id)
    route = await fd.other_route(db, row.channel, row.recipient)
    if route is None:
        raise fd.DeliveryActionError("delivery_no_route")
    channel, recipient = route
    title, lines, url = fd.lines_of(row.channel, row.kind, row.payload if isinstance(row.payload, dict) else {})
    if row.kind == "notice":  # channel-neutral: the same notice, mapped by the other channel when sent
        new_kind, payload = "notice", dict(row.payload)
    elif channel == "wecom":
        new_kind, payload = "textcard", textcard(title or texts.DELIVERY_REROUTED_TITLE, {}, "\n".join(lines), url)
    else:
        fields = {str(i): line for i, line in enumerate(lines)}
        new_kind = "template"
        payload = {"template_id": template_id_for(config), "data": template_data(config, fields), "url": url}
    if not await enqueue(
        db, channel=channel, kind=new_kind, recipient=recipient, payload=payload, now=now,
        dedup_key=f"reroute:{source}:{row_id}", purpose=row.purpose,
    ):  # fmt: skip
        raise fd.DeliveryActionError("delivery_already_rerouted", source=source, id=row_id)
    row.status, row.claimed_until = "rerouted", None
