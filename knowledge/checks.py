"""`kb check`: validate the data files and report every problem with its file and line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.asked import ASKED_FILE, load_asked
from knowledge.chemicals import CHEMICALS_FILE, Chemical, cas_checksum_ok, parse_chemical, read_chemical_rows
from knowledge.duties import DUTIES_FILE, DutiesError, load_duties
from knowledge.entries import ENTRIES_DIR, DataError, Entry, entry_files, load_entry_file
from knowledge.loader import DATA_DIR
from knowledge.normalize import compact, compact_name, normalize
from knowledge.plan import PLAN_FILE, PlanClause, load_plan
from knowledge.reply import MAX_REPLY_CHARS, citation_line
from knowledge.sources import SOURCES_FILE, SourceCatalog
from knowledge.workdays import WORKDAYS_FILE, check_text

MIN_PARAPHRASES = 3
SCOPES = ("general", "local")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PC = re.compile(r"^PC\d{3}$")
_CAS = re.compile(r"^\d{2,7}-\d{2}-\d$")


@dataclass(frozen=True)
class Problem:
    where: str  # "entries/plan.toml:123"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _from_error(exc: Exception, default_where: str) -> Problem:
    """A DataError's message already starts with "file:line: "; keep that as the location."""
    where, sep, message = str(exc).partition(": ")
    return Problem(where, message) if sep and ":" in where else Problem(default_where, str(exc))


def _line_of(path: Path, needle: str, start: int) -> int:
    """The first line at or after `start` that contains `needle` (for pointing at a field)."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()[start - 1 :], start):
        if needle in line:
            return n
    return start


def check_plan(data_dir: Path) -> tuple[list[Problem], list[PlanClause]]:
    try:
        clauses = load_plan(data_dir)
    except (OSError, ValueError) as exc:
        return [Problem(PLAN_FILE, f"cannot read the plan: {exc}")], []
    problems = []
    if not clauses:
        problems.append(Problem(PLAN_FILE, "no clauses found (headings 一、/（一）/1． expected)"))
    seen: set[str] = set()
    for c in clauses:
        if c.citation in seen:
            problems.append(Problem(PLAN_FILE, f"clause {c.citation} appears twice"))
        seen.add(c.citation)
        if c.level > 1 and not c.units:
            problems.append(Problem(PLAN_FILE, f"clause {c.citation} names no responsible unit"))
    return problems, clauses


def check_entries(data_dir: Path, sources: SourceCatalog | None, clauses: list[PlanClause]) -> list[Problem]:
    problems: list[Problem] = []
    entries: list[tuple[Entry, Path]] = []
    for path in entry_files(data_dir):
        try:
            entries.extend((e, path) for e in load_entry_file(path, f"{ENTRIES_DIR}/{path.name}"))
        except DataError as exc:
            problems.append(_from_error(exc, f"{ENTRIES_DIR}/{path.name}"))
    if not entries:
        problems.append(Problem(ENTRIES_DIR, "no entries found"))
    citations = {c.citation for c in clauses}
    by_id: dict[str, Entry] = {}
    phrasing_owner: dict[str, Entry] = {}
    clause_owner: dict[str, Entry] = {}
    for e, path in entries:
        if not _ID.match(e.id):
            problems.append(Problem(e.where, f"id {e.id!r} must be lower-case letters, digits and hyphens"))
        if e.id in by_id:
            problems.append(Problem(e.where, f"duplicate id {e.id!r} (first defined at {by_id[e.id].where})"))
        else:
            by_id[e.id] = e
        if not e.question:
            problems.append(Problem(e.where, f"{e.id}: empty question"))
        if len([p for p in e.paraphrases if p]) < MIN_PARAPHRASES:
            problems.append(
                Problem(e.where, f"{e.id}: {len(e.paraphrases)} paraphrases, at least {MIN_PARAPHRASES} needed")
            )
        for phrasing in e.phrasings:
            key = compact(normalize(phrasing))
            owner = phrasing_owner.get(key)
            if owner is not None and owner.id != e.id:
                problems.append(Problem(
                    f"{e.file}:{_line_of(path, phrasing, e.line)}",
                    f"{e.id}: question {phrasing!r} duplicates one of {owner.id} ({owner.where})",
                ))
            elif owner is not None:
                problems.append(Problem(e.where, f"{e.id}: question {phrasing!r} is listed twice"))
            phrasing_owner.setdefault(key, e)
        if not e.answer:
            problems.append(Problem(e.where, f"{e.id}: empty answer"))
        if not e.sources:
            problems.append(Problem(e.where, f"{e.id}: missing sources"))
        if sources is not None:
            for ref in e.sources:
                why = sources.problem(ref, citations)
                if why:
                    problems.append(Problem(f"{e.file}:{_line_of(path, ref, e.line)}", f"{e.id}: {why}"))
            reply_len = len(e.answer) + 2 + len(citation_line([sources.cite(r) for r in e.sources]))
            if reply_len > MAX_REPLY_CHARS:
                problems.append(Problem(
                    e.where, f"{e.id}: answer too long ({reply_len} characters with its citation, limit "
                    f"{MAX_REPLY_CHARS})"
                ))
        if e.scope not in SCOPES:
            problems.append(Problem(e.where, f"{e.id}: scope must be one of {', '.join(SCOPES)}"))
        if e.clause:
            if e.clause not in citations:
                problems.append(Problem(f"{e.file}:{_line_of(path, 'clause', e.line)}",
                                        f"{e.id}: plan clause {e.clause!r} does not exist"))
            elif e.clause in clause_owner:
                problems.append(Problem(e.where, f"{e.id}: clause {e.clause} is already answered by "
                                        f"{clause_owner[e.clause].id}"))
            else:
                clause_owner[e.clause] = e
    for e, path in entries:
        for rid in e.related:
            if rid == e.id:
                problems.append(Problem(f"{e.file}:{_line_of(path, 'related', e.line)}",
                                        f"{e.id}: related lists the entry itself"))
            elif rid not in by_id and not rid.startswith(("chem-", "plan-")):
                problems.append(Problem(f"{e.file}:{_line_of(path, 'related', e.line)}",
                                        f"{e.id}: broken reference: related entry {rid!r} does not exist"))
    return problems


def check_chemicals(data_dir: Path, sources: SourceCatalog | None) -> list[Problem]:
    path = data_dir / CHEMICALS_FILE
    try:
        rows = read_chemical_rows(path)
    except (OSError, DataError) as exc:
        return [_from_error(exc, CHEMICALS_FILE)]
    problems: list[Problem] = []
    chemicals: list[Chemical] = []
    for line, row in rows:
        try:
            chemicals.append(parse_chemical(row, line))
        except DataError as exc:
            problems.append(_from_error(exc, f"{CHEMICALS_FILE}:{line}"))
    ids: dict[str, int] = {}
    cas_seen: dict[str, Chemical] = {}
    names: dict[str, Chemical] = {}
    for c in chemicals:
        where = f"{CHEMICALS_FILE}:{c.line}"
        if not _ID.match(c.id):
            problems.append(Problem(where, f"id {c.id!r} must be lower-case letters, digits and hyphens"))
        if c.id in ids:
            problems.append(Problem(where, f"duplicate id {c.id!r} (first at line {ids[c.id]})"))
        ids.setdefault(c.id, c.line)
        if not c.name:
            problems.append(Problem(where, f"{c.id}: empty name"))
        if c.key_list is not None and not 1 <= c.key_list <= 14:
            problems.append(Problem(where, f"{c.id}: key_list item {c.key_list} is not between 1 and 14"))
        if c.key_list is None and not c.priority:
            problems.append(Problem(where, f"{c.id}: on no list (key_list and priority both empty)"))
        for code in c.priority:
            if not _PC.match(code):
                problems.append(Problem(where, f"{c.id}: priority code {code!r} should look like PC001"))
        for cas in c.cas:
            if not _CAS.match(cas):
                problems.append(Problem(where, f"{c.id}: malformed CAS number {cas!r}"))
            elif not cas_checksum_ok(cas):
                problems.append(Problem(where, f"{c.id}: CAS number {cas} fails its check digit"))
            if cas in cas_seen:
                problems.append(Problem(where, f"{c.id}: CAS {cas} is also given for {cas_seen[cas].id}"))
            cas_seen.setdefault(cas, c)
        for n in c.names:
            key = compact_name(n)
            other = names.get(key)
            if other is not None and other.id != c.id:
                problems.append(Problem(where, f"{c.id}: name {n!r} is also a name of {other.id}"))
            names.setdefault(key, c)
        if not c.sources:
            problems.append(Problem(where, f"{c.id}: missing sources"))
        elif sources is not None:
            for ref in c.sources:
                why = sources.problem(ref, set())
                if why:
                    problems.append(Problem(where, f"{c.id}: {why}"))
    return problems


def check_data(data_dir: Path | None = None, extra: Iterable[Problem] = ()) -> list[Problem]:
    """Every problem found in the data directory (empty list = all good)."""
    d = data_dir or DATA_DIR
    problems: list[Problem] = list(extra)
    try:
        sources: SourceCatalog | None = SourceCatalog.load(d)
    except (OSError, ValueError) as exc:
        problems.append(Problem(SOURCES_FILE, f"cannot read: {exc}"))
        sources = None
    plan_problems, clauses = check_plan(d)
    problems += plan_problems
    problems += check_entries(d, sources, clauses)
    problems += check_chemicals(d, sources)
    problems += check_asked(d, clauses)
    problems += check_workdays(d)
    problems += check_duties(d)
    return problems


def check_workdays(data_dir: Path) -> list[Problem]:
    """data/workdays.toml: years, dates, make-up days on weekends (see knowledge.workdays)."""
    path = data_dir / WORKDAYS_FILE
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(WORKDAYS_FILE, f"cannot read: {exc}")]
    return [_from_error(ValueError(p), WORKDAYS_FILE) for p in check_text(text)[1]]


def check_duties(data_dir: Path) -> list[Problem]:
    """duties.toml: every category's department is a listed unit, every county has a seat, nothing twice."""
    try:
        load_duties(data_dir / DUTIES_FILE)
    except DutiesError as exc:
        return [Problem(DUTIES_FILE, problem.removeprefix(f"{DUTIES_FILE}: ")) for problem in exc.problems]
    return []


def check_asked(data_dir: Path, clauses: list[PlanClause]) -> list[Problem]:
    """data/asked.tsv: well-formed lines, known ids, no question twice."""
    try:
        asked = load_asked(data_dir)
    except (OSError, DataError) as exc:
        return [_from_error(exc, ASKED_FILE)]
    known = {c.passage_id for c in clauses}
    try:
        known |= {e.id for path in entry_files(data_dir) for e in load_entry_file(path)}
        known |= {"chem-" + row["id"].strip() for _line, row in read_chemical_rows(data_dir / CHEMICALS_FILE)}
    except (OSError, DataError):
        return []  # reported by the entry and chemical checks
    problems = []
    seen: dict[str, int] = {}
    for a in asked:
        where = f"{ASKED_FILE}:{a.line}"
        for i in a.ids:
            if i not in known:
                problems.append(Problem(where, f"unknown id {i!r} (no entry, chemical or plan clause has it)"))
        key = normalize(a.question)
        if key in seen:
            problems.append(Problem(where, f"the same question as line {seen[key]}"))
        seen.setdefault(key, a.line)
    return problems
