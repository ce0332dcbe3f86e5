"""``notices test``: one real new-case notice to each bound contact of a department, sent now (not through
the outbox) so that WeChat's answer can be shown to the operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import texts
from bot.outbound.channels.base import ChannelError
from bot.outbound.notify import render, route_for
from bot.reports.department_notice import case_notice, case_values
from bot.services import Services
from bot.wechat.typed_values import ValueMismatch
from storage.contacts import contacts_of_department, resolve_department
from storage.report_queries import format_case_no


@dataclass(frozen=True)
class TrialResult:
    contact: str
    channel: str
    accepted: bool
    answer: str


async def send_test_notice(services: Services, department: str, now: datetime, zone) -> list[TrialResult]:  # type: ignore[no-untyped-def]
    """Raises ``DepartmentError`` for an unknown department; a contact without an address is reported."""
    async with services.database.session() as session:
        dept = await resolve_department(session, department)
        contacts = await contacts_of_department(session, dept.id)
    local = now.astimezone(zone)
    values = case_values(format_case_no(0, local, zone), texts.NOTICE_TEST_CATEGORY, dept.name, local)
    results = []
    for contact in contacts:
        name = contact.name or f"#{contact.id}"
        route = route_for(services.config, contact)
        if route is None:
            results.append(TrialResult(name, "-", False, texts.NOTICE_TEST_NO_ADDRESS))
            continue
        channel_name, recipient = route
        try:
            notice = case_notice(
                values,
                title=texts.NOTICE_TEST_TITLE,
                detail=texts.NOTICE_TEST_DETAIL,
                url=services.config.server.public_base_url,
            )
            kind, payload = render(services.config, channel_name, notice)
            channel = services.channel(channel_name)
            if kind == "textcard":
                data = {"title": payload["title"], "description": payload["description"]}
                sent = await channel.send_template(recipient, "textcard", data, url=payload["url"])
            else:
                sent = await channel.send_template(
                    recipient, payload["template_id"], payload["data"], url=payload["url"]
                )
        except (ChannelError, ValueMismatch, LookupError) as exc:
            errcode = getattr(exc, "errcode", None)
            answer = f"errcode {errcode}: {exc}" if errcode is not None else str(exc)
            results.append(TrialResult(name, channel_name, False, answer))
            continue
        results.append(TrialResult(name, channel_name, True, f"errcode 0 (msgid {sent.msg_id or '-'})"))
    return results
