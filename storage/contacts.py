"""Departmental contacts: department names, one-time binding codes, binding over chat, WeCom members.

A contact's addresses are (channel, address) rows (``ContactAddress``): ``mp`` with an openid, ``wecom``
with a userid. ``contact_by_address`` finds the current contact behind one.

A binding code is shown once to the operator who made it; only its SHA-256 is stored. Redeeming one is a
single conditional UPDATE (unused and unexpired), so two officials racing for one code cannot both win.
Failed attempts are rows in ``binding_attempts``: too many from one openid, or from everyone, within the
window stops further attempts, which makes guessing a 8-character code hopeless.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.facts import Fact
from storage.models import Department
from storage.models.reminders import BindingAttempt, BindingCode, Contact, ContactAddress

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed on a phone
CODE_LENGTH = 8
CODE_VALID = timedelta(days=7)
_CODE_SHAPE = re.compile(rf"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
WECOM_USERID = re.compile(r"[A-Za-z0-9_.@\-]{1,64}")
MAX_NAME = 64


class DepartmentError(Fact):
    """An unknown or ambiguous department name; ``details`` list the valid names."""


class ContactError(Fact):
    """A contact operation that cannot be done as asked (``fact`` says why)."""


@dataclass(frozen=True)
class BindOutcome:
    """What ``redeem_code`` did: ``status`` is bound | already | invalid | throttled | malformed."""

    status: str
    contact: Contact | None = None
    department: str = ""


@dataclass(frozen=True)
class ContactView:
    id: int
    department: str
    name: str
    channel: str
    address: str
    status: str
    status_reason: str
    bound_at: datetime | None
    created_at: datetime


# ---- departments ---------------------------------------------------------------------------------


async def department_names(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Department.name).order_by(Department.id))).all())


def match_department_name(wanted: str, names: list[str]) -> str:
    """The department name meant by ``wanted``, accepting short forms: 盐湖区 → 盐湖区政府,
    生态环境局 → 市生态环境局, 开发区 → 运城开发区管委会. Raises ``DepartmentError`` naming the choices."""
    wanted = (wanted or "").strip()
    if not names:
        raise DepartmentError("no_departments")
    known = set(names)
    if wanted:
        for candidate in (wanted, f"市{wanted}", wanted.replace("人民政府", "政府")):
            if candidate in known:
                return candidate
        # A short form is the start of one name: 盐湖区 → 盐湖区政府, 绛县 → 绛县政府 (not 新绛县政府).
        starting = [n for n in names if n.startswith(wanted)]
        if len(starting) == 1:
            return starting[0]
        partial = [n for n in names if wanted in n]
        if len(partial) == 1:
            return partial[0]
        if len(partial) > 1:
            raise DepartmentError("department_ambiguous", wanted=wanted, choices=tuple(partial))
    raise DepartmentError("department_unknown", wanted=wanted, choices=tuple(names))


async def resolve_department(session: AsyncSession, name: str) -> Department:
    """The ``Department`` row for ``name`` (short forms accepted, see ``match_department_name``)."""
    departments = list((await session.scalars(select(Department).order_by(Department.id))).all())
    by_name = {d.name: d for d in departments}
    return by_name[match_department_name(name, list(by_name))]


async def department_by_id(session: AsyncSession, department_id: int) -> Department | None:
    return await session.get(Department, department_id)


# ---- binding codes ------------------------------------------------------------------------------


def normalize_code(raw: str) -> str:
    """Upper case, without spaces and dashes: ``k7qm-4xpa`` → ``K7QM4XPA``."""
    return re.sub(r"[\s\-－—_]", "", raw or "").upper()


def hash_code(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode("ascii", "replace")).hexdigest()


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


async def create_binding_code(
    session: AsyncSession, department: Department, *, name: str, now: datetime
) -> tuple[str, BindingCode]:
    """A new single-use code for ``department`` (valid 7 days). Returns the code shown to the operator."""
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise ContactError("contact_name_too_long", limit=MAX_NAME)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    row = BindingCode(
        code_hash=hash_code(code),
        department_id=department.id,
        name=name,
        created_at=now,
        expires_at=now + CODE_VALID,
    )
    session.add(row)
    await session.flush()
    return format_code(code), row


@dataclass(frozen=True)
class BindLimits:
    per_openid: int = 5
    overall: int = 50
    window: timedelta = timedelta(hours=1)


async def _failures_since(session: AsyncSession, since: datetime, openid: str | None = None) -> int:
    query = (
        select(func.count())
        .select_from(BindingAttempt)
        .where(BindingAttempt.succeeded.is_(False), BindingAttempt.created_at >= since)
    )
    if openid is not None:
        query = query.where(BindingAttempt.openid == openid)
    return int(await session.scalar(query) or 0)


async def redeem_code(
    session: AsyncSession, openid: str, raw_code: str, *, now: datetime, limits: BindLimits | None = None
) -> BindOutcome:
    """Bind ``openid`` with a code sent in chat. Writes go through ``session``; the caller commits."""
    limits = limits or BindLimits()
    current = await contact_for_openid(session, openid)
    if current is not None and current.status == "active":
        dept = await department_by_id(session, current.department_id)
        return BindOutcome("already", current, dept.name if dept else "")
    since = now - limits.window
    if (
        await _failures_since(session, since, openid) >= limits.per_openid
        or await _failures_since(session, since) >= limits.overall
    ):
        return BindOutcome("throttled")
    code = normalize_code(raw_code)
    if not _CODE_SHAPE.fullmatch(code):
        session.add(BindingAttempt(openid=openid, succeeded=False, created_at=now))
        return BindOutcome("malformed")
    code_hash = hash_code(code)
    claimed = await session.execute(
        update(BindingCode)
        .where(BindingCode.code_hash == code_hash, BindingCode.used_at.is_(None), BindingCode.expires_at > now)
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        session.add(BindingAttempt(openid=openid, succeeded=False, created_at=now))
        return BindOutcome("invalid")
    row = await session.scalar(select(BindingCode).where(BindingCode.code_hash == code_hash))
    assert row is not None
    contact = current or Contact(channel="mp", created_at=now)
    contact.department_id = row.department_id
    contact.name = row.name
    contact.status = "active"
    contact.status_reason = ""
    contact.bound_at = now
    contact.updated_at = now
    contact.removed_at = None
    if current is None:
        session.add(contact)
        await session.flush()
        session.add(ContactAddress(contact_id=contact.id, channel="mp", address=openid, created_at=now))
    await session.flush()
    await session.refresh(contact, ["addresses"])
    row.contact_id = contact.id
    session.add(BindingAttempt(openid=openid, succeeded=True, created_at=now))
    dept = await department_by_id(session, row.department_id)
    return BindOutcome("bound", contact, dept.name if dept else "")


# ---- contacts -----------------------------------------------------------------------------------


def _at(channel: str, address: str) -> object:
    """Join condition: the contact's current address is (channel, address)."""
    return and_(
        ContactAddress.contact_id == Contact.id,
        ContactAddress.channel == channel,
        ContactAddress.address == address,
        ContactAddress.removed_at.is_(None),
    )


async def contact_by_address(session: AsyncSession, channel: str, address: str) -> Contact | None:
    """The current (not removed) contact whose address on ``channel`` is ``address``."""
    query = select(Contact).join(ContactAddress, _at(channel, address)).where(Contact.status != "removed")
    return await session.scalar(query.limit(1))


async def contact_for_openid(session: AsyncSession, openid: str) -> Contact | None:
    """The current (not removed) contact bound to ``openid``."""
    return await contact_by_address(session, "mp", openid)


async def active_contact_for_openid(session: AsyncSession, openid: str) -> Contact | None:
    """The contact behind ``openid`` if it may use the officials' commands (active or marked unreachable)."""
    return await contact_for_openid(session, openid)


async def unbind(session: AsyncSession, contact: Contact, *, now: datetime, reason: str = "") -> None:
    """The contact is removed and its addresses end (so the same openid or userid can be bound again)."""
    contact.status = "removed"
    contact.status_reason = reason
    contact.removed_at = now
    contact.updated_at = now
    await session.execute(
        update(ContactAddress)
        .where(ContactAddress.contact_id == contact.id, ContactAddress.removed_at.is_(None))
        .values(removed_at=now)
    )


async def add_wecom_contact(
    session: AsyncSession, department: Department, userid: str, *, name: str, now: datetime
) -> Contact:
    """Register a 企业微信 member (by userid) as a contact of ``department``."""
    userid = (userid or "").strip()
    if not WECOM_USERID.fullmatch(userid):
        raise ContactError("wecom_userid_invalid")
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise ContactError("contact_name_too_long", limit=MAX_NAME)
    existing = await contact_by_address(session, "wecom", userid)
    if existing is not None:
        dept = await department_by_id(session, existing.department_id)
        raise ContactError(
            "wecom_userid_taken", userid=userid, department=dept.name if dept else "?", contact_id=existing.id
        )
    contact = Contact(
        department_id=department.id,
        name=name,
        channel="wecom",
        status="active",
        created_at=now,
        bound_at=now,
        updated_at=now,
    )
    session.add(contact)
    await session.flush()
    session.add(ContactAddress(contact_id=contact.id, channel="wecom", address=userid, created_at=now))
    await session.flush()
    await session.refresh(contact, ["addresses"])
    return contact


async def contacts_of_department(
    session: AsyncSession, department_id: int, *, active_only: bool = True
) -> list[Contact]:
    query = select(Contact).where(Contact.department_id == department_id)
    query = query.where(Contact.status == "active") if active_only else query.where(Contact.status != "removed")
    return list((await session.scalars(query.order_by(Contact.id))).all())


async def list_contacts(session: AsyncSession, *, include_removed: bool = False) -> list[ContactView]:
    query = select(Contact, Department.name).join(Department, Department.id == Contact.department_id)
    if not include_removed:
        query = query.where(Contact.status != "removed")
    rows = (await session.execute(query.order_by(Department.id, Contact.id))).all()
    return [
        ContactView(
            id=c.id,
            department=dept,
            name=c.name,
            channel=c.channel,
            address=c.address(c.channel) or "",
            status=c.status,
            status_reason=c.status_reason,
            bound_at=c.bound_at,
            created_at=c.created_at,
        )
        for c, dept in rows
    ]


async def find_contact(
    session: AsyncSession, *, contact_id: int | None = None, openid: str | None = None, userid: str | None = None
) -> Contact | None:
    """A current contact by id, openid or WeCom userid."""
    if contact_id is not None:
        query = select(Contact).where(Contact.status != "removed", Contact.id == contact_id)
        return await session.scalar(query.limit(1))
    if openid:
        return await contact_by_address(session, "mp", openid)
    if userid:
        return await contact_by_address(session, "wecom", userid)
    return None


async def mark_unreachable(session: AsyncSession, contact_id: int, reason: str, *, now: datetime) -> bool:
    """Flag a contact whose address cannot receive messages; returns True when it was active before."""
    result = await session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.status == "active")
        .values(status="unreachable", status_reason=reason[:500], updated_at=now)
    )
    return bool(result.rowcount)


def mask(address: str) -> str:
    """openids and userids stay out of logs and chat: keep the ends only."""
    if len(address) <= 8:
        return address[:2] + "***"
    return f"{address[:4]}***{address[-3:]}"
