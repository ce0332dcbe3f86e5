"""The operator commands in-process: tasks, contacts and reminders, with --json output and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.unit.reminders.helpers import task_toml


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/bot.db"\nmedia_dir = "{tmp_path}/media"\n'
        '[scheduler]\nenabled = false\n[reminders]\nseed_file = ""\n',
        encoding="utf-8",
    )
    return path


def run(cfg: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_tasks_contacts_and_reminders(cfg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(task_toml("T1", local='["盐湖区"]') + task_toml("T2", lead="市卫健委"), encoding="utf-8")
    assert run(cfg, capsys, "tasks", "import", str(tasks))[1].startswith("imported")
    code, out, _ = run(cfg, capsys, "tasks", "list", "--json")
    assert code == 0 and {t["id"] for t in json.loads(out)} == {"T1", "T2"}

    code, out, _ = run(cfg, capsys, "contacts", "invite", "--department", "盐湖区", "--name", "王五")
    assert code == 0 and len(out.strip().splitlines()[-1]) == 9  # XXXX-XXXX on the last line
    code, out, _ = run(cfg, capsys, "contacts", "add-wecom", "--department", "卫健委", "--userid", "li.si")
    assert code == 0 and "市卫健委" in out
    code, out, _ = run(cfg, capsys, "contacts", "list", "--json")
    [contact] = json.loads(out)
    assert contact["channel"] == "wecom" and contact["department"] == "市卫健委"

    code, out, _ = run(cfg, capsys, "reminders", "preview", "--now", "2025-12-29T10:00", "--days", "3", "--json")
    lines = json.loads(out)
    assert code == 0 and {(x["task_id"], x["kind"]) for x in lines} == {("T2", "before-1"), ("T2", "due")}
    code, out, _ = run(cfg, capsys, "reminders", "dispatch", "--now", "2025-12-30T10:00", "--json")
    assert code == 0 and json.loads(out)["sent"] == 1  # to the WeCom contact, in the sandbox
    code, out, _ = run(cfg, capsys, "reminders", "list", "--json")
    assert [m["status"] for m in json.loads(out)] == ["sent"]

    code, out, _ = run(cfg, capsys, "tasks", "done", "T1", "--department", "盐湖区", "--by", "王五")
    assert code == 0 and "marked done for 盐湖区政府 by 王五" in out
    code, out, _ = run(cfg, capsys, "tasks", "show", "T1", "--json")
    [county] = [d for d in json.loads(out)["departments"] if d["department"] == "盐湖区政府"]
    assert county["status"] == "done" and county["done_by"] == "王五"
    code, out, _ = run(cfg, capsys, "contacts", "remove", "--userid", "li.si")
    assert code == 0 and run(cfg, capsys, "contacts", "list", "--json")[1].strip() == "[]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reminders", "dispatch", "--now", "2025-13-40"), "not an ISO 8601 time"),
        (("reminders", "list", "--limit", "0"), "--limit"),
        (("tasks", "list", "--department", "火星局"), "未知部门"),
        (("tasks", "done", "T9", "--department", "盐湖区"), "没有编号为 T9 的任务"),
        (("tasks", "show", "T9"), "没有编号为 T9 的任务"),
        (("contacts", "add-wecom", "--department", "盐湖区", "--userid", "bad id"), "userid"),
        (("contacts", "invite", "--department", "盐湖区", "--name", "x" * 100), "姓名过长"),
    ],
)
def test_bad_arguments_get_a_clear_message(
    cfg: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, _, err = run(cfg, capsys, *args)
    assert code != 0 and message in err


def test_import_errors_name_the_entry_and_change_nothing(
    cfg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(task_toml("T1") + task_toml("T2", lead="市教育局"), encoding="utf-8")
    code, _, err = run(cfg, capsys, "tasks", "import", str(bad))
    assert code != 0 and "bad.toml: task #2 (id T2): lead_unit" in err and "nothing imported" in err
    assert json.loads(run(cfg, capsys, "tasks", "list", "--json")[1]) == []


def test_seed_file_is_generated_from_the_plan(cfg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "seed.toml"
    assert run(cfg, capsys, "tasks", "seed-file", "--output", str(out_path))[0] == 0
    code, out, err = run(cfg, capsys, "tasks", "import", str(out_path))
    assert code == 0, err
    assert "created" in out
