"""The account menu (三个一级菜单，每个最多五个子菜单) and its CLICK keys."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.wechat.limits import menu_name_problem

KEY_QA_REGISTRATION = "QA_REGISTRATION"
KEY_QA_LIST = "QA_LIST"
KEY_QA_PLAN = "QA_PLAN"
KEY_REPORT_NEW = "REPORT_NEW"
KEY_REPORT_MINE = "REPORT_MINE"
KEY_REPORT_GUIDE = "REPORT_GUIDE"
KEY_MY_TASKS = "MY_TASKS"
KEY_BIND_HELP = "BIND_HELP"
KEY_HELP = "HELP"
KEY_PRIVACY = "PRIVACY"
KEY_RATE_USEFUL = "RATE_USEFUL"  # 有用 / 没用 on the last answer, as a tap
KEY_RATE_USELESS = "RATE_USELESS"

MAX_TOP_BUTTONS = 3
MAX_SUB_BUTTONS = 5


def _click(name: str, key: str) -> dict[str, str]:
    return {"type": "click", "name": name, "key": key}


def build_menu(*, officials: bool = False) -> dict[str, Any]:
    """The default menu every follower sees; with ``officials`` the personalised one for the officials'
    tag, which adds 我的任务 and 联络人绑定 (citizens never see them)."""
    mine = [_click(texts.MENU_HELP, KEY_HELP), _click(texts.MENU_PRIVACY, KEY_PRIVACY)]
    if officials:
        mine = [_click(texts.MENU_MY_TASKS, KEY_MY_TASKS), _click(texts.MENU_BIND_HELP, KEY_BIND_HELP), *mine]
    menu = {
        "button": [
            {
                "name": texts.MENU_QA,
                "sub_button": [
                    _click(texts.MENU_QA_REGISTRATION, KEY_QA_REGISTRATION),
                    _click(texts.MENU_QA_LIST, KEY_QA_LIST),
                    _click(texts.MENU_QA_PLAN, KEY_QA_PLAN),
                    _click(texts.MENU_RATE_USEFUL, KEY_RATE_USEFUL),
                    _click(texts.MENU_RATE_USELESS, KEY_RATE_USELESS),
                ],
            },
            {
                "name": texts.MENU_REPORT,
                "sub_button": [
                    _click(texts.MENU_REPORT_NEW, KEY_REPORT_NEW),
                    _click(texts.MENU_REPORT_MINE, KEY_REPORT_MINE),
                    _click(texts.MENU_REPORT_GUIDE, KEY_REPORT_GUIDE),
                ],
            },
            {"name": texts.MENU_MINE, "sub_button": mine},
        ]
    }
    validate_menu(menu)
    return menu


def validate_menu(menu: dict[str, Any]) -> None:
    """WeChat refuses more than 3 top-level buttons or 5 sub-buttons; fail here with a clear message."""
    buttons = menu.get("button", [])
    if not 1 <= len(buttons) <= MAX_TOP_BUTTONS:
        raise ValueError(f"a menu has 1 to {MAX_TOP_BUTTONS} top-level buttons, not {len(buttons)}")
    for button in buttons:
        subs = button.get("sub_button", [])
        if len(subs) > MAX_SUB_BUTTONS:
            raise ValueError(
                f"menu {button['name']!r} has {len(subs)} sub-buttons; the limit is {MAX_SUB_BUTTONS}"
            )
        for name, top in ((button.get("name", ""), True), *((sub.get("name", ""), False) for sub in subs)):
            if (problem := menu_name_problem(str(name), top=top)) is not None:
                raise ValueError(problem)
