"""Staff accounts of the console: creation, passwords (argon2), log-in with lock-out, and the audit log.

Functions take the caller's session and never commit. Usernames are compared in lower case.
Lock-out counts failures per account and per client address; a lock is stored in the database, so it
holds across processes and restarts.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.facts import Fact
from storage.models import Department, utcnow
from storage.models.console import AuditEntry, ConsoleSecret, LoginThrottle, StaffAccount

USERNAME_RE = re.compile(r"^[\w.@-]{2,64}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so that a wrong name costs the same time as a wrong password.
    Made on the first sign-in, not at start-up (hashing is slow on purpose)."""
    return _hasher.hash("not a real password, only spends the same time")


class StaffError(Fact):
    """A staff operation cannot be done; ``fact`` says why (put into words for the operator by the caller)."""


@dataclass(frozen=True)
class StaffInfo:
    """What the console and the CLI show about an account (never the hash)."""

    id: int
    username: str
    department: str
    department_kind: str
    is_admin: bool
    active: bool
    session_version: int
    created_at: datetime
    last_login_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "department": self.department,
            "admin": self.is_admin,
            "active": self.active,
            "created_at": self.created_at,
            "last_login_at": self.last_login_at,
        }


@dataclass(frozen=True)
class LoginResult:
    """``outcome`` is ``ok``, ``bad`` (wrong name or password) or ``locked``."""

    outcome: str
    staff: StaffInfo | None = None
    locked_until: datetime | None = None
    just_locked: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


# ---- passwords ---------------------------------------------------------------------------------------


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise StaffError("staff_username_invalid")
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError("staff_password_too_short", limit=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError("staff_password_too_long", limit=MAX_PASSWORD_LENGTH)
    if password.strip() != password or not password.isprintable():
        raise StaffError("staff_password_unclean")


async def hash_password(password: str) -> str:
    """argon2id; runs in a thread because it takes tens of milliseconds by design."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


# ---- accounts ----------------------------------------------------------------------------------------


async def find_department(
    session: AsyncSession, name: str, short_names: Mapping[str, str] | None = None
) -> Department:
    """The unit an account belongs to, by its full name or, through ``short_names`` (county → its
    government, from duties.toml), a county's short name (盐湖区 → 盐湖区政府).

    Unknown names raise ``StaffError("staff_department_unknown")`` with every valid name, so the operator
    can copy one.
    """
    wanted = name.strip()
    short_names = short_names or {}
    departments = list((await session.scalars(select(Department).order_by(Department.id))).all())
    by_name = {d.name: d for d in departments}
    for candidate in (wanted, short_names.get(wanted)):
        if candidate in by_name:
            return by_name[candidate]
    county_names = {d.name for d in departments if d.kind == "county"}
    raise StaffError(
        "staff_department_unknown",
        name=wanted,
        choices=tuple(d.name for d in departments if d.name not in county_names),
        counties=tuple(d.name for d in departments if d.name in county_names),
        example=next(iter(short_names), ""),
    )


def _info(account: StaffAccount, department: Department) -> StaffInfo:
    return StaffInfo(
        id=account.id,
        username=account.username,
        department=department.name,
        department_kind=department.kind,
        is_admin=account.is_admin,
        active=account.active,
        session_version=account.session_version,
        created_at=account.created_at,
        last_login_at=account.last_login_at,
    )


async def check_new_username(session: AsyncSession, username: str) -> str:
    """The normalized name, if it is well-formed and not taken yet."""
    name = check_username(username)
    if await session.scalar(select(StaffAccount.id).where(StaffAccount.username == name)) is not None:
        raise StaffError("staff_exists", name=name)
    return name


async def add_staff(
    session: AsyncSession, username: str, password: str, *, department: str, is_admin: bool, now: datetime
) -> StaffInfo:
    name = await check_new_username(session, username)
    check_password(password)
    unit = await find_department(session, department)
    account = StaffAccount(
        username=name,
        password_hash=await hash_password(password),
        department_id=unit.id,
        is_admin=is_admin,
        active=True,
        session_version=1,
        created_at=now,
        password_changed_at=now,
    )
    session.add(account)
    await session.flush()
    return _info(account, unit)


async def _account(session: AsyncSession, username: str) -> StaffAccount:
    account = await session.scalar(select(StaffAccount).where(StaffAccount.username == normalize_username(username)))
    if account is None:
        raise StaffError("staff_unknown", name=normalize_username(username))
    return account


async def list_staff(session: AsyncSession) -> list[StaffInfo]:
    rows = await session.execute(
        select(StaffAccount, Department)
        .join(Department, Department.id == StaffAccount.department_id)
        .order_by(StaffAccount.username)
    )
    return [_info(account, unit) for account, unit in rows.all()]


async def units_of(session: AsyncSession, usernames: Iterable[str]) -> dict[str, str]:
    """The department of each console account among ``usernames`` (others, e.g. ``cli:…``, are absent)."""
    names = {normalize_username(n) for n in usernames if n}
    if not names:
        return {}
    rows = await session.execute(
        select(StaffAccount.username, Department.name)
        .join(Department, Department.id == StaffAccount.department_id)
        .where(StaffAccount.username.in_(names))
    )
    return {username: unit for username, unit in rows.all()}


async def get_staff(session: AsyncSession, staff_id: int) -> StaffInfo | None:
    row = (
        await session.execute(
            select(StaffAccount, Department)
            .join(Department, Department.id == StaffAccount.department_id)
            .where(StaffAccount.id == staff_id)
        )
    ).first()
    return _info(*row) if row else None


async def remove_staff(session: AsyncSession, username: str) -> None:
    """Delete the account; its open sessions stop working at their next request."""
    account = await _account(session, username)
    await session.delete(account)
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == _user_key(account.username)))


async def reset_password(session: AsyncSession, username: str, password: str, *, now: datetime) -> None:
    """Set a new password, end the account's sessions and lift its lock."""
    check_password(password)
    account = await _account(session, username)
    account.password_hash = await hash_password(password)
    account.password_changed_at = now
    account.session_version += 1
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == _user_key(account.username)))


async def unlock(session: AsyncSession, username: str) -> None:
    account = await _account(session, username)
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == _user_key(account.username)))


# ---- log-in ------------------------------------------------------------------------------------------


def _user_key(username: str) -> str:
    return f"user:{normalize_username(username)[:150]}"


def _ip_key(ip: str) -> str:
    return f"ip:{ip[:150]}"


async def _throttle(session: AsyncSession, key: str) -> LoginThrottle:
    """The throttle row for ``key``, created if missing and locked for update on PostgreSQL."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(LoginThrottle).values(key=key, failures=0).on_conflict_do_nothing(index_elements=["key"])
    )
    row = await session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def authenticate(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    ip: str,
    now: datetime,
    max_failures: int,
    max_failures_per_ip: int,
    lockout: timedelta,
) -> LoginResult:
    """Check a log-in and record it (throttles and audit log). The caller commits in every outcome."""
    name = normalize_username(username)[:64]
    throttles = [(await _throttle(session, _user_key(name)), max_failures)]
    throttles.append((await _throttle(session, _ip_key(ip)), max_failures_per_ip))
    for row, _limit in throttles:
        if row.locked_until is not None and row.locked_until > now:
            await record_audit(session, actor=name, action="login_locked", ip=ip, now=now)
            return LoginResult("locked", locked_until=max(r.locked_until or now for r, _ in throttles))

    found = (
        await session.execute(
            select(StaffAccount, Department)
            .join(Department, Department.id == StaffAccount.department_id)
            .where(StaffAccount.username == name)
        )
    ).first()
    account, unit = found if found else (None, None)
    stored_hash = account.password_hash if account else await asyncio.to_thread(_dummy_hash)
    valid = await verify_password(stored_hash, password)
    if account is not None and unit is not None and valid and account.active:
        throttles[0][0].failures = 0
        throttles[0][0].locked_until = None
        account.last_login_at = now
        if _hasher.check_needs_rehash(account.password_hash):
            account.password_hash = await hash_password(password)
        await record_audit(session, actor=name, action="login", ip=ip, now=now)
        return LoginResult("ok", staff=_info(account, unit))

    just_locked = False
    locked_until: datetime | None = None
    for row, limit in throttles:
        if row.last_failure_at is None or now - row.last_failure_at > lockout:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= limit:
            row.locked_until = now + lockout
            row.failures = 0
            just_locked = True
            locked_until = row.locked_until
    await record_audit(session, actor=name, action="login_failed", ip=ip, now=now)
    if just_locked:
        await record_audit(session, actor=name, action="lockout", ip=ip, now=now, detail={"until": str(locked_until)})
        return LoginResult("locked", locked_until=locked_until, just_locked=True)
    return LoginResult("bad")


# ---- audit log ---------------------------------------------------------------------------------------


async def record_audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    now: datetime,
    case_no: str | None = None,
    ip: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(at=now, actor=actor[:64], action=action[:32], case_no=case_no, ip=ip[:64], detail=detail or {})
    )


async def audit_entries(
    session: AsyncSession, *, case_no: str | None = None, action: str | None = None, limit: int = 200
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if case_no is not None:
        query = query.where(AuditEntry.case_no == case_no)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list((await session.scalars(query)).all())


# ---- shared secret -----------------------------------------------------------------------------------


async def console_secret(session: AsyncSession, name: str = "session") -> str:
    """The console's signing key: generated by the first process that asks, then read by all.

    Delete the row to rotate it (every session ends). The caller commits.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(ConsoleSecret)
        .values(name=name, value=secrets.token_urlsafe(48), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    value = await session.scalar(select(ConsoleSecret.value).where(ConsoleSecret.name == name))
    assert value is not None
    return value
