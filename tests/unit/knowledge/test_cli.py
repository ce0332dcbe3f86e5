"""`kb ask / eval / check` on the command line (one subprocess run, the rest in-process)."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import cli
from knowledge.loader import DATA_DIR

ROOT = Path(__file__).resolve().parents[3]


def test_ask_json_from_stdin_with_bad_input_in_a_real_process() -> None:
    stdin = "药店卖抗生素要处方吗\n\n".encode() + b"\xff\xfe\xe5\x9d\x8f\n" + "今天天气怎么样\n😀\n".encode()
    proc = subprocess.run(
        [sys.executable, "-m", "knowledge.cli", "kb", "ask", "--json"],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(records) == 4  # the blank line is skipped, the undecodable one is still answered
    for r in records:
        assert set(r) == {"question", "matched", "answer", "sources", "score", "kind"}
        assert r["kind"] in ("answer", "partial", "refusal", "registration", "chemical", "smalltalk", "emergency",
                             "report")
        assert isinstance(r["matched"], bool) and isinstance(r["sources"], list)
        assert isinstance(r["score"], float) and len(r["answer"]) <= 600
    assert records[0]["matched"] and records[0]["sources"] == ["《运城市新污染物治理工作方案》二（三）6"]
    assert [r["matched"] for r in records[1:]] == [False, False, False]
    assert records[0]["kind"] == "answer" and records[2]["kind"] == "refusal"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_arguments_plain_text(capsys: pytest.CaptureFixture[str], knowledge_base, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("knowledge.answerer.load_knowledge_base", lambda data_dir=None: knowledge_base)
    code, out, _ = run(["kb", "ask", "PFOS还能用吗", "每年生产十五吨"], capsys)
    assert code == 0
    assert "问：PFOS还能用吗" in out and "禁止生产" in out
    assert "问：每年生产十五吨" in out and "常规登记" in out


def test_ask_reads_stdin_when_no_question(capsys, knowledge_base, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("knowledge.answerer.load_knowledge_base", lambda data_dir=None: knowledge_base)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("你好\n\x00\x01\n".encode()), encoding="utf-8"))
    code, out, _ = run(["kb", "ask", "--json"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["question"] for r in rows] == ["你好", "\x00\x01"]
    assert not any(r["matched"] for r in rows)


def test_eval_passes_and_prints_figures(capsys, knowledge_base, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("knowledge.answerer.load_knowledge_base", lambda data_dir=None: knowledge_base)
    code, out, _ = run(["kb", "eval", "--quiet"], capsys)
    assert code == 0, out
    assert "in-domain top-1 accuracy" in out and "out-of-domain refusal" in out
    assert "heldout" in out and "calibrated on the tuning splits" in out


def test_eval_fails_below_target(tmp_path: Path, capsys, knowledge_base, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("knowledge.answerer.load_knowledge_base", lambda data_dir=None: knowledge_base)
    (tmp_path / "indomain.tsv").write_text("dev\tgen-what\t今天天气怎么样\tx\n", encoding="utf-8")
    (tmp_path / "out_of_domain.tsv").write_text("dev\tPFOS还能用吗\tx\n", encoding="utf-8")
    code, _, err = run(["kb", "eval", "--eval-dir", str(tmp_path)], capsys)
    assert code == 1 and "below target" in err


def test_check_ok_and_broken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["kb", "check"], capsys)
    assert code == 0 and "data files OK" in out
    broken = tmp_path / "data"
    shutil.copytree(DATA_DIR, broken)
    with (broken / "entries" / "general.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[[entry]]\nid = "gen-what"\nquestion = "q"\nparaphrases = ["a", "b", "c"]\nanswer = "x"\n')
    code, out, err = run(["kb", "check", "--data-dir", str(broken)], capsys)
    assert code == 1 and "entries/general.toml:" in out and "duplicate id 'gen-what'" in out
    assert "problem(s)" in err
    code, _, err = run(["kb", "check", "--data-dir", str(tmp_path / "missing")], capsys)
    assert code == 1 and "not a directory" in err


def test_register_accepts_the_service_parents() -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"), [common])
    args = parser.parse_args(["kb", "ask", "--config", "x.toml", "--json", "q"])
    assert args.config == "x.toml" and args.json and args.question == ["q"] and args.func is cli.cmd_ask
    assert parser.parse_args(["kb"]).func(args) == 2  # no subcommand: usage, exit 2
