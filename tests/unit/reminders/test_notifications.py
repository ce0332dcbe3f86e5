"""notify_department: one outbox row per active contact, routed by channel, fields within the 2023 rules."""

from __future__ import annotations

from sqlalchemy import select

from bot.outbound.notify import notify_department
from bot.services import Services
from storage.contacts import add_wecom_contact, resolve_department
from storage.models import OutboxMessage
from storage.models.reminders import Contact, ContactAddress
from tests.support.notices import as_sent


async def _add_mp(session, dept_name: str, openid: str, now, status: str = "active") -> Contact:  # type: ignore[no-untyped-def]
    dept = await resolve_department(session, dept_name)
    contact = Contact(department_id=dept.id, name="张三", channel="mp", status=status, created_at=now)
    session.add(contact)
    await session.flush()
    session.add(ContactAddress(contact_id=contact.id, channel="mp", address=openid, created_at=now))
    await session.flush()
    return contact


async def test_one_message_per_active_contact_and_idempotent(services: Services) -> None:
    now = services.now()
    async with services.database.session() as s:
        await _add_mp(s, "盐湖区", "o-active", now)
        await _add_mp(s, "盐湖区", "o-gone", now, status="unreachable")
        await _add_mp(s, "市卫健委", "o-other", now)
        dept = await resolve_department(s, "盐湖区政府")
        await add_wecom_contact(s, dept, "li.si", name="李四", now=now)
        fields = {"事项": "新的举报线索：疑似偷排含氯废水\n请尽快核查", "编号": "YC2025-0001"}
        count = await notify_department(
            s,
            services,
            department="盐湖区",
            title="新案件",
            fields=fields,
            detail="详情见链接",
            url="https://example.org/c/1",
            dedup_key="case:1",
            now=now,
        )
        again = await notify_department(
            s,
            services,
            department="盐湖区政府",
            title="新案件",
            fields=fields,
            detail="详情见链接",
            url="https://example.org/c/1",
            dedup_key="case:1",
            now=now,
        )
        await s.commit()
        rows = (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert count == 2 and again == 2
    assert [(r.channel, r.kind, r.recipient) for r in rows] == [
        ("mp", "notice", "o-active"),  # one channel-neutral notice, mapped by each channel when sent
        ("wecom", "notice", "li.si"),
    ]
    (mp_kind, template), (wecom_kind, card) = (as_sent(services.config, r) for r in rows)
    assert (mp_kind, wecom_kind) == ("template", "textcard")
    data = template["data"]
    assert list(data) == ["thing1"]  # a case number never lands in the time-typed key (WeChat: 47003)
    assert all(len(v) <= 20 and "\n" not in v for v in data.values())
    assert template["url"] == "https://example.org/c/1"
    assert "编号：YC2025-0001" in card["description"]


async def test_unknown_department_enqueues_nothing(services: Services) -> None:
    async with services.database.session() as s:
        count = await notify_department(
            s,
            services,
            department="火星局",
            title="t",
            fields={"a": "b"},
            detail="",
            url="",
            dedup_key="x",
            now=services.now(),
        )
    assert count == 0
