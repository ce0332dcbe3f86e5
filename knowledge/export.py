"""Write published edits back into the entry data files (``python -m bot kb export DIR``), for review in git.

Each affected ``entries/<file>.toml`` is read from DIR when it is there, else from the installed data, and
written to ``DIR/entries/<file>.toml`` with the edits in the files' own form: a new way of asking is added
as the last line of its entry's ``paraphrases``; a new entry is appended as an ``[[entry]]`` table. Comments
and layout are kept; an edit the file already holds is left out, so exporting twice changes nothing. Every
written file is read back and must contain its edits.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path

from knowledge.edits import ENTRY, PHRASING, Edit, phrasing_key
from knowledge.entries import ENTRIES_DIR, DataError, load_entry_file
from knowledge.loader import DATA_DIR

_HEADER = re.compile(r"^\s*\[\[entry\]\]")
_ID_LINE = re.compile(r'^\s*id\s*=\s*"([^"]*)"')
_PARAPHRASES = re.compile(r"^\s*paraphrases\s*=\s*\[")


def _quote(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _block(lines: list[str], entry_id: str) -> tuple[int, int] | None:
    """(first line, end) of the [[entry]] table with this id."""
    starts = [i for i, line in enumerate(lines) if _HEADER.match(line)] + [len(lines)]
    for start, end in itertools.pairwise(starts):
        if any((m := _ID_LINE.match(line)) and m.group(1) == entry_id for line in lines[start:end]):
            return start, end
    return None


def _add_phrasing(lines: list[str], entry_id: str, question: str) -> bool:
    found = _block(lines, entry_id)
    if found is None:
        return False
    start, end = found
    for i in range(start, end):
        if not _PARAPHRASES.match(lines[i]):
            continue
        if lines[i].rstrip().endswith("]"):  # one line: paraphrases = ["a", "b"]
            head = lines[i].rstrip()[:-1].rstrip()
            sep = "" if head.endswith("[") else ", "
            lines[i] = f"{head}{sep}{_quote(question)}]"
            return True
        close = next(j for j in range(i + 1, end) if lines[j].strip().startswith("]"))
        last = close - 1
        if last > i and lines[last].strip() and not lines[last].rstrip().endswith((",", "[")):
            lines[last] = lines[last].rstrip() + ","
        lines.insert(close, f"  {_quote(question)},")
        return True
    question_line = next((i for i in range(start, end) if lines[i].lstrip().startswith("question")), start)
    lines.insert(question_line + 1, f"paraphrases = [{_quote(question)}]")
    return True


def _entry_text(edit: Edit) -> list[str]:
    answer = edit.answer.strip()
    answer_toml = f'"""{answer}"""' if '"""' not in answer and "\\" not in answer else _quote(answer)
    return [
        "",
        "[[entry]]",
        f"id = {_quote(edit.entry_id)}",
        f"question = {_quote(edit.question)}",
        "paraphrases = [",
        *(f"  {_quote(p)}," for p in edit.paraphrases),
        "]",
        f"answer = {answer_toml}",
        f"sources = [{', '.join(_quote(s) for s in edit.sources)}]",
    ]


def _owner_file(entry_id: str, files: dict[str, list[str]]) -> str | None:
    for name, lines in files.items():
        if _block(lines, entry_id) is not None:
            return name
    return None


def export_edits(edits: Sequence[Edit], out_dir: Path, data_dir: Path = DATA_DIR) -> list[Path]:
    """Write the edits into ``out_dir/entries``; returns the files written (none when nothing was new)."""
    def source(name: str) -> Path:
        mine = out_dir / ENTRIES_DIR / name
        return mine if mine.is_file() else data_dir / ENTRIES_DIR / name

    names = sorted({p.name for p in (data_dir / ENTRIES_DIR).glob("*.toml")}
                   | {p.name for p in (out_dir / ENTRIES_DIR).glob("*.toml")})  # fmt: skip
    files = {name: source(name).read_text(encoding="utf-8").splitlines() for name in names}
    parsed = [entry for name in names for entry in _entries(files[name], name)]
    present = {phrasing_key(p): entry_id for entry_id, phrasings in parsed for p in phrasings}
    ids = {entry_id for entry_id, _phrasings in parsed}
    changed: set[str] = set()
    for edit in edits:
        if edit.kind == PHRASING and phrasing_key(edit.question) not in present:
            name = _owner_file(edit.entry_id, files)
            if name is not None and _add_phrasing(files[name], edit.entry_id, edit.question):
                present[phrasing_key(edit.question)] = edit.entry_id
                changed.add(name)
        elif edit.kind == ENTRY and edit.entry_id not in ids:
            name = edit.file if edit.file in files else names[0]
            files[name].extend(_entry_text(edit))
            ids.add(edit.entry_id)
            changed.add(name)
    written = []
    for name in sorted(changed):
        target = out_dir / ENTRIES_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(files[name]) + "\n", encoding="utf-8")
        try:  # read back by the data files' own reader
            load_entry_file(target, f"{ENTRIES_DIR}/{name}")
        except DataError as exc:
            raise DataError(f"export wrote a file that does not read back: {exc}") from exc
        written.append(target)
    return written


def _entries(lines: list[str], name: str) -> list[tuple[str, tuple[str, ...]]]:
    """(id, phrasings) of every entry in a file's text."""
    try:
        tables = tomllib.loads("\n".join(lines)).get("entry", [])
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{ENTRIES_DIR}/{name}: TOML syntax error: {exc}") from exc
    return [(str(t.get("id", "")), (str(t.get("question", "")), *map(str, t.get("paraphrases", []))))
            for t in tables]  # fmt: skip
