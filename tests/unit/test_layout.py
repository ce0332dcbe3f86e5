"""The rules of the import contract that import-linter cannot say (the rest is `lint-imports`, pyproject.toml)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp

from bot import texts

ROOT = Path(__file__).resolve().parents[2]
FACT_KEY = re.compile(r"[a-z][a-z0-9_]*")  # a fact is a key of texts.FACTS, not a sentence
PACKAGES = ("bot", "handlers", "knowledge", "scheduler", "storage")
# Imports inside a function, each for a reason other than a cycle (the reason is written beside it).
DEFERRED = {
    ("bot.cli.core", "bot.app"),  # the serve command: the whole service loads only when it is served
    ("knowledge.cli", "knowledge.answerer"),  # jieba and the knowledge data, only for the kb commands
    ("knowledge.cli", "knowledge.evaluation"),
    ("knowledge.cli", "knowledge.blind"),  # the blind batches, only for kb eval (loads the knowledge data)
    ("knowledge.cli", "knowledge.checks"),
    ("knowledge.cli", "knowledge.loader"),
    ("storage.db", "storage"),  # the local SQLite driver, only for SQLite URLs
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _deferred_imports() -> set[tuple[str, str]]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        target = node.module
                    elif isinstance(node, ast.Import):
                        target = node.names[0].name
                    else:
                        continue
                    if target.split(".")[0] in PACKAGES:
                        found.add((_module(path), target))
    return found


def test_the_text_catalogue_imports_nothing_of_the_service() -> None:
    graph = grimp.build_graph(*PACKAGES)
    assert graph.find_modules_directly_imported_by("bot.texts") == set()


def test_imports_inside_functions_are_only_the_documented_deferred_ones() -> None:
    assert _deferred_imports() <= DEFERRED


def test_storage_raises_facts_not_words() -> None:
    """Storage's errors name a fact; the sentences a person reads live in bot/texts.py."""
    worded = []
    for path in (ROOT / "storage").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                for part in ast.walk(node.exc):
                    worded_here = isinstance(part, ast.Constant) and isinstance(part.value, str)
                    if worded_here and any("\u4e00" <= char <= "\u9fff" for char in part.value):
                        worded.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert worded == []


def test_every_storage_fact_has_words() -> None:
    facts = set()
    for path in (ROOT / "storage").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                first = node.exc.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and FACT_KEY.fullmatch(first.value):
                    facts.add(first.value)
    assert facts and facts <= set(texts.FACTS)


# The text catalogue is data.
LONG_MODULES = {"bot/texts.py"}
MAX_LINES = 450


def test_modules_stay_small() -> None:
    long = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts and len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES:
                long.add(str(path.relative_to(ROOT)))
    assert long <= LONG_MODULES
