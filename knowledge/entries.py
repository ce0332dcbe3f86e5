"""Curated question–answer entries (data/entries/*.toml), with file and line kept for error messages."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ENTRIES_DIR = "entries"
_HEADER = re.compile(r"^\s*\[\[entry\]\]\s*(#.*)?$")


class DataError(ValueError):
    """A data file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Entry:
    id: str
    question: str
    paraphrases: tuple[str, ...]
    answer: str
    sources: tuple[str, ...]
    related: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    clause: str | None = None  # the plan clause this entry answers (its text is indexed with the entry)
    scope: str = "general"  # "local" = about Yuncheng specifically
    hedged: bool = False  # its main point is not confirmed (it says so): shown as a partial answer, never overridden
    # the question must contain one of these words for this entry to answer it: "运城市重点管控新污染物有哪些"
    # shares every word with the entry on the list of *enterprises* but does not ask about enterprises
    needs: tuple[str, ...] = ()
    file: str = ""
    line: int = 0

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.paraphrases)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _str_tuple(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value)
    raise TypeError(f"expected a list of strings, got {type(value).__name__}")


def entry_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / ENTRIES_DIR).glob("*.toml"))


def load_entry_file(path: Path, display: str | None = None) -> list[Entry]:
    name = display or path.name
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        where = f"{name}:{m.group(1)}" if m else name
        raise DataError(f"{where}: TOML syntax error: {exc}") from exc
    header_lines = [i + 1 for i, line in enumerate(text.splitlines()) if _HEADER.match(line)]
    tables = raw.get("entry", [])
    entries = []
    for n, table in enumerate(tables):
        line = header_lines[n] if n < len(header_lines) else 0
        where = f"{name}:{line}"
        try:
            entry = Entry(
                id=str(table["id"]).strip(),
                question=str(table["question"]).strip(),
                paraphrases=_str_tuple(table.get("paraphrases")),
                answer=str(table["answer"]).strip(),
                sources=_str_tuple(table.get("sources")),
                related=_str_tuple(table.get("related")),
                keywords=_str_tuple(table.get("keywords")),
                clause=(str(table["clause"]).strip() or None) if table.get("clause") else None,
                scope=str(table.get("scope", "general")).strip(),
                hedged=bool(table.get("hedged", False)),
                needs=_str_tuple(table.get("needs")),
                file=name,
                line=line,
            )
        except KeyError as exc:
            raise DataError(f"{where}: entry is missing the field {exc.args[0]!r}") from exc
        except TypeError as exc:
            raise DataError(f"{where}: {exc}") from exc
        entries.append(entry)
    return entries


def load_entries(data_dir: Path) -> list[Entry]:
    entries: list[Entry] = []
    for path in entry_files(data_dir):
        entries.extend(load_entry_file(path, f"{ENTRIES_DIR}/{path.name}"))
    return entries
