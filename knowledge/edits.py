"""Edits made outside the data files (the console's published changes) applied to the loaded knowledge data.

An edit is either a new way of asking an existing entry (``PHRASING``) or a whole new entry (``ENTRY``).
``apply_edits`` returns a new ``KnowledgeData`` with them; an edit the data files already hold (after
``kb export`` and a deployment) is skipped, so applying is idempotent. ``edit_problems`` says, in the
console's words, why an edit cannot be drafted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bot import texts
from knowledge.entries import Entry
from knowledge.loader import KnowledgeData
from knowledge.normalize import compact, normalize
from knowledge.reply import MAX_REPLY_CHARS, citation_line

PHRASING, ENTRY = "phrasing", "entry"
MIN_PARAPHRASES = 3  # as kb check requires of every entry
MAX_QUESTION_CHARS = 200
ENTRY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
EDIT_FILE = "console"  # what an edited entry's `file` says until it is exported


@dataclass(frozen=True)
class Edit:
    kind: str
    entry_id: str
    question: str
    answer: str = ""
    sources: tuple[str, ...] = ()
    paraphrases: tuple[str, ...] = ()
    file: str = ""  # ENTRY: the data file (entries/<file>) it is exported to


def phrasing_key(text: str) -> str:
    return compact(normalize(text))


def _owners(entries: Iterable[Entry]) -> dict[str, str]:
    """Every phrasing (compacted) → the id of the entry that has it."""
    owners: dict[str, str] = {}
    for e in entries:
        for p in e.phrasings:
            owners.setdefault(phrasing_key(p), e.id)
    return owners


def apply_edits(data: KnowledgeData, edits: Sequence[Edit]) -> KnowledgeData:
    """``data`` with the edits, in order. Phrasings already present and entries whose id exists are skipped."""
    if not edits:
        return data
    entries = list(data.entries)
    position = {e.id: i for i, e in enumerate(entries)}
    owners = _owners(entries)
    for edit in edits:
        if edit.kind == PHRASING:
            i = position.get(edit.entry_id)
            key = phrasing_key(edit.question)
            if i is None or key in owners:
                continue
            entries[i] = replace(entries[i], paraphrases=(*entries[i].paraphrases, edit.question))
            owners[key] = edit.entry_id
        elif edit.kind == ENTRY and edit.entry_id not in position:
            entry = Entry(
                id=edit.entry_id,
                question=edit.question,
                paraphrases=tuple(p for p in edit.paraphrases if phrasing_key(p) not in owners),
                answer=edit.answer,
                sources=edit.sources,
                file=f"{EDIT_FILE}:{edit.file}",
            )
            position[entry.id] = len(entries)
            entries.append(entry)
            for p in entry.phrasings:
                owners.setdefault(phrasing_key(p), entry.id)
    return replace(data, entries=entries)


def edit_problems(data: KnowledgeData, edit: Edit, entry_files: Sequence[str] = ()) -> list[str]:
    """Why ``edit`` cannot be drafted on ``data`` (empty when it can)."""
    problems: list[str] = []
    ids = {e.id for e in data.entries}
    owners = _owners(data.entries)
    phrasings = [edit.question] if edit.kind == PHRASING else [edit.question, *edit.paraphrases]
    for p in phrasings:
        if not p.strip():
            problems.append(texts.KB_EDIT_EMPTY_QUESTION)
        elif len(p) > MAX_QUESTION_CHARS:
            problems.append(texts.KB_EDIT_TOO_LONG_QUESTION.format(limit=MAX_QUESTION_CHARS))
        elif (owner := owners.get(phrasing_key(p))) is not None:
            problems.append(texts.KB_EDIT_DUPLICATE.format(question=p, entry=owner))
    if len({phrasing_key(p) for p in phrasings}) < len(phrasings):
        problems.append(texts.KB_EDIT_REPEATED)
    if edit.kind == PHRASING:
        if edit.entry_id not in ids:
            problems.append(texts.KB_EDIT_NO_ENTRY.format(entry=edit.entry_id))
        return problems
    if not ENTRY_ID.match(edit.entry_id):
        problems.append(texts.KB_EDIT_BAD_ID)
    elif edit.entry_id in ids:
        problems.append(texts.KB_EDIT_ID_TAKEN.format(entry=edit.entry_id))
    if len([p for p in edit.paraphrases if p.strip()]) < MIN_PARAPHRASES:
        problems.append(texts.KB_EDIT_FEW_PARAPHRASES.format(n=MIN_PARAPHRASES))
    if not edit.answer.strip():
        problems.append(texts.KB_EDIT_EMPTY_ANSWER)
    if not edit.sources:
        problems.append(texts.KB_EDIT_NO_SOURCE)
    citations = {c.citation for c in data.clauses}
    for ref in edit.sources:
        if data.sources.problem(ref, citations):
            problems.append(texts.KB_EDIT_BAD_SOURCE.format(source=ref))
    if edit.sources and edit.answer.strip():
        length = len(edit.answer.strip()) + 2 + len(citation_line([data.sources.cite(r) for r in edit.sources]))
        if length > MAX_REPLY_CHARS:
            problems.append(texts.KB_EDIT_TOO_LONG_ANSWER.format(n=length, limit=MAX_REPLY_CHARS))
    if entry_files and edit.file not in entry_files:
        problems.append(texts.KB_EDIT_BAD_FILE)
    return problems
