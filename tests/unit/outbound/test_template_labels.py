"""Template messages are described with the labels of the configured template's key map."""

from __future__ import annotations

from pathlib import Path

from bot import texts
from bot.outbound.notify import SANDBOX_TEMPLATE_ID, message_payload
from bot.outbound.template_labels import describe, template_specs
from tests.conftest import make_config

FIELDS = {
    "事项": "新举报 YC20261204-0007",
    "截止时间": "2026年12月10日 23:59",
    "状态": "待受理",
    "单位": "市生态环境局",
}


def test_a_reminder_template_shows_its_labels(tmp_path: Path) -> None:
    config = make_config(tmp_path, f"sqlite:///{tmp_path}/t.db")
    _kind, payload = message_payload(config, "mp", title="t", fields=FIELDS, detail="", url="")
    assert payload["template_id"] == SANDBOX_TEMPLATE_ID
    title, lines = describe(template_specs(config), payload["template_id"], payload["data"])
    assert title == texts.REMINDER_TITLE
    assert lines == [
        "事项：新举报 YC20261204-0007",
        "截止时间：2026年12月10日 23:59",
        "状态：待受理",
        "单位：市生态环境局",
    ]


def test_labels_follow_the_configured_keys(tmp_path: Path) -> None:
    config = make_config(tmp_path, f"sqlite:///{tmp_path}/t.db", YCBOT_REMINDERS_TEMPLATE_ID="tpl-real-1")
    config.reminders.template_keys = ["thing7", "time9", "phrase3", "thing11", "thing12"]
    specs = template_specs(config)
    data = {"thing7": "任务", "time9": "2026-12-31", "thing12": "备注"}
    title, lines = describe(specs, "tpl-real-1", data)
    assert title == texts.REMINDER_TITLE
    assert lines == ["事项：任务", "截止时间：2026-12-31", "thing12：备注"]  # a fifth key has no label: its name


def test_an_unknown_template_keeps_its_keys(tmp_path: Path) -> None:
    config = make_config(tmp_path, f"sqlite:///{tmp_path}/t.db")
    specs = template_specs(config)
    assert describe(specs, "TPL1", {"thing1": "x", "time2": {"value": "y"}}) == ("TPL1", ["thing1：x", "time2：y"])
    # the configured id with a key the template does not have is not that template
    assert describe(specs, SANDBOX_TEMPLATE_ID, {"keyword1": "x"}) == (SANDBOX_TEMPLATE_ID, ["keyword1：x"])
