"""``python -m bot staff …``: add, list, remove, reset-password, unlock; clear errors, never tracebacks."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YCBOT_STORAGE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("YCBOT_STORAGE_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("YCBOT_SCHEDULER_ENABLED", "false")
    monkeypatch.delenv("YCBOT_CONFIG", raising=False)


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = ""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_add_list_reset_remove(cli_env, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(
        monkeypatch,
        capsys,
        "staff",
        "add",
        "Zhao",
        "--department",
        "市生态环境局",
        "--admin",
        "--password-stdin",
        stdin="first secret 1\n",
    )
    assert code == 0 and "added zhao" in out
    code, out, _ = run(
        monkeypatch,
        capsys,
        "staff",
        "add",
        "qian",
        "--department",
        "盐湖区政府",
        "--password-stdin",
        stdin="second secret 2\n",
    )
    assert code == 0
    code, out, _ = run(monkeypatch, capsys, "staff", "list", "--json")
    listed = json.loads(out)
    assert [(a["username"], a["department"], a["admin"]) for a in listed] == [
        ("qian", "盐湖区政府", False),
        ("zhao", "市生态环境局", True),
    ]
    assert "password" not in out
    code, out, _ = run(monkeypatch, capsys, "staff", "list")
    assert code == 0 and "zhao\t市生态环境局\tadmin" in out
    code, out, _ = run(
        monkeypatch, capsys, "staff", "reset-password", "qian", "--password-stdin", stdin="new secret 3\n"
    )
    assert code == 0 and "password changed" in out
    code, out, _ = run(monkeypatch, capsys, "staff", "unlock", "qian")
    assert code == 0 and "unlocked qian" in out
    code, out, _ = run(monkeypatch, capsys, "staff", "remove", "QIAN")
    assert code == 0 and "removed qian" in out
    code, out, _ = run(monkeypatch, capsys, "staff", "list", "--json")
    assert [a["username"] for a in json.loads(out)] == ["zhao"]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (("staff", "add", "li", "--department", "无此单位", "--password-stdin"), "good secret 1\n", "没有名为"),
        (("staff", "add", "li", "--department", "市卫健委", "--password-stdin"), "short\n", "至少"),
        (("staff", "add", "li", "--department", "市卫健委", "--password-stdin"), "", "no password"),
        (("staff", "add", "li", "--department", "市卫健委"), "", "--password-stdin"),
        (("staff", "add", "?", "--department", "市卫健委", "--password-stdin"), "good secret 1\n", "用户名"),
        (("staff", "remove", "ghost"), "", "没有用户"),
        (("staff", "reset-password", "ghost", "--password-stdin"), "good secret 1\n", "没有用户"),
        (("staff", "unlock", "ghost"), "", "没有用户"),
    ],
)
def test_bad_input_gives_a_message_and_exit_code(cli_env, monkeypatch, capsys, argv, stdin, message) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run(monkeypatch, capsys, *argv, stdin=stdin)
    assert code != 0
    assert message in err
    assert "Traceback" not in err


def test_duplicate_add(cli_env, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    args = ("staff", "add", "li", "--department", "市卫健委", "--password-stdin")
    assert run(monkeypatch, capsys, *args, stdin="good secret 1\n")[0] == 0
    code, _out, err = run(monkeypatch, capsys, *args, stdin="good secret 1\n")
    assert code == 1 and "已存在" in err


def test_missing_department_is_a_usage_error(cli_env, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        run(monkeypatch, capsys, "staff", "add", "li")
    assert exc.value.code == 2


def test_a_county_short_name_is_its_government(cli_env, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    args = ("staff", "add", "yanhu", "--department", "盐湖区", "--password-stdin")
    code, out, err = run(monkeypatch, capsys, *args, stdin="good secret 1\n")
    assert code == 0, err
    assert "added yanhu (盐湖区政府)" in out
    code, out, _ = run(monkeypatch, capsys, "staff", "list", "--json")
    assert [(a["username"], a["department"]) for a in json.loads(out)] == [("yanhu", "盐湖区政府")]


@pytest.mark.parametrize("department", ["盐湖", "生态环境局", "盐湖区政府 x", "市"])
def test_unknown_unit_lists_the_valid_names(cli_env, monkeypatch, capsys, department) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run(monkeypatch, capsys, "staff", "add", "li", "--department", department, "--password-stdin")
    assert code == 1
    assert f"没有名为“{department}”的部门" in err
    for name in ("市生态环境局", "市农业农村局", "运城开发区管委会", "盐湖区政府", "河津市政府"):
        assert name in err
    assert "no password" not in err  # refused before the password was read


def test_taken_name_is_refused_before_the_password(cli_env, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    args = ("staff", "add", "li", "--department", "市卫健委", "--password-stdin")
    assert run(monkeypatch, capsys, *args, stdin="good secret 1\n")[0] == 0
    code, _out, err = run(monkeypatch, capsys, *args, stdin="")
    assert code == 1 and "已存在" in err and "no password" not in err
