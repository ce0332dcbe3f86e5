"""Staff accounts: creation rules, passwords, lock-out per account and per address, the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import texts
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from storage.models.console import AuditEntry, StaffAccount
from storage.staff import (
    StaffError,
    add_staff,
    audit_entries,
    authenticate,
    get_staff,
    list_staff,
    remove_staff,
    reset_password,
    unlock,
)

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LOCK = timedelta(minutes=15)
PASSWORD = "a long secret 1"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await upgrade(database)
    await seed_departments(database, duties().units)
    yield database
    await database.dispose()


async def _add(db: Database, name: str = "Li", department: str = "市生态环境局", admin: bool = False) -> None:
    async with db.session() as session:
        await add_staff(session, name, PASSWORD, department=department, is_admin=admin, now=NOW)
        await session.commit()


async def _login(db: Database, name: str, password: str, *, ip: str = "10.0.0.1", now: datetime = NOW, **limits):
    async with db.session() as session:
        result = await authenticate(
            session,
            name,
            password,
            ip=ip,
            now=now,
            max_failures=limits.get("max_failures", 3),
            max_failures_per_ip=limits.get("per_ip", 10),
            lockout=LOCK,
        )
        await session.commit()
        return result


async def test_add_list_and_hash(db: Database) -> None:
    await _add(db, "Li", admin=True)
    async with db.session() as session:
        accounts = await list_staff(session)
        row = await session.scalar(select(StaffAccount))
    assert [(a.username, a.department, a.is_admin) for a in accounts] == [("li", "市生态环境局", True)]
    assert row is not None and row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash


@pytest.mark.parametrize(
    ("name", "password", "department", "message"),
    [
        ("x", PASSWORD, "市生态环境局", "用户名"),
        ("bad name!", PASSWORD, "市生态环境局", "用户名"),
        ("zhang", "short", "市生态环境局", "至少"),
        ("zhang", " padded password ", "市生态环境局", "空白"),
        ("zhang", "x" * 300, "市生态环境局", "最多"),
        ("zhang", PASSWORD, "不存在的局", "没有名为"),
    ],
)
async def test_add_refuses_bad_input(db: Database, name: str, password: str, department: str, message: str) -> None:
    async with db.session() as session:
        with pytest.raises(StaffError) as info:
            await add_staff(session, name, password, department=department, is_admin=False, now=NOW)
    assert message in texts.reason(info.value)


async def test_duplicate_username_refused(db: Database) -> None:
    await _add(db, "Li")
    async with db.session() as session:
        with pytest.raises(StaffError) as info:
            await add_staff(session, "LI", PASSWORD, department="市卫健委", is_admin=False, now=NOW)
    assert "已存在" in texts.reason(info.value)


async def test_login_ok_bad_and_unknown_user(db: Database) -> None:
    await _add(db)
    ok = await _login(db, " LI ", PASSWORD)
    assert ok.ok and ok.staff is not None and ok.staff.username == "li"
    assert (await _login(db, "li", "wrong password")).outcome == "bad"
    assert (await _login(db, "nobody", PASSWORD)).outcome == "bad"
    async with db.session() as session:
        actions = [e.action for e in await audit_entries(session)]
        account = await get_staff(session, ok.staff.id)
    assert actions.count("login") == 1 and actions.count("login_failed") == 2
    assert account is not None and account.last_login_at == NOW


async def test_account_locks_after_failures_and_unlocks_after_the_lockout(db: Database) -> None:
    await _add(db)
    assert (await _login(db, "li", "wrong 1")).outcome == "bad"
    assert (await _login(db, "li", "wrong 2")).outcome == "bad"
    third = await _login(db, "li", "wrong 3")
    assert third.outcome == "locked" and third.just_locked and third.locked_until == NOW + LOCK
    # Even the right password is refused while locked, from any address.
    assert (await _login(db, "li", PASSWORD, ip="10.9.9.9", now=NOW + timedelta(minutes=5))).outcome == "locked"
    assert (await _login(db, "li", PASSWORD, now=NOW + LOCK + timedelta(seconds=1))).ok


async def test_failures_spread_out_do_not_lock(db: Database) -> None:
    await _add(db)
    for step in range(5):
        result = await _login(db, "li", "wrong", now=NOW + step * (LOCK + timedelta(minutes=1)))
        assert result.outcome == "bad"


async def test_success_resets_the_account_counter(db: Database) -> None:
    await _add(db)
    await _login(db, "li", "wrong 1")
    await _login(db, "li", "wrong 2")
    assert (await _login(db, "li", PASSWORD)).ok
    assert (await _login(db, "li", "wrong 3")).outcome == "bad"
    assert (await _login(db, "li", "wrong 4")).outcome == "bad"


async def test_address_locks_after_failures_on_many_accounts(db: Database) -> None:
    await _add(db, "li")
    await _add(db, "wang")
    for index in range(4):
        assert (await _login(db, f"guess{index}", "x", per_ip=5)).outcome == "bad"
    assert (await _login(db, "guess9", "x", per_ip=5)).outcome == "locked"
    assert (await _login(db, "wang", PASSWORD, per_ip=5)).outcome == "locked"
    assert (await _login(db, "wang", PASSWORD, ip="10.0.0.2", per_ip=5)).ok


async def test_unlock_and_reset_password(db: Database) -> None:
    await _add(db)
    for attempt in range(3):
        await _login(db, "li", f"wrong {attempt}")
    async with db.session() as session:
        await unlock(session, "li")
        await session.commit()
    assert (await _login(db, "li", PASSWORD)).ok
    async with db.session() as session:
        before = (await list_staff(session))[0].session_version
        await reset_password(session, "li", "another secret 2", now=NOW)
        await session.commit()
        after = (await list_staff(session))[0].session_version
    assert after == before + 1
    assert (await _login(db, "li", PASSWORD)).outcome == "bad"
    assert (await _login(db, "li", "another secret 2")).ok


async def test_remove(db: Database) -> None:
    await _add(db)
    async with db.session() as session:
        await remove_staff(session, "LI")
        await session.commit()
        assert await list_staff(session) == []
        with pytest.raises(StaffError) as info:
            await remove_staff(session, "li")
        assert "没有用户" in texts.reason(info.value)
    assert (await _login(db, "li", PASSWORD)).outcome == "bad"


async def test_audit_filters(db: Database) -> None:
    await _add(db)
    await _login(db, "li", PASSWORD)
    async with db.session() as session:
        session.add(AuditEntry(at=NOW, actor="li", action="reveal_identity", case_no="YC20261120-0001"))
        await session.commit()
        reveals = await audit_entries(session, case_no="YC20261120-0001")
        logins = await audit_entries(session, action="login")
    assert [e.action for e in reveals] == ["reveal_identity"]
    assert [e.actor for e in logins] == ["li"]
