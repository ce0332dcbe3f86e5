"""``python -m bot tasks …``, ``contacts …`` and ``reminders …``: the plan's tasks, departmental contacts,
and the reminder dispatcher (planning and sending as of a given time)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import texts
from bot.cli.common import config_from, fail, open_services, print_json
from bot.reminders.dispatch import run_pass
from bot.reminders.views import list_messages, preview
from bot.tasks.completion import deliveries_for_task, get_task, mark_done
from bot.tasks.planfile import TaskFileError, import_tasks, read_tasks_file
from bot.tasks.seed import generate_seed
from bot.tasks.status import TaskError, list_tasks
from knowledge.plan import load_plan
from storage.contacts import (
    ContactError,
    DepartmentError,
    add_wecom_contact,
    create_binding_code,
    find_contact,
    list_contacts,
    mask,
    resolve_department,
    unbind,
)

SEED_OUTPUT = Path("knowledge/data/tasks.toml")


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    _register_tasks(subparsers, parents)
    _register_contacts(subparsers, parents)
    _register_reminders(subparsers, parents)


def _register_tasks(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    tasks = subparsers.add_parser("tasks", parents=parents, help="tasks of the plan (deadlines, status per unit)")
    sub = tasks.add_subparsers(dest="tasks_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", parents=parents, help="tasks, overdue first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--department", metavar="NAME", help="only this unit's tasks and status")
    listing.add_argument("--open", action="store_true", help="leave out tasks that are done")
    listing.set_defaults(func=cmd_tasks_list)
    show = sub.add_parser("show", parents=parents, help="one task with its reminders (sent, acknowledged)")
    show.add_argument("task_id", metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_tasks_show)
    imp = sub.add_parser("import", parents=parents, help="create or update tasks from a TOML file")
    imp.add_argument("file", metavar="FILE")
    imp.set_defaults(func=cmd_tasks_import)
    done = sub.add_parser("done", parents=parents, help="record that a unit finished a task")
    done.add_argument("task_id", metavar="ID")
    done.add_argument("--department", metavar="NAME", required=True)
    done.add_argument("--period", metavar="P", help="year of a yearly task (default: the current one)")
    done.add_argument("--by", metavar="NAME", help="who reports it done (default: the operator's login)")
    done.set_defaults(func=cmd_tasks_done)
    seed = sub.add_parser("seed-file", parents=parents, help="generate a tasks file from the plan text")
    seed.add_argument("--output", metavar="PATH", help="write here instead of standard output")
    seed.set_defaults(func=cmd_tasks_seed_file)


def _register_contacts(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    contacts = subparsers.add_parser("contacts", parents=parents, help="officials who receive reminders")
    sub = contacts.add_subparsers(dest="contacts_command", metavar="ACTION")
    sub.required = True
    invite = sub.add_parser("invite", parents=parents, help="make a one-time binding code (valid 7 days)")
    invite.add_argument("--department", metavar="NAME", required=True)
    invite.add_argument("--name", metavar="NAME", default="", help="the official's name")
    invite.set_defaults(func=cmd_contacts_invite)
    listing = sub.add_parser("list", parents=parents, help="current contacts")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--all", action="store_true", help="include removed contacts")
    listing.set_defaults(func=cmd_contacts_list)
    remove = sub.add_parser("remove", parents=parents, help="stop sending to a contact")
    who = remove.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", type=int, metavar="N")
    who.add_argument("--openid", metavar="OPENID")
    who.add_argument("--userid", metavar="USERID")
    remove.set_defaults(func=cmd_contacts_remove)
    wecom = sub.add_parser("add-wecom", parents=parents, help="add a 企业微信 member as a contact")
    wecom.add_argument("--department", metavar="NAME", required=True)
    wecom.add_argument("--userid", metavar="ID", required=True)
    wecom.add_argument("--name", metavar="NAME", default="")
    wecom.set_defaults(func=cmd_contacts_add_wecom)


def _register_reminders(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    reminders = subparsers.add_parser("reminders", parents=parents, help="deadline reminders to contacts")
    sub = reminders.add_subparsers(dest="reminders_command", metavar="ACTION")
    sub.required = True
    dispatch = sub.add_parser("dispatch", parents=parents, help="one planning and sending pass")
    dispatch.add_argument("--now", metavar="ISO8601", help="act as if it were this time (default: now)")
    dispatch.add_argument("--json", action="store_true")
    dispatch.set_defaults(func=cmd_reminders_dispatch)
    preview = sub.add_parser("preview", parents=parents, help="what would go to whom in the coming days")
    preview.add_argument("--days", type=int, default=7, metavar="N", help="calendar days ahead (default 7)")
    preview.add_argument("--now", metavar="ISO8601", help="start from this time (default: now)")
    preview.add_argument("--json", action="store_true")
    preview.set_defaults(func=cmd_reminders_preview)
    listing = sub.add_parser("list", parents=parents, help="reminder messages, newest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--status", choices=["pending", "sending", "sent", "dead", "skipped"])
    listing.add_argument("--limit", type=int, default=50, metavar="N")
    listing.set_defaults(func=cmd_reminders_list)


def parse_now(value: str | None, timezone: str) -> datetime:
    """``--now``: ISO 8601; without an offset it is read in ``[reminders] timezone``."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--now {value!r}: not an ISO 8601 time, e.g. 2025-12-30T10:00:00+08:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def _local(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M") if moment else "-"


# ---- tasks ---------------------------------------------------------------------------------------


def cmd_tasks_list(args: argparse.Namespace) -> int:
    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services, services.database.session() as session:
            return await list_tasks(
                session,
                department=args.department,
                now=services.now(),
                timezone=services.config.reminders.timezone,
                open_only=args.open,
            )

    try:
        views = asyncio.run(run())
    except DepartmentError as exc:
        return fail(texts.reason(exc))
    if args.json:
        print_json([v.as_dict() for v in views])
        return 0
    if not views:
        print("没有任务。导入：python -m bot tasks import knowledge/data/tasks.toml")
        return 0
    for v in views:
        due = v.due_date.isoformat() if v.due_date else "-"
        extra = f" 逾期{v.overdue_working_days}个工作日" if v.status == "overdue" else ""
        units = f"{v.open_count}/{len(v.departments)}个单位未完成" if not args.department else ""
        units_label = ("牵头：" if v.lead_named else "责任单位：") + v.responsible_units
        print(f"{v.id:6} {v.status:8} 截止 {due}{extra}  {v.title}〔{v.citation}〕 {units_label} {units}")
    return 0


def cmd_tasks_show(args: argparse.Namespace) -> int:
    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services, services.database.session() as session:
            task = await get_task(session, args.task_id)
            if task is None:
                return None, [], services.config.reminders.timezone
            views = [
                v
                for v in await list_tasks(
                    session, now=services.now(), timezone=services.config.reminders.timezone, include_inactive=True
                )
                if v.id == task.id
            ]
            return (
                views[0] if views else None,
                await deliveries_for_task(session, task.id),
                (services.config.reminders.timezone),
            )

    view, deliveries, tz = asyncio.run(run())
    if view is None:
        return fail(f"没有编号为 {args.task_id} 的任务")
    if args.json:
        print_json({**view.as_dict(), "deliveries": [d.as_dict() for d in deliveries]})
        return 0
    print(f"{view.id}〔{view.citation}〕{view.title}")
    print(f"  成果：{view.deliverable}")
    print(f"  截止：{view.due_date or '-'}（{view.deadline_text}；{view.deadline_basis}）")
    if view.lead_named:
        print(f"  牵头：{view.lead_unit}；配合：{'、'.join(view.co_units) or '-'}")
    else:
        print(f"  责任单位：{view.responsible_units}")
    for d in view.departments:
        done = f" {_local(d.done_at, tz)} {d.done_by}" if d.status == "done" else ""
        print(f"  - {d.department}（{d.role}）：{d.status} {d.period}{done}")
    print(f"  提醒：{len(deliveries)} 条")
    for d in deliveries:
        print(
            f"    {d.on_date} {d.kind:10} {d.department} {d.contact_name or '#' + str(d.contact_id)} {d.status}"
            f" 发送 {_local(d.sent_at, tz)} 确认 {_local(d.acknowledged_at, tz)}"
        )
    return 0


def cmd_tasks_import(args: argparse.Namespace) -> int:
    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services, services.database.session() as session:
            specs = await read_tasks_file(session, args.file)
            result = await import_tasks(session, specs, source=Path(args.file).name, now=services.now())
            await session.commit()
            return result

    try:
        result = asyncio.run(run())
    except TaskFileError as exc:
        return fail("导入失败，未做任何修改 / nothing imported:\n" + "\n".join(f"  {p}" for p in exc.problems))
    print(f"imported {args.file}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged")
    return 0


def cmd_tasks_done(args: argparse.Namespace) -> int:
    actor = args.by or f"命令行:{_login()}"

    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services, services.database.session() as session:
            result = await mark_done(
                session,
                args.task_id,
                args.department,
                actor=actor,
                now=services.now(),
                via="cli",
                period=args.period,
                timezone=services.config.reminders.timezone,
            )
            await session.commit()
            return result

    try:
        result = asyncio.run(run())
    except (TaskError, DepartmentError) as exc:
        return fail(texts.reason(exc))
    state = "already done" if result.already else "marked done"
    print(f"{result.task_id} ({result.period}, due {result.due_date}) {state} for {result.department} by {actor}")
    return 0


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def cmd_tasks_seed_file(args: argparse.Namespace) -> int:
    text = generate_seed(load_plan())
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return fail(f"{args.output}: {exc.strerror or exc}")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


# ---- contacts ------------------------------------------------------------------------------------


def cmd_contacts_invite(args: argparse.Namespace) -> int:
    async def run() -> tuple[str, str, datetime]:
        async with open_services(args) as services, services.database.session() as session:
            dept = await resolve_department(session, args.department)
            code, row = await create_binding_code(session, dept, name=args.name, now=services.now())
            await session.commit()
            return code, dept.name, row.expires_at

    try:
        code, department, expires = asyncio.run(run())
    except (DepartmentError, ContactError) as exc:
        return fail(texts.reason(exc))
    tz = config_from(args).reminders.timezone
    who = f"（{args.name}）" if args.name else ""
    print(f"binding code for {department}{who}, single use, valid until {_local(expires, tz)}:")
    print(f"the official sends: 绑定 {code}")
    print(code)
    return 0


def cmd_contacts_list(args: argparse.Namespace) -> int:
    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services, services.database.session() as session:
            return await list_contacts(session, include_removed=args.all)

    contacts = asyncio.run(run())
    if args.json:
        print_json([c.__dict__ for c in contacts])
        return 0
    if not contacts:
        print("no contacts yet: python -m bot contacts invite --department NAME")
    for c in contacts:
        reason = f" ({c.status_reason})" if c.status_reason else ""
        print(f"{c.id:5} {c.department} {c.name or '-'} {c.channel}:{mask(c.address)} {c.status}{reason}")
    return 0


def cmd_contacts_remove(args: argparse.Namespace) -> int:
    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services, services.database.session() as session:
            contact = await find_contact(session, contact_id=args.id, openid=args.openid, userid=args.userid)
            if contact is None:
                return None
            await unbind(session, contact, now=services.now(), reason="removed by operator")
            await session.commit()
            return contact.id

    removed = asyncio.run(run())
    if removed is None:
        return fail("no such current contact (see python -m bot contacts list)")
    print(f"contact {removed} removed")
    return 0


def cmd_contacts_add_wecom(args: argparse.Namespace) -> int:
    async def run() -> tuple[int, str]:
        async with open_services(args) as services, services.database.session() as session:
            dept = await resolve_department(session, args.department)
            contact = await add_wecom_contact(session, dept, args.userid, name=args.name, now=services.now())
            await session.commit()
            return contact.id, dept.name

    try:
        contact_id, department = asyncio.run(run())
    except (DepartmentError, ContactError) as exc:
        return fail(texts.reason(exc))
    print(f"contact {contact_id} added: WeCom {args.userid} for {department}")
    return 0


# ---- reminders -----------------------------------------------------------------------------------


def cmd_reminders_dispatch(args: argparse.Namespace) -> int:
    config = config_from(args)
    try:
        now = parse_now(args.now, config.reminders.timezone)
    except ValueError as exc:
        return fail(texts.reason(exc))

    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services:
            return await run_pass(services, now)

    try:
        report = asyncio.run(run())
    except TaskFileError as exc:
        return fail("任务种子文件有误 / the seed tasks file is invalid:\n" + "\n".join(exc.problems))
    summary = {
        "now": now,
        "local_date": report.plan.today,
        "planned": report.plan.planned,
        "skipped_stale": report.plan.skipped,
        "catch_up_digests": report.plan.catch_up,
        "missed_days": report.plan.missed_days,
        "seeded_tasks": report.plan.seeded,
        "window_open": report.window_open,
        "messages": report.messages,
        "sent": report.send.sent,
        "retrying": report.send.retried,
        "dead": report.send.dead,
        "unreachable_contacts": report.send.unreachable,
    }
    if args.json:
        print_json(summary)
    else:
        window = "open" if report.window_open else "closed (non-working day, quiet hours or before send_hour)"
        print(
            f"{_local(now, config.reminders.timezone)}: planned {report.plan.planned}, "
            f"catch-up {report.plan.catch_up}, skipped {report.plan.skipped}; window {window}; "
            f"messages {report.messages}, sent {report.send.sent}, retrying {report.send.retried}, "
            f"dead {report.send.dead}"
        )
    return 0


def cmd_reminders_preview(args: argparse.Namespace) -> int:
    config = config_from(args)
    if not 1 <= args.days <= 366:
        return fail("--days: between 1 and 366")
    try:
        now = parse_now(args.now, config.reminders.timezone)
    except ValueError as exc:
        return fail(texts.reason(exc))

    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services:
            return await preview(services.database, services.config, now, args.days)

    lines = asyncio.run(run())
    if args.json:
        print_json([line.as_dict() for line in lines])
        return 0
    if not lines:
        print(f"nothing planned in the next {args.days} days (tasks and contacts as they are now)")
    for line in lines:
        who = line.contact_name or f"#{line.contact_id}"
        print(f"{line.day} {line.department} {who}: {line.task_id} {line.kind} (due {line.due_date})")
    return 0


def cmd_reminders_list(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 10000:
        return fail("--limit: between 1 and 10000")
    tz = config_from(args).reminders.timezone

    async def run():  # type: ignore[no-untyped-def]
        async with open_services(args) as services, services.database.session() as session:
            return await list_messages(session, status=args.status, limit=args.limit)

    messages = asyncio.run(run())
    if args.json:
        print_json([m.as_dict() for m in messages])
        return 0
    if not messages:
        print("no reminder messages yet")
    for m in messages:
        ack = f" acknowledged {_local(m.acknowledged_at, tz)}" if m.acknowledged_at else ""
        err = f" error: {m.last_error}" if m.last_error and m.status != "sent" else ""
        print(
            f"{m.key} {m.department} {m.contact_name or '#' + str(m.contact_id)} {m.channel} {m.status}"
            f" ({m.deliveries} reminders, {m.attempts} attempts) sent {_local(m.sent_at, tz)}{ack}{err}"
        )
    return 0
