"""Department names, binding codes (single use, expiry, throttling), WeCom contacts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import texts
from storage.contacts import (
    BindLimits,
    ContactError,
    DepartmentError,
    add_wecom_contact,
    create_binding_code,
    redeem_code,
    resolve_department,
)
from storage.db import Database
from storage.models.reminders import BindingCode
from tests.unit.reminders.helpers import at

NOW = at(2025, 12, 1, 10)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("盐湖区", "盐湖区政府"),
        ("盐湖区人民政府", "盐湖区政府"),
        ("生态环境局", "市生态环境局"),
        ("市卫健委", "市卫健委"),
        ("开发区", "运城开发区管委会"),
        ("海关", "运城海关"),
        (" 永济市 ", "永济市政府"),
    ],
)
async def test_short_department_names(db: Database, given: str, expected: str) -> None:
    async with db.session() as s:
        assert (await resolve_department(s, given)).name == expected


async def test_unknown_department_lists_the_choices(db: Database) -> None:
    async with db.session() as s:
        with pytest.raises(DepartmentError) as info:
            await resolve_department(s, "市教育局")
        said = texts.reason(info.value)
        assert "可选" in said and "市生态环境局" in said and "盐湖区政府" in said
        with pytest.raises(DepartmentError) as info:
            await resolve_department(s, "市")
        assert "不唯一" in texts.reason(info.value)


async def test_code_binds_once_and_only_its_hash_is_stored(db: Database) -> None:
    async with db.session() as s:
        dept = await resolve_department(s, "盐湖区")
        code, _ = await create_binding_code(s, dept, name="王五", now=NOW)
        await s.commit()
    async with db.session() as s:
        stored = (await s.scalars(select(BindingCode.code_hash))).all()
        assert code.replace("-", "") not in " ".join(stored)
        outcome = await redeem_code(s, "o-1", code.lower().replace("-", " "), now=NOW)
        await s.commit()
    assert outcome.status == "bound" and outcome.department == "盐湖区政府" and outcome.contact.name == "王五"
    async with db.session() as s:
        assert (await redeem_code(s, "o-1", code, now=NOW)).status == "already"
        assert (await redeem_code(s, "o-2", code, now=NOW)).status == "invalid"  # single use


async def test_expired_codes_are_refused(db: Database) -> None:
    async with db.session() as s:
        dept = await resolve_department(s, "市卫健委")
        code, _ = await create_binding_code(s, dept, name="", now=NOW)
        await s.commit()
    async with db.session() as s:
        assert (await redeem_code(s, "o-1", code, now=NOW + timedelta(days=7, seconds=1))).status == "invalid"
        assert (await redeem_code(s, "o-1", code, now=NOW + timedelta(days=6))).status == "bound"


async def test_guessing_is_throttled_per_openid_and_overall(db: Database) -> None:
    limits = BindLimits(per_openid=3, overall=5, window=timedelta(hours=1))
    async with db.session() as s:
        dept = await resolve_department(s, "市卫健委")
        code, _ = await create_binding_code(s, dept, name="", now=NOW)
        for i in range(3):
            assert (await redeem_code(s, "o-guess", f"AAAA-AAA{i + 2}", now=NOW, limits=limits)).status == "invalid"
        # Even the right code is refused to this openid within the window.
        assert (await redeem_code(s, "o-guess", code, now=NOW, limits=limits)).status == "throttled"
        assert (await redeem_code(s, "o-guess", "garbage!", now=NOW, limits=limits)).status == "throttled"
        for i in range(2):
            await redeem_code(s, f"o-other-{i}", "BBBB-BBBB", now=NOW, limits=limits)
        # Five failures in the window from anyone: everyone waits.
        assert (await redeem_code(s, "o-new", code, now=NOW, limits=limits)).status == "throttled"
        later = NOW + timedelta(hours=1, minutes=1)
        assert (await redeem_code(s, "o-guess", code, now=later, limits=limits)).status == "bound"


async def test_malformed_codes_count_as_failures(db: Database) -> None:
    limits = BindLimits(per_openid=2, overall=50, window=timedelta(hours=1))
    async with db.session() as s:
        assert (await redeem_code(s, "o-x", "123", now=NOW, limits=limits)).status == "malformed"
        assert (await redeem_code(s, "o-x", "x" * 500, now=NOW, limits=limits)).status == "malformed"
        assert (await redeem_code(s, "o-x", "ABCD-EFGH", now=NOW, limits=limits)).status == "throttled"


async def test_wecom_contacts(db: Database) -> None:
    async with db.session() as s:
        dept = await resolve_department(s, "河津市")
        contact = await add_wecom_contact(s, dept, "sun.qi", name="孙七", now=NOW)
        assert contact.channel == "wecom" and contact.status == "active"
        with pytest.raises(ContactError) as info:
            await add_wecom_contact(s, dept, "sun.qi", name="", now=NOW)
        assert "已是" in texts.reason(info.value)
        with pytest.raises(ContactError) as info:
            await add_wecom_contact(s, dept, "bad id with spaces", name="", now=NOW)
        assert "userid" in texts.reason(info.value)
