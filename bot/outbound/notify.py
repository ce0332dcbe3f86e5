"""Notices to a department's contacts (new cases, unreachable contacts, …) through the durable outbox.

``notify_department`` writes one outbox row per active contact in the caller's transaction, so the notice
exists exactly when the caller's own change does; the outbox worker sends it later. The row's payload is
the channel-neutral ``Notice`` (kind ``notice``); the channel's form — a 公众号 template message whose
fields follow the 2023 rules (one line, at most 20 characters, details behind the url), or a WeCom
textcard — is made when it is sent (``bot.outbound.mapping``).

``fields`` maps a human label to a value, in order (``kinds`` says what each is: time, code, status, unit,
text). The to-do template takes them by position (``[reminders] template_keys``); a textcard shows them
as "label：value" lines.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.outbound.channels.sandbox_rules import SANDBOX_TEMPLATE_ID  # noqa: F401  (read from here too)
from bot.outbound.mapping import (  # noqa: F401  (read from here by the areas)
    TEMPLATE_FIELD_MAX,
    TEXTCARD_DESCRIPTION_MAX_BYTES,
    TEXTCARD_TITLE_MAX_BYTES,
    clip_bytes,
    mp_template_id,
    one_line,
    render,
    template_data,
    template_id_for,
    textcard,
)
from bot.outbound.notice import Notice, fields_of
from bot.services import Services
from bot.wechat.typed_values import Value
from storage.contacts import DepartmentError, contacts_of_department, resolve_department
from storage.models.reminders import Contact
from storage.outbox import enqueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemplateMessage:
    """A notice's own 公众号 template, values already written in each key's type (kept for callers that
    build one; a ``Notice`` with ``template="case"`` lets the 公众号 mapping do it at send time)."""

    template_id: str
    data: Mapping[str, str]


def route_for(config: Config, contact: Contact) -> tuple[str, str] | None:
    """(channel, recipient) for a contact: the ``[reminders] channel`` when the contact has that kind of
    address, else the address it has (a WeCom-only contact still gets WeCom, a follower still gets 公众号)."""
    openid, userid = contact.address("mp"), contact.address("wecom")
    mp = ("mp", openid) if openid else None
    wecom = ("wecom", userid) if userid else None
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
    """(kind, payload) for one message on ``channel`` in a channel's own form (the notice, mapped now)."""
    if channel != "wecom" and template is not None:
        return "template", {"template_id": template.template_id, "data": dict(template.data), "url": url}
    return render(config, channel, Notice(title, fields_of(fields), detail, url))


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
    kinds: Sequence[str] = (),
    notice: Notice | None = None,
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
        kinds=kinds,
        notice=notice,
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
    kinds: Sequence[str] = (),
    notice: Notice | None = None,
) -> int:
    """One row per contact with an address: the ``notice`` (else one made of ``title``, ``fields`` with
    their ``kinds``, ``detail`` and ``url``), or the given ``template`` for 公众号 contacts."""
    notice = notice or Notice(title, fields_of(fields, kinds), detail, url)
    count = 0
    for contact in contacts:
        route = route_for(config, contact)
        if route is None:
            continue
        channel, recipient = route
        kind, payload = "notice", notice.as_payload()
        if channel != "wecom" and template is not None:
            kind, payload = message_payload(
                config, channel, title=title, fields=fields, detail=detail, url=url, template=template
            )
        if channel == "mp" and not (template.template_id if template else mp_template_id(config, notice)):
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
