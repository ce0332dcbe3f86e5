"""Notices to a department's contacts (new cases, unreachable contacts, …) through the durable outbox.

``notify_department`` writes one outbox row per active contact in the caller's transaction, so the notice
exists exactly when the caller's own change does; the outbox worker sends it later. Template messages
follow the 2023 rules: each field one line of at most 20 characters, details behind the url.

``fields`` maps a human label to a value, in order. For 公众号 template messages the values fill the
template's keys from ``[reminders] template_keys`` in the same order (extra fields are left to the page
behind the url); for WeCom textcards they become "label：value" lines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.outbound.channels.sandbox_rules import SANDBOX_TEMPLATE_ID
from bot.services import Services
from bot.wechat.typed_values import Value, ValueMismatch, display, fit_values
from storage.contacts import DepartmentError, contacts_of_department, resolve_department
from storage.models.reminders import Contact
from storage.outbox import enqueue

log = logging.getLogger(__name__)

TEMPLATE_FIELD_MAX = 20
TEXTCARD_TITLE_MAX_BYTES = 128
TEXTCARD_DESCRIPTION_MAX_BYTES = 512
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TemplateMessage:
    """A notice's own 公众号 template: its id and the values already written in each key's type."""

    template_id: str
    data: Mapping[str, str]


def one_line(value: object, limit: int = TEMPLATE_FIELD_MAX) -> str:
    """A template field value: line breaks and runs of spaces become one space; longer values end in "…"."""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary, ending in "…" when cut."""
    if len(text.encode("utf-8")) <= limit:
        return text
    budget = limit - len("…".encode())
    out = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return out + "…"


def template_id_for(config: Config) -> str:
    """The configured template; the sandbox records messages without one, so it gets a placeholder."""
    return config.reminders.template_id or (SANDBOX_TEMPLATE_ID if config.uses_sandbox else "")


def template_data(config: Config, fields: Mapping[str, Value | None]) -> dict[str, str]:
    """Positional mapping of labelled values onto ``[reminders] template_keys``, each written in its key's
    type (``bot.wechat.typed_values``); empty values are left out."""
    data: dict[str, str] = {}
    for (label, value), key in zip(fields.items(), config.reminders.template_keys, strict=False):
        try:
            data.update(fit_values({label: key}, {label: value}))
        except ValueMismatch as exc:  # left empty rather than refused by WeChat (the url has the details)
            log.error("notice field %s left out: %s", label, exc)
    return data


def textcard(title: str, fields: Mapping[str, Value], detail: str, url: str) -> dict[str, str]:
    lines = [f"{label}：{display(value)}" for label, value in fields.items()]
    if detail:
        lines.append(detail.strip())
    return {
        "title": clip_bytes(one_line(title, 200), TEXTCARD_TITLE_MAX_BYTES),
        "description": clip_bytes("\n".join(lines), TEXTCARD_DESCRIPTION_MAX_BYTES),
        "url": url,
    }


def route_for(config: Config, contact: Contact) -> tuple[str, str] | None:
    """(channel, recipient) for a contact: the ``[reminders] channel`` when the contact has that kind of
    address, else the address it has (a WeCom-only contact still gets WeCom, a follower still gets 公众号)."""
    mp = ("mp", contact.openid) if contact.openid else None
    wecom = ("wecom", contact.wecom_userid) if contact.wecom_userid else None
    preferred, other = (wecom, mp) if config.reminders.channel == "wecom" else (mp, wecom)
    return preferred or other


def message_payload(
    config: Config,
    channel: str,
    *,
    title: str,
    fields: Mapping[str, Value],
    detail: str,
    url: str,
    template: TemplateMessage | None = None,
) -> tuple[str, dict[str, Any]]:
    """(kind, payload) for one message on ``channel`` in the outbox's payload format. ``template`` is the
    notice's own 公众号 template (id and typed data); without it the reminders' template takes the fields
    by position."""
    if channel == "wecom":
        return "textcard", textcard(title, fields, detail, url)
    if template is not None:
        return "template", {"template_id": template.template_id, "data": dict(template.data), "url": url}
    return "template", {"template_id": template_id_for(config), "data": template_data(config, fields), "url": url}


async def notify_department(
    session: AsyncSession,
    services: Services,
    *,
    department: str,
    title: str,
    fields: Mapping[str, Value],
    detail: str,
    url: str,
    dedup_key: str,
    now: datetime,
    purpose: str = "notice",
    template: TemplateMessage | None = None,
) -> int:
    """Enqueue one message per active contact of ``department``; returns how many were enqueued.

    ``dedup_key`` is extended per contact, so calling again with the same key adds nothing. An unknown
    department is logged and yields 0 rather than failing the caller's transaction.
    """
    try:
        dept = await resolve_department(session, department)
    except DepartmentError as exc:
        log.warning("notice %s not sent: %s", dedup_key, exc)
        return 0
    contacts = await contacts_of_department(session, dept.id)
    return await notify_contacts(
        session,
        services.config,
        contacts,
        title=title,
        fields=fields,
        detail=detail,
        url=url,
        dedup_key=dedup_key,
        now=now,
        purpose=purpose,
        template=template,
    )


async def notify_contacts(
    session: AsyncSession,
    config: Config,
    contacts: Sequence[Contact],
    *,
    title: str,
    fields: Mapping[str, Value],
    detail: str,
    url: str,
    dedup_key: str,
    now: datetime,
    purpose: str = "notice",
    template: TemplateMessage | None = None,
) -> int:
    count = 0
    for contact in contacts:
        route = route_for(config, contact)
        if route is None:
            continue
        channel, recipient = route
        kind, payload = message_payload(
            config, channel, title=title, fields=fields, detail=detail, url=url, template=template
        )
        if channel == "mp" and not payload["template_id"]:
            log.error("[reminders] template_id is empty: notice %s to contact %s not queued", dedup_key, contact.id)
            continue
        await enqueue(
            session,
            channel=channel,
            kind=kind,
            recipient=recipient,
            payload=payload,
            now=now,
            dedup_key=f"{dedup_key}:c{contact.id}",
            purpose=purpose,
        )
        count += 1
    return count
