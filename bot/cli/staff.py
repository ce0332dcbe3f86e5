"""``python -m bot staff …``: console accounts (add, list, remove, reset-password, unlock).

Passwords are never taken as an argument (they would end up in the shell history and the process
list): they are read from a prompt, or from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from bot import texts
from bot.cli.common import fail, open_services, print_json
from knowledge.duties import duties
from storage.staff import (
    StaffError,
    add_staff,
    check_new_username,
    check_password,
    check_username,
    find_department,
    list_staff,
    remove_staff,
    reset_password,
    unlock,
)


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    staff = subparsers.add_parser("staff", parents=parents, help="staff accounts of the web console (/console)")
    sub = staff.add_subparsers(dest="staff_command", metavar="ACTION")
    sub.required = True

    add = sub.add_parser("add", parents=parents, help="create a console account")
    add.add_argument("user", metavar="USER", help="log-in name")
    add.add_argument("--department", metavar="NAME", required=True, help="the unit the account belongs to")
    add.add_argument("--admin", action="store_true", help="sees every department and may reveal reporters")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_add)

    listing = sub.add_parser("list", parents=parents, help="list console accounts")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)

    remove = sub.add_parser("remove", parents=parents, help="delete a console account (ends its sessions)")
    remove.add_argument("user", metavar="USER")
    remove.set_defaults(func=cmd_remove)

    reset = sub.add_parser("reset-password", parents=parents, help="set a new password (ends its sessions)")
    reset.add_argument("user", metavar="USER")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    reset.set_defaults(func=cmd_reset_password)

    unlock = sub.add_parser("unlock", parents=parents, help="lift a lock-out after failed log-ins")
    unlock.add_argument("user", metavar="USER")
    unlock.set_defaults(func=cmd_unlock)


class _NoPassword(Exception):
    pass


def read_password(from_stdin: bool) -> str:
    """One line from stdin with ``--password-stdin``, else a prompt typed twice."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise _NoPassword("标准输入中没有密码 / no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise _NoPassword("没有终端可以输入密码：请使用 --password-stdin / no terminal: use --password-stdin")
    first = getpass.getpass("密码 / password: ")
    second = getpass.getpass("再输一次 / again: ")
    if first != second:
        raise _NoPassword("两次输入的密码不一致 / the passwords differ")
    return first


def cmd_add(args: argparse.Namespace) -> int:
    """Check the name and the unit first, so a typo is reported before anyone types a password."""
    try:
        check_username(args.user)
    except StaffError as exc:
        return fail(texts.reason(exc))

    async def run() -> str:
        async with open_services(args) as services, services.database.session() as session:
            await check_new_username(session, args.user)
            short_names = {county.name: county.department for county in duties().counties}
            unit = await find_department(session, args.department, short_names)
            password = read_password(args.password_stdin)
            check_password(password)
            info = await add_staff(
                session, args.user, password, department=unit.name, is_admin=args.admin, now=services.now()
            )
            await session.commit()
            return f"added {info.username} ({info.department}{', admin' if info.is_admin else ''})"

    try:
        print(asyncio.run(run()))
    except (_NoPassword, StaffError) as exc:
        return fail(texts.reason(exc))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    async def run() -> list:
        async with open_services(args) as services, services.database.session() as session:
            return await list_staff(session)

    accounts = asyncio.run(run())
    if args.json:
        print_json([info.to_dict() for info in accounts])
        return 0
    if not accounts:
        print("no console accounts yet: python -m bot staff add USER --department NAME [--admin]")
    for info in accounts:
        role = "admin" if info.is_admin else "staff"
        last = info.last_login_at.isoformat(timespec="minutes") if info.last_login_at else "never"
        print(f"{info.username}\t{info.department}\t{role}\tlast login {last}")
    return 0


def _simple(args: argparse.Namespace, action: str) -> int:
    operation = remove_staff if action == "remove" else unlock

    async def run() -> None:
        async with open_services(args) as services, services.database.session() as session:
            await operation(session, args.user)
            await session.commit()

    try:
        asyncio.run(run())
    except StaffError as exc:
        return fail(texts.reason(exc))
    print(f"{'removed' if action == 'remove' else 'unlocked'} {args.user.strip().lower()}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    return _simple(args, "remove")


def cmd_unlock(args: argparse.Namespace) -> int:
    return _simple(args, "unlock")


def cmd_reset_password(args: argparse.Namespace) -> int:
    try:
        password = read_password(args.password_stdin)
        check_password(password)
    except (_NoPassword, StaffError) as exc:
        return fail(texts.reason(exc))

    async def run() -> None:
        async with open_services(args) as services, services.database.session() as session:
            await reset_password(session, args.user, password, now=services.now())
            await session.commit()

    try:
        asyncio.run(run())
    except StaffError as exc:
        return fail(texts.reason(exc))
    print(f"password changed for {args.user.strip().lower()}; their sessions have ended")
    return 0
