"""`python -m bot kb …`: ask the knowledge base, run the evaluation set, validate the data files.

Also runnable alone: `python -m knowledge.cli kb ask PFOS还能用吗`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from knowledge.answerer import KnowledgeBase

# The answerer, the evaluation and the data checks are imported inside the commands that use them: importing
# them loads jieba and the knowledge data, which every other `python -m bot …` command should not pay for.
from knowledge import workdays_cli

TARGET = 0.95


def register(
    subparsers: argparse._SubParsersAction, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse._SubParsersAction:
    """Add the `kb` command group (ask / eval / check) to the service's command line; returns its
    subcommands, to which the service adds the ones that need its database (drafts, publish, export)."""
    parents = list(parents)
    kb = subparsers.add_parser(
        "kb", parents=parents, help="knowledge base: ask questions, run the evaluation set, check data files"
    )
    sub = kb.add_subparsers(dest="kb_command", metavar="SUBCOMMAND")
    kb.set_defaults(func=lambda args: _usage(kb))

    ask = sub.add_parser(
        "ask", parents=parents, help="answer questions (arguments, or one per line on standard input)"
    )
    ask.add_argument("--json", action="store_true", help="one JSON object per line")
    ask.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    ask.add_argument("question", nargs="*", metavar="QUESTION", help="each argument is one question")
    ask.set_defaults(func=cmd_ask)

    ev = sub.add_parser("eval", parents=parents, help="run the evaluation set; exit 1 below 95%%")
    ev.add_argument("--eval-dir", type=Path, default=None, help="folder with indomain.tsv and out_of_domain.tsv")
    ev.add_argument("--data-dir", type=Path, default=None, help=argparse.SUPPRESS)
    ev.add_argument("--quiet", action="store_true", help="do not list the questions that failed")
    ev.add_argument(
        "--show-sealed",
        action="store_true",
        help="also list failures of sealed batches (holdout_v10 and blind batches not marked tuning; "
        "this unseals them)",
    )
    ev.set_defaults(func=cmd_eval)

    check = sub.add_parser("check", parents=parents, help="validate the data files; exit 1 on problems")
    check.add_argument("--data-dir", type=Path, default=None, help="data folder (default: knowledge/data)")
    check.set_defaults(func=cmd_check)

    workdays_cli.register(sub, parents)
    return sub


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _stdin_lines(stream: TextIO | None = None) -> Iterator[str]:
    """Questions from standard input, one per line; undecodable bytes are replaced, not fatal."""
    stream = stream or sys.stdin
    buffer = getattr(stream, "buffer", None)
    lines = (
        (raw.decode("utf-8", errors="replace") for raw in buffer)
        if buffer is not None
        else iter(stream)
    )
    for line in lines:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line


def cmd_ask(args: argparse.Namespace) -> int:
    from knowledge.answerer import load_knowledge_base

    kb = load_knowledge_base(getattr(args, "data_dir", None))
    questions: Iterator[str] | list[str] = args.question or _stdin_lines()
    out = sys.stdout
    first = True
    for q in questions:
        a = kb.answer(q)
        if args.json:
            record = {
                "question": q,
                "matched": a.matched,
                "answer": a.text,
                "sources": list(a.sources),
                "score": round(float(a.score), 3),
                # answer | partial | refusal | registration | chemical | smalltalk | emergency | report
                "kind": a.kind,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            if not first:
                out.write("\n")
            out.write(f"问：{q}\n{a.text}\n")
        out.flush()
        first = False
    return 0


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def cmd_eval(args: argparse.Namespace) -> int:
    from knowledge.answerer import load_knowledge_base
    from knowledge.evaluation import (
        OLD_SPLITS,
        SEALED_SPLITS,
        SPLITS,
        TUNING_SPLITS,
        V2_SEALED,
        V2_TUNING,
        V3,
        V4_TUNING,
        V5,
        V6_TUNING,
        V7,
        V8,
        V9,
        V10_SEALED,
        calibrate,
        evaluate,
        explain_all,
        load_cases,
        unknown_ids,
    )

    started = time.perf_counter()
    kb = load_knowledge_base(getattr(args, "data_dir", None))
    cases = load_cases(args.eval_dir)
    broken = unknown_ids(kb, cases)
    for b in broken:
        print(f"eval set: {b}", file=sys.stderr)
    explained = explain_all(kb, cases)  # cross-validated once, for the figures and the calibration
    report = evaluate(kb, cases, explained)
    print(f"knowledge base: {kb.entry_count} entries, {kb.passage_count} passages; {len(cases)} eval questions")
    for label, in_domain in (("in-domain top-1 accuracy", True), ("out-of-domain refusal", False)):
        rate, ok, n = report.rate(in_domain)
        parts = [f"{label}: {_pct(rate)} ({ok}/{n})"]
        for split in SPLITS:
            r, o, m = report.rate(in_domain, split)
            parts.append(f"{split} {_pct(r)} ({o}/{m})")
        print(" | ".join(parts))
    groups = (("all tuning batches", TUNING_SPLITS), ("old eval set", OLD_SPLITS),
              ("holdout_v2 tuning half", (V2_TUNING,)), ("holdout_v2 opened half", (V2_SEALED,)),
              ("holdout_v3 (opened)", (V3,)),
              ("holdout_v4 (tuning)", (V4_TUNING,)), ("holdout_v5 (opened)", (V5,)),
              ("holdout_v6 (tuning)", (V6_TUNING,)), ("holdout_v7 (opened)", (V7,)),
              ("holdout_v8 (opened)", (V8,)), ("holdout_v9 (opened)", (V9,)),
              ("holdout_v10 (sealed)", (V10_SEALED,)))
    for name, splits in groups:
        if any(c.split in splits for c in cases):
            (ri, oi, ni), (ro, oo, no) = report.rate(True, splits=splits), report.rate(False, splits=splits)
            print(f"{name}: in-domain top-1 {_pct(ri)} ({oi}/{ni}), out-of-domain refusal {_pct(ro)} ({oo}/{no})")
    threshold, low_good, high_bad = calibrate(kb, cases, explained=explained)
    print(
        f"threshold in use {kb.settings.threshold:.3f}; calibrated on the tuning splits: {threshold:.3f} "
        f"(lowest right answer {low_good:.3f}, highest out-of-domain score {high_bad:.3f})"
    )
    if not args.quiet:
        for o in report.failures():
            if o.case.split in SEALED_SPLITS and not args.show_sealed:
                continue  # the sealed batch stays unseen: only its figure is printed
            expected = "|".join(o.case.expected) or "(refuse)"
            print(
                f"  FAIL [{o.case.split}] {o.case.question!r}: expected {expected}, got {o.got or '-'} "
                f"({o.kind}, score {o.score:.3f}, best candidate {o.top_candidate or '-'})"
            )
    blind_ok = _print_blind(kb, args)
    print(f"({time.perf_counter() - started:.1f} s)")
    # the gate: the old set and all tuning batches together reach the target (cross-validated: a question the
    # classifier learned from is answered by one trained without it); the sealed batch is reported, not gated,
    # so that nobody has a reason to look at its failures
    ok = report.passed(TARGET, OLD_SPLITS) and report.passed(TARGET, TUNING_SPLITS) and not broken and blind_ok
    if not ok:
        print(f"below target: both figures must be at least {_pct(TARGET)}", file=sys.stderr)
    return 0 if ok else 1


def _print_blind(kb: KnowledgeBase, args: argparse.Namespace) -> bool:
    """Every blind batch (tests/eval/blind_v*.tsv, graded by facts): figures, per tag, and the failures of
    batches opened for tuning. False when a batch cannot be read."""
    from knowledge.blind import evaluate_batch, failure_lines, load_batches, summary_lines
    from knowledge.evaluation import EVAL_DIR

    try:
        batches = load_batches(args.eval_dir or EVAL_DIR)
    except (OSError, ValueError) as exc:
        print(f"blind batch: {exc}", file=sys.stderr)
        return False
    for batch in batches:
        report = evaluate_batch(kb, batch)
        for line in summary_lines(report):
            print(line)
        if not args.quiet and (not batch.sealed or args.show_sealed):
            for line in failure_lines(report):
                print(line)
    return True


def cmd_check(args: argparse.Namespace) -> int:
    from knowledge.checks import check_data
    from knowledge.loader import DATA_DIR

    data_dir = args.data_dir or DATA_DIR
    if not data_dir.is_dir():
        print(f"{data_dir}: not a directory", file=sys.stderr)
        return 1
    problems = check_data(data_dir)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s) in {data_dir}", file=sys.stderr)
        return 1
    print(f"data files OK ({data_dir})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.cli")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    register(sub)
    args = parser.parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
