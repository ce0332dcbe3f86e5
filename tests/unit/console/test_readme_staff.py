"""The README's Staff console commands, run as written in a shell (a prompt answered on a terminal).

Only the interpreter path is provided: ``.venv/bin/python`` in a scratch directory starts this test's
Python, and the database is a scratch SQLite file given through the environment.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PROMPT = "password: "
AGAIN = "again: "
PASSWORD = "readme secret 42"
DEADLINE_SECONDS = 60.0


def readme_section_commands(heading: str) -> list[str]:
    """The command lines of the ```bash blocks under ``## heading`` (up to the next ``## ``)."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


@dataclass
class Ran:
    code: int
    output: str
    prompts: int


def run_on_terminal(command: str, cwd: Path, env: dict[str, str]) -> Ran:
    """Run ``command`` with bash on a pseudo-terminal, typing the password at each prompt."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        ["bash", "-c", command], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
    )
    os.close(slave)
    output = b""
    answered = 0
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                seen = output.decode("utf-8", "replace")
                prompts = seen.count(PROMPT) + seen.count(AGAIN)
                while answered < prompts:
                    os.write(master, (PASSWORD + "\n").encode())
                    answered += 1
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return Ran(code, output.decode("utf-8", "replace"), answered)


@pytest.fixture
def shell_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A scratch working directory whose ``.venv/bin/python`` is this interpreter, and a scratch database."""
    venv_bin = tmp_path / "work" / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    launcher = venv_bin / "python"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("YCBOT_")}
    env.update(
        YCBOT_CONFIG=str(PROJECT_ROOT / "config.example.toml"),
        YCBOT_STORAGE_URL=f"sqlite:///{tmp_path}/readme.db",
        YCBOT_STORAGE_MEDIA_DIR=str(tmp_path / "media"),
        YCBOT_SCHEDULER_ENABLED="false",
        STAFF_PASSWORD=PASSWORD,
    )
    return tmp_path / "work", env


def test_readme_staff_commands_run_as_written(shell_env) -> None:  # type: ignore[no-untyped-def]
    cwd, env = shell_env
    commands = readme_section_commands("Staff console")
    assert len(commands) >= 4, commands
    assert any("--password-stdin" in c for c in commands), "the README shows how to pass a password in a script"
    results = [run_on_terminal(command, cwd, env) for command in commands]
    for command, ran in zip(commands, results, strict=True):
        assert ran.code == 0, f"{command}\n{ran.output}"
        assert "Traceback" not in ran.output
    by_command = dict(zip(commands, results, strict=True))
    prompted = [c for c, r in by_command.items() if r.prompts]
    assert all("--password-stdin" not in c for c in prompted)
    assert all(by_command[c].prompts == 2 for c in commands if "staff add" in c and "--password-stdin" not in c)
    listing = results[-1].output
    assert "admin\t市生态环境局\tadmin" in listing
    assert "yanhu\t盐湖区政府\tstaff" in listing
    assert "nongye\t市农业农村局\tstaff" in listing


def test_unknown_unit_is_refused_before_the_password_prompt(shell_env) -> None:  # type: ignore[no-untyped-def]
    cwd, env = shell_env
    ran = run_on_terminal(".venv/bin/python -m bot staff add yanhu --department 盐湖", cwd, env)
    assert ran.code == 1
    assert ran.prompts == 0 and PROMPT not in ran.output
    assert "没有名为“盐湖”的部门" in ran.output
    assert "盐湖区政府" in ran.output and "市农业农村局" in ran.output and "如“盐湖区”" in ran.output
