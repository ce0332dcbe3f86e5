"""A unit is 牵头 only where the plan names it so; elsewhere officials see the units 按职责分工负责."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from bot.tasks.status import TaskView

TASKS = Path(__file__).resolve().parents[3] / "knowledge" / "data" / "tasks.toml"


def test_the_shipped_tasks_name_a_lead_only_where_the_plan_does() -> None:
    tasks = tomllib.loads(TASKS.read_text(encoding="utf-8"))["task"]
    named = {t["id"] for t in tasks if t.get("lead_named")}
    plan = "".join((TASKS.parent / "plan.txt").read_text(encoding="utf-8").split())
    # the plan says 牵头 five times: 二（三）1, 三（一）, 三（三） twice (the mechanism, i.e. 二（一）1, and its own
    # clause) and 三（六）; every other clause has its units 按职责分工负责 or names one unit
    assert plan.count("牵头") == 5
    assert named == {"T231", "T31", "T33", "T36", "T211"}
    assert "T233" not in named and "T236" not in named  # 按职责分工负责 in the plan


def _view(lead_named: bool) -> TaskView:
    return TaskView(
        id="T236", citation="二（三）6", title="严格抗生素类药品使用管理", deliverable="", lead_unit="市卫健委",
        co_units=["市农业农村局", "市生态环境局"], local_units=[], recurrence="once", deadline_text="",
        deadline_basis="", period="once", nominal_deadline=None, due_date=None, status="open",
        overdue_working_days=0, working_days_left=0, lead_named=lead_named,
    )


def test_units_without_a_named_lead_share_the_task() -> None:
    shared = _view(False)
    assert shared.responsible_units == "市卫健委、市农业农村局、市生态环境局（按职责分工负责）"
    assert shared.role_label("lead") == shared.role_label("co") == "按职责分工负责"
    assert not shared.leads("市卫健委")
    sole = dataclasses.replace(_view(False), co_units=[])
    assert sole.responsible_units == "市卫健委" and sole.role_label("lead") == "负责"
    named = _view(True)
    assert named.responsible_units == "市卫健委" and named.role_label("lead") == "牵头" and named.leads("市卫健委")
