"""The chemical table (data/chemicals.csv): names, aliases, CAS numbers, list memberships, measures."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.entries import DataError
from knowledge.normalize import compact_name, has_han

CHEMICALS_FILE = "chemicals.csv"
COLUMNS = ("id", "name", "aliases", "cas", "key_list", "priority", "measures", "sources")
CAS_PATTERN = re.compile(r"(?<![\d-])(\d{2,7})\s*-\s*(\d{2})\s*-\s*(\d)(?![\d-])")
_LATIN_ONLY = re.compile(r"^[a-z0-9+]+$")
# Characters that name a different substance when changed (carbon counts, halogens, metals, numbers):
# a typed name differing from a known one in such a character is another chemical, not a typo.
_NAME_SIGNIFICANT = frozenset(
    "一二三四五六七八九十百甲乙丙丁戊己庚辛壬癸氟氯溴碘铅汞镉铬砷铊镍锌铜锡苯酚醇醛酮酸酯醚烷烯炔胺"
)
_TYPO_MIN_LEN = 4
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]{2,}")
_DIGIT_LOOKALIKES = {"0": "o", "1": "l", "5": "s", "8": "b"}  # PF0S → PFOS


@dataclass(frozen=True)
class Chemical:
    id: str
    name: str
    aliases: tuple[str, ...]
    cas: tuple[str, ...]
    key_list: int | None  # item number in 重点管控新污染物清单（2023年版）
    priority: tuple[str, ...]  # 优先控制化学品名录 codes, e.g. ("PC015",)
    measures: str  # confirmed measures only; empty = say only that list measures apply
    sources: tuple[str, ...]
    line: int = 0

    @property
    def passage_id(self) -> str:
        return "chem-" + self.id

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class CasHit:
    cas: str
    chemical: Chemical | None
    checksum_ok: bool


def cas_checksum_ok(cas: str) -> bool:
    digits = cas.replace("-", "")
    if not digits.isdigit() or len(digits) < 5:
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum((i + 1) * int(d) for i, d in enumerate(reversed(body)))
    return total % 10 == check


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("|") if v.strip())


def read_chemical_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows with their line numbers; raises DataError naming file and line on a malformed row."""
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path.name}:1: missing column(s) {', '.join(missing)}")
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise DataError(f"{path.name}:{line}: wrong number of fields (quote names containing commas)")
            rows.append((line, row))
    return rows


def parse_chemical(row: dict[str, str], line: int, file: str = CHEMICALS_FILE) -> Chemical:
    key = row["key_list"].strip()
    if key and not key.isdigit():
        raise DataError(f"{file}:{line}: key_list must be an item number 1–14, got {key!r}")
    return Chemical(
        id=row["id"].strip(),
        name=row["name"].strip(),
        aliases=_split(row["aliases"]),
        cas=_split(row["cas"]),
        key_list=int(key) if key else None,
        priority=_split(row["priority"]),
        measures=row["measures"].strip(),
        sources=_split(row["sources"]),
        line=line,
    )


def load_chemicals(data_dir: Path) -> list[Chemical]:
    path = data_dir / CHEMICALS_FILE
    return [parse_chemical(row, line) for line, row in read_chemical_rows(path)]


class ChemicalTable:
    """Exact look-ups: CAS numbers and names/aliases found inside a question."""

    def __init__(self, chemicals: list[Chemical]) -> None:
        self.chemicals = chemicals
        self.by_id = {c.id: c for c in chemicals}
        self.by_cas: dict[str, Chemical] = {}
        for c in chemicals:
            for cas in c.cas:
                self.by_cas.setdefault(cas, c)
        names: dict[str, Chemical] = {}
        for c in chemicals:
            for n in c.names:
                key = compact_name(n)
                if key:
                    names.setdefault(key, c)
        # longest first, so 六氯苯 wins over 苯 and PCBs over PCB
        self._names = sorted(names.items(), key=lambda kv: -len(kv[0]))
        self.latin_aliases = {k: c for k, c in names.items() if _LATIN_ONLY.match(k) and len(k) >= 3}
        # one-character typos of Han names: 三氯杀螨醉 → 三氯杀螨醇; key = the name with one position masked
        self._masked: dict[str, str] = {}
        for key, _chem in self._names:
            if len(key) >= _TYPO_MIN_LEN and has_han(key) and not _LATIN_ONLY.match(key):
                for i in range(1, len(key)):  # the first character is never the typo (it anchors the name)
                    self._masked.setdefault(key[:i] + "\0" + key[i + 1 :], key)
        self._typo_starts: dict[int, frozenset[str]] = {}  # name length → first characters of such names
        for key in self._masked.values():
            self._typo_starts[len(key)] = self._typo_starts.get(len(key), frozenset()) | {key[0]}
        self._typo_lengths = sorted(self._typo_starts, reverse=True)

    def find_priority_code(self, code: str) -> Chemical | None:
        """The substance listed under a 优先控制化学品名录 code ("PC015", "pc 015"), if the table has it."""
        key = code.replace(" ", "").upper()
        return next((c for c in self.by_id.values() if key in (p.upper() for p in c.priority)), None)

    def find_cas(self, text: str) -> list[CasHit]:
        hits: list[CasHit] = []
        for m in CAS_PATTERN.finditer(text):
            cas = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
            if all(h.cas != cas for h in hits):
                hits.append(CasHit(cas, self.by_cas.get(cas), cas_checksum_ok(cas)))
        return hits

    def find_names(self, text: str, tokens: tuple[str, ...] = ()) -> list[Chemical]:
        """Chemicals whose name or alias occurs in the (normalized) text, longest match first.

        A one-character name (苯, 汞, 铅 …) only counts when jieba cut it as a word on its own,
        so 铅笔 or 甲苯 do not find 铅 or 苯.
        """
        flat = compact_name(text)
        taken = [False] * len(flat)
        token_set = set(tokens)
        found: list[Chemical] = []
        for key, chem in self._names:
            start = flat.find(key)
            while start >= 0:
                end = start + len(key)
                if not any(taken[start:end]) and self._acceptable(key, flat, start, end, token_set):
                    for i in range(start, end):
                        taken[i] = True
                    if chem not in found:
                        found.append(chem)
                    break
                start = flat.find(key, start + 1)
        return found

    def fix_name_typo(self, text: str) -> str:
        """text with one mistyped character of a known chemical name corrected (十溴联苯醚 → 十溴二苯醚).

        Only names of four or more characters, never the first character, and never when the typed character
        is one that names another substance (丁/辛, 氯/溴, 酸/醇 …). Text already naming a chemical is left alone.
        """
        text = self._fix_latin_lookalikes(text)
        if not has_han(text) or self.find_names(text):
            return text
        for n in self._typo_lengths:
            starts = self._typo_starts[n]
            for start in range(len(text) - n + 1):
                if text[start] not in starts:
                    continue
                window = text[start : start + n]
                for i in range(1, n):
                    if window[i] in _NAME_SIGNIFICANT:
                        continue
                    name = self._masked.get(window[:i] + "\0" + window[i + 1 :])
                    if name is not None:
                        return text[:start] + name + text[start + n :]
        return text

    def _fix_latin_lookalikes(self, text: str) -> str:
        """A digit typed for a look-alike letter in an abbreviation: pf0s → pfos (not pfas → pfos: no digit)."""

        def fix(m: re.Match[str]) -> str:
            word = m.group(0)
            if word in self.latin_aliases or not any(d in word for d in _DIGIT_LOOKALIKES):
                return word
            fixed = "".join(_DIGIT_LOOKALIKES.get(ch, ch) for ch in word)
            return fixed if fixed in self.latin_aliases else word

        return _LATIN_WORD.sub(fix, text)

    @staticmethod
    def _acceptable(key: str, flat: str, start: int, end: int, tokens: set[str]) -> bool:
        if len(key) == 1 and has_han(key):
            return key in tokens
        if _LATIN_ONLY.match(key):
            before = flat[start - 1] if start > 0 else ""
            after = flat[end] if end < len(flat) else ""
            return not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha())
        return True
