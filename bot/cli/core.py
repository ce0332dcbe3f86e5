"""serve, db upgrade, db status, menu push."""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web

from bot import texts
from bot.cli.common import config_from, fail, open_services, print_json
from bot.logging_setup import configure
from bot.menu import build_menu
from bot.outbound.channels.base import ChannelError
from knowledge.duties import duties
from storage.departments import seed_departments
from storage.migrate import current_heads, expected_heads, upgrade


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser("serve", parents=parents, help="run the service (callback, simulator, jobs)")
    serve.add_argument("--host", help="override [server] host")
    serve.add_argument("--port", type=int, help="override [server] port")
    serve.set_defaults(func=cmd_serve)

    db = subparsers.add_parser("db", parents=parents, help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.required = True
    up = db_sub.add_parser("upgrade", parents=parents, help="apply every pending migration")
    up.set_defaults(func=cmd_db_upgrade)
    status = db_sub.add_parser("status", parents=parents, help="show the schema revision")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_db_status)

    menu = subparsers.add_parser("menu", parents=parents, help="the account menu")
    menu_sub = menu.add_subparsers(dest="menu_command", metavar="ACTION")
    menu_sub.required = True
    push = menu_sub.add_parser("push", parents=parents, help="create the menu on the account")
    push.add_argument("--json", action="store_true", help="print the menu instead of a summary")
    push.set_defaults(func=cmd_menu_push)


def cmd_serve(args: argparse.Namespace) -> int:
    # The whole service (web app, console, knowledge base, jieba) loads only when it is served: the other
    # commands start in a fraction of the time. The command line is the one place that starts the app.
    from bot.app import create_app
    config = config_from(args)
    configure(config.logging.format, config.server.log_level, zone=config.reminders.timezone)
    host = args.host or config.server.host
    port = args.port or config.server.port
    app = create_app(config)
    mode = "sandbox (no WeChat credentials; simulator at /simulator)" if config.uses_sandbox else "WeChat API"
    print(f"serving on http://{host}:{port} — {mode}", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None, loop=_event_loop(config.server.uvloop))
    return 0


def _event_loop(use_uvloop: bool) -> asyncio.AbstractEventLoop:
    """uvloop's loop when configured and installed, else asyncio's."""
    if use_uvloop:
        try:
            import uvloop
        except ImportError:  # a platform without its wheel: asyncio's loop serves the same
            return asyncio.new_event_loop()
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    async def run() -> set[str]:
        async with open_services(args, migrate=False) as services:
            await upgrade(services.database)
            await seed_departments(services.database, duties().units)
            return await current_heads(services.database)

    heads = asyncio.run(run())
    print("schema at " + ", ".join(sorted(heads)))
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    async def run() -> set[str]:
        async with open_services(args, migrate=False) as services:
            return await current_heads(services.database)

    current, expected = asyncio.run(run()), expected_heads()
    if args.json:
        print_json({"current": sorted(current), "expected": sorted(expected), "up_to_date": current == expected})
    else:
        state = "up to date" if current == expected else "behind: run `python -m bot db upgrade`"
        print(f"schema {', '.join(sorted(current)) or '(empty)'} — {state}")
    return 0 if current == expected else 1


def cmd_menu_push(args: argparse.Namespace) -> int:
    menu = build_menu()
    officials = build_menu(officials=True)

    async def run() -> None:
        async with open_services(args) as services:
            account = services.mp_account()
            await account.create_menu(menu)  # what every follower sees: no officials' items
            tag_id = await account.ensure_tag(texts.OFFICIALS_TAG)
            await account.create_conditional_menu(officials, tag_id)

    try:
        asyncio.run(run())
    except ChannelError as exc:
        return fail(f"菜单创建失败：{exc} (errcode {exc.errcode})")
    if args.json:
        print_json(menu)
    else:
        names = " / ".join(b["name"] for b in menu["button"])
        print(f"menu pushed: {names}")
    return 0
