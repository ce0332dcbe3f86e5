"""Routing: filters, state conditions and router priority decide which handler answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import menu
from bot.context import Context
from bot.conversation import ConversationState
from bot.routing import (
    ANY_STATE,
    NO_STATE,
    Dispatcher,
    HandlerResult,
    Router,
    any_of,
    event,
    has_text,
    menu_key,
    msg_type,
    not_,
    text_is,
    text_matches,
    text_startswith,
)
from bot.wechat.messages import Incoming, Location

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def make_ctx(msg: str = "text", *, state: str | None = None, **fields: Any) -> Context:
    conversation = ConversationState("u1", NOW, timedelta(minutes=30))
    conversation.state = state
    incoming = Incoming(to_user="gh", openid="u1", create_time=1, msg_type=msg, **fields)
    return Context(incoming=incoming, session=None, conversation=conversation, services=None, now=NOW)  # type: ignore[arg-type]


def answer(name: str):  # type: ignore[no-untyped-def]
    async def handler(ctx: Context) -> HandlerResult:
        return name

    return handler


async def fallback(ctx: Context) -> HandlerResult:
    return "fallback"


@pytest.mark.parametrize(
    ("flt", "ctx", "expected"),
    [
        (msg_type("TEXT"), make_ctx("text", content="x"), True),
        (msg_type("image", "location"), make_ctx("text", content="x"), False),
        (has_text(), make_ctx("text", content="  "), False),
        (has_text(), make_ctx("voice", recognition="举报。"), True),
        (text_is("帮助"), make_ctx("text", content=" 帮助！ "), True),
        (text_is("help"), make_ctx("text", content="HELP?"), True),
        (text_is("帮助"), make_ctx("text", content="帮助我"), False),
        (text_is("？"), make_ctx("text", content=" ？"), True),
        (text_is("？", "?"), make_ctx("image", media_id="m"), False),
        (text_is("？", "?"), make_ctx("text", content=""), False),
        (text_is("举报"), make_ctx("voice", recognition="举报。"), True),
        (text_startswith("绑定"), make_ctx("text", content="绑定 123456"), True),
        (text_startswith("完成"), make_ctx("text", content="已完成"), False),
        (text_matches(r"查询\s*\d+"), make_ctx("text", content="查询 2026"), True),
        (text_matches(r"查询\s*\d+"), make_ctx("text", content="查询 2026 吧"), False),
        (event("subscribe"), make_ctx("event", event="subscribe"), True),
        (event("SUBSCRIBE"), make_ctx("event", event="subscribe"), True),
        (event("subscribe"), make_ctx("text", content="subscribe"), False),
        (menu_key(menu.KEY_HELP), make_ctx("event", event="CLICK", event_key=menu.KEY_HELP), True),
        (menu_key(menu.KEY_HELP), make_ctx("event", event="VIEW", event_key=menu.KEY_HELP), False),
        (menu_key(menu.KEY_HELP), make_ctx("event", event="CLICK", event_key=menu.KEY_MY_TASKS), False),
        (any_of(msg_type("image"), msg_type("location")), make_ctx("location", location=Location(1, 2)), True),
        (not_(msg_type("text")), make_ctx("text", content="x"), False),
    ],
)
def test_filters(flt, ctx: Context, expected: bool) -> None:  # type: ignore[no-untyped-def]
    assert flt(ctx) is expected


@pytest.mark.parametrize(
    ("spec", "state", "expected"),
    [
        (ANY_STATE, None, True),
        (ANY_STATE, "report:location", True),
        (NO_STATE, None, True),
        (NO_STATE, "report:location", False),
        ("report:location", "report:location", True),
        ("report:location", "report:photos", False),
        ("report:*", "report:photos", True),
        ("report:*", None, False),
        ("report:*", "reporting", False),
        (("bind:code", "report:*"), "bind:code", True),
        (("bind:code", "report:*"), "tasks:done", False),
    ],
)
async def test_state_conditions(spec, state: str | None, expected: bool) -> None:  # type: ignore[no-untyped-def]
    router = Router("r")
    router.on(msg_type("text"), state=spec)(answer("matched"))
    dispatcher = Dispatcher([router], fallback=fallback)
    result = await dispatcher.dispatch(make_ctx("text", content="x", state=state))
    assert (result == "matched") is expected


async def test_routers_are_tried_in_priority_order_and_fallback_last() -> None:
    first, second = Router("first"), Router("second")
    second.on(msg_type("text"))(answer("second-any-text"))
    first.on(text_is("取消"))(answer("first-cancel"))
    first.on(msg_type("text"), state="report:*")(answer("first-in-report"))
    dispatcher = Dispatcher([first, second], fallback=fallback)

    assert await dispatcher.dispatch(make_ctx("text", content="取消", state="report:photos")) == "first-cancel"
    assert await dispatcher.dispatch(make_ctx("text", content="x", state="report:photos")) == "first-in-report"
    assert await dispatcher.dispatch(make_ctx("text", content="x")) == "second-any-text"
    assert await dispatcher.dispatch(make_ctx("image", media_id="m")) == "fallback"


async def test_routes_within_a_router_keep_declaration_order() -> None:
    router = Router("r")
    router.on(has_text())(answer("general"))
    router.on(text_is("帮助"))(answer("specific"))
    assert await Dispatcher([router], fallback=fallback).dispatch(make_ctx("text", content="帮助")) == "general"


def _never_called(ctx: Context) -> bool:
    raise AssertionError("a filter was run for a push it cannot match")


@pytest.mark.parametrize(
    ("declared", "ctx"),
    [
        (menu_key(menu.KEY_HELP), make_ctx("text", content="帮助")),
        (event("subscribe"), make_ctx("event", event="CLICK", event_key=menu.KEY_HELP)),
        (text_is("帮助"), make_ctx("image", media_id="m")),
        (msg_type("location"), make_ctx("event", event="LOCATION", location=Location(1, 2))),
        (any_of(event("view"), msg_type("image")), make_ctx("text", content="x")),
    ],
)
async def test_a_route_is_skipped_for_pushes_its_filters_declare_they_cannot_match(declared, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    router = Router("r")
    router.on(_never_called, declared)(answer("wrong"))
    router.on()(answer("next"))
    assert await Dispatcher([router], fallback=fallback).dispatch(ctx) == "next"


async def test_routes_after_a_filter_that_ends_the_dialog_see_the_new_state() -> None:
    def release(ctx: Context) -> bool:
        ctx.conversation.clear()
        return False

    router = Router("r")
    router.on(release, state="kb:offered")(answer("never"))
    router.on(text_is("x"), state="kb:offered")(answer("still offered"))
    router.on(text_is("x"), state=NO_STATE)(answer("outside a dialog"))
    dispatcher = Dispatcher([router], fallback=fallback)
    for _ in range(2):  # the second time from the kept route positions
        assert await dispatcher.dispatch(make_ctx("text", content="x", state="kb:offered")) == "outside a dialog"
        assert await dispatcher.dispatch(make_ctx("text", content="y", state="kb:offered")) == "fallback"


def test_router_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Dispatcher([Router("same"), Router("same")], fallback=fallback)


def test_the_service_dispatcher_builds() -> None:
    from handlers import all_routers, build_dispatcher

    routers = all_routers()
    names = [r.name for r in routers]
    # a numbered pick is seen first; dialogs before free-text questions; the fallback last
    assert names[0] == "knowledge-pick"
    assert names.index("common") < names.index("report") < names.index("knowledge")
    assert names[-1] == "common-fallback"
    assert build_dispatcher().routers == routers


async def test_common_routes_answer_help_and_cancel_outside_and_inside_dialogs() -> None:
    from bot import texts
    from handlers import build_dispatcher

    dispatcher = build_dispatcher()
    assert await dispatcher.dispatch(make_ctx("text", content="帮助")) == texts.HELP
    assert await dispatcher.dispatch(make_ctx("text", content="取消")) == texts.NOTHING_TO_CANCEL
    inside = make_ctx("text", content="取消", state="report:location")
    assert await dispatcher.dispatch(inside) == texts.CANCELLED
    assert inside.conversation.state is None
    for kind in ("video", "shortvideo", "link", "file", "hologram"):
        assert await dispatcher.dispatch(make_ctx(kind)) == texts.UNSUPPORTED_TYPE


def test_menu_keys_are_all_routable() -> None:
    built = menu.build_menu(officials=True)  # the officials' menu has every key; citizens' lacks two
    keys = {sub["key"] for button in built["button"] for sub in button["sub_button"]}
    assert keys == {
        menu.KEY_QA_REGISTRATION, menu.KEY_QA_LIST, menu.KEY_QA_PLAN, menu.KEY_REPORT_NEW, menu.KEY_REPORT_MINE,
        menu.KEY_REPORT_GUIDE, menu.KEY_MY_TASKS, menu.KEY_BIND_HELP, menu.KEY_HELP, menu.KEY_PRIVACY,
        menu.KEY_RATE_USEFUL, menu.KEY_RATE_USELESS,
    }


@pytest.mark.parametrize("buttons", [[], [{"name": "a"}] * 4, [{"name": "a", "sub_button": [{}] * 6}]])
def test_menu_limits(buttons: list[dict[str, Any]]) -> None:
    with pytest.raises(ValueError):
        menu.validate_menu({"button": buttons})
