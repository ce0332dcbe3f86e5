"""data/asked.tsv: questions people actually asked, labelled with the entry that answers them.

The classifier (knowledge/classifier.py) learns from them; the retrieval index does not. An empty id column
means "not for this knowledge base" (learned as out of scope). Lines: `ids<TAB>question`, ids joined by "|".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowledge.entries import DataError

ASKED_FILE = "asked.tsv"


@dataclass(frozen=True)
class AskedQuestion:
    question: str
    ids: tuple[str, ...]  # empty = out of scope
    line: int


def load_asked(data_dir: Path) -> list[AskedQuestion]:
    """The labelled questions; raises DataError naming file and line on a malformed line."""
    path = data_dir / ASKED_FILE
    if not path.exists():
        return []
    out = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        ids, sep, question = raw.partition("\t")
        if not sep or not question.strip() or "\t" in question:
            raise DataError(f"{ASKED_FILE}:{n}: expected `ids<TAB>question` (one tab; ids may be empty)")
        out.append(AskedQuestion(question.strip(), tuple(i.strip() for i in ids.split("|") if i.strip()), n))
    return out
