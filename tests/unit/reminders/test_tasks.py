"""The tasks file (validation with clear messages), the seed, and the task queries for chat and console."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.tasks import workdays
from bot.tasks.completion import deliveries_for_task, mark_done
from bot.tasks.planfile import TaskFileError, import_tasks, parse_tasks_text, read_tasks_file
from bot.tasks.seed import generate_seed
from bot.tasks.status import TaskError, list_tasks
from knowledge.plan import load_plan
from storage.db import Database
from storage.models import Department
from tests.unit.reminders.helpers import at, load_tasks, task_toml

SEED = PROJECT_ROOT / "knowledge" / "data" / "tasks.toml"


async def _names(db: Database) -> tuple[list[str], list[str]]:
    async with db.session() as s:
        rows = (await s.execute(select(Department.name, Department.kind).order_by(Department.id))).all()
    return [n for n, _ in rows], [n for n, k in rows if k != "city"]


async def test_problems_name_the_file_and_the_entry(db: Database) -> None:
    names, local = await _names(db)
    text = """
[[task]]
id = "T1"
title = "ok"
lead_unit = "市生态环境局"
lead_named = true
deadline = 2025-12-31

[[task]]
id = "T2"
title = "bad"
lead_unit = "市教育局"
lead_named = true
deadline = "tomorrow"
colour = "red"

[[task]]
id = "T1"
title = "again"
lead_unit = "市卫健委"
lead_named = true
recurrence = "yearly"
due = "02-30"
"""
    with pytest.raises(TaskFileError) as info:
        parse_tasks_text(text, "tasks.toml", names, local)
    problems = info.value.problems
    assert any(p.startswith("tasks.toml: task #2 (id T2): lead_unit: 未知部门“市教育局”") for p in problems)
    assert any("task #2 (id T2): deadline must be a date" in p for p in problems)
    assert any("task #2 (id T2): unknown key 'colour'" in p for p in problems)
    assert any("task #3 (id T1): due 02-30 is not a day of the year" in p for p in problems)


async def test_toml_errors_give_the_line(db: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[task]]\nid = "T1"\ntitle = "unterminated\n', encoding="utf-8")
    async with db.session() as s:
        with pytest.raises(TaskFileError, match=r"bad.toml: not valid TOML: .*line 3"):
            await read_tasks_file(s, bad)
        with pytest.raises(TaskFileError, match="no such file"):
            await read_tasks_file(s, tmp_path / "missing.toml")
        (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
        with pytest.raises(TaskFileError, match="UTF-8"):
            await read_tasks_file(s, tmp_path / "bin.toml")
    names = await _names(db)
    with pytest.raises(TaskFileError, match="appears twice"):
        parse_tasks_text(task_toml("T1") + task_toml("T1"), "dup.toml", *names)
    with pytest.raises(TaskFileError, match="no \\[\\[task\\]\\] entries"):
        parse_tasks_text("title = 1\n", "empty.toml", *names)


async def test_the_committed_seed_file_is_valid_and_covers_the_plan(db: Database) -> None:
    async with db.session() as s:
        specs = await read_tasks_file(s, SEED)
        result = await import_tasks(s, specs, source="tasks.toml", now=at(2025, 1, 1))
        await s.commit()
    clauses = [c for c in load_plan() if c.units]
    assert {sp.citation for sp in specs} == {c.citation for c in clauses}
    assert result.created == len(specs)
    by_citation = {sp.citation: sp for sp in specs}
    first_survey = by_citation["二（二）1"]
    assert first_survey.deadline == date(2023, 12, 31) and first_survey.lead_unit == "市生态环境局"
    assert by_citation["二（二）2"].deadline == date(2025, 12, 31)
    assert by_citation["二（三）6"].recurrence == "yearly"
    assert all(len(sp.local_units) == 14 for sp in specs)  # 13 county governments and the development zone
    async with db.session() as s:
        again = await import_tasks(s, specs, source="tasks.toml", now=at(2025, 1, 2))
    assert again.unchanged == len(specs)


def test_the_generator_reads_the_plan() -> None:
    text = generate_seed(load_plan())
    assert 'citation = "二（二）1"' in text and "deadline = 2023-12-31" in text


async def test_list_tasks_overdue_first_and_per_department(db: Database) -> None:
    now = at(2026, 1, 8, 10)
    await load_tasks(
        db,
        task_toml("T1", deadline="2023-12-31", local='["盐湖区"]')
        + task_toml("T2", deadline="2026-03-31", local='["盐湖区"]')
        + task_toml("T3", deadline="2025-12-31", lead="市卫健委"),
        now,
    )
    async with db.session() as s:
        views = await list_tasks(s, now=now)
        assert [v.id for v in views] == ["T1", "T3", "T2"]
        assert views[0].due_date == date(2023, 12, 29) and views[0].status == "overdue"
        assert views[0].overdue_working_days == workdays.working_days_between(date(2023, 12, 29), date(2026, 1, 8))
        county = await list_tasks(s, department="盐湖区", now=now)
        assert [v.id for v in county] == ["T1", "T2"]
        await mark_done(s, "T1", "盐湖区", actor="王五", now=now, via="chat")
        await s.commit()
        county = await list_tasks(s, department="盐湖区", now=now)
        assert [(v.id, v.status) for v in county] == [("T2", "open"), ("T1", "done")]
        done = next(d for d in county[1].departments if d.department == "盐湖区政府")
        assert done.done_by == "王五" and done.done_at == now
        assert [v.id for v in await list_tasks(s, department="盐湖区", now=now, open_only=True)] == ["T2"]
        assert (await mark_done(s, "T1", "盐湖区", actor="x", now=now)).already
        with pytest.raises(TaskError, match="没有分配给"):
            await mark_done(s, "T3", "盐湖区", actor="x", now=now)
        with pytest.raises(TaskError, match="没有编号"):
            await mark_done(s, "T404", "盐湖区", actor="x", now=now)
        assert await deliveries_for_task(s, "T1") == []
