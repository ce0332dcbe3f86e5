"""Read every data file once (at start-up) into one immutable bundle."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.asked import AskedQuestion, load_asked
from knowledge.chemicals import Chemical, load_chemicals
from knowledge.duties import DUTIES_FILE, Duties, duties, load_duties
from knowledge.entries import Entry, load_entries
from knowledge.intent import Detail, load_details
from knowledge.plan import PlanClause, PlanDocument, load_plan_document
from knowledge.sources import SourceCatalog

DATA_DIR = Path(__file__).resolve().parent / "data"


def home_places(duties: Duties) -> tuple[str, ...]:
    """Place words that make a question local: the city, the counties' short names, the province."""
    return ("运城", *(county.short for county in duties.counties), "山西")


def read_word_list(path: Path) -> list[str]:
    """One item per line; blank lines and lines starting with # are ignored."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def read_dictionary(path: Path) -> list[tuple[str, int]]:
    words = []
    for line in read_word_list(path):
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 20000
        words.append((parts[0], freq))
    return words


def read_mapping(path: Path) -> dict[str, list[str]]:
    """Lines "key: a|b|c" → {key: [a, b, c]}."""
    out: dict[str, list[str]] = {}
    for line in read_word_list(path):
        key, sep, rest = line.partition(":")
        if sep:
            out.setdefault(key.strip(), []).extend(v.strip() for v in rest.split("|") if v.strip())
    return out


def read_synonyms(path: Path) -> dict[str, str]:
    """{alternative wording: canonical wording}."""
    return {alt: canonical for canonical, alts in read_mapping(path).items() for alt in alts}


@dataclass(frozen=True)
class Settings:
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "qcov": 0.55, "dcov": 0.25, "fuzzy": 0.2, "intent": 0.15, "conflict": 0.0,
            "entry": 0.0, "spread": 0.0, "spread_n": 5.0, "bm25_k1": 1.2, "bm25_b": 0.5,
        }
    )
    threshold: float = 0.45
    suggest_floor: float = 0.2
    chemical_name_bonus: float = 0.15
    chemical_list_bonus: float = 0.0
    context_weight: float = 0.3
    marked_context_share: float = 1.0
    uncovered_penalty: float = 0.0
    classifier: dict[str, float] = field(
        default_factory=lambda: {"weight": 0.2, "ood_weight": 0.2, "temperature": 5.0, "alpha": 0.1}
    )
    max_suggestions: int = 3

    @classmethod
    def load(cls, path: Path) -> Settings:
        if not path.exists():
            return cls()
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        score, answer, clf = raw.get("score", {}), raw.get("answer", {}), raw.get("classifier", {})
        base = cls()
        return cls(
            weights={k: float(score.get(k, v)) for k, v in base.weights.items()},
            threshold=float(answer.get("threshold", base.threshold)),
            suggest_floor=float(answer.get("suggest_floor", base.suggest_floor)),
            chemical_name_bonus=float(answer.get("chemical_name_bonus", base.chemical_name_bonus)),
            chemical_list_bonus=float(answer.get("chemical_list_bonus", base.chemical_list_bonus)),
            context_weight=float(answer.get("context_weight", base.context_weight)),
            marked_context_share=float(answer.get("marked_context_share", base.marked_context_share)),
            uncovered_penalty=float(answer.get("uncovered_penalty", base.uncovered_penalty)),
            classifier={k: float(clf.get(k, v)) for k, v in base.classifier.items()},
            max_suggestions=int(answer.get("max_suggestions", base.max_suggestions)),
        )


@dataclass(frozen=True)
class Unit:
    """A municipal unit the plan names (data/units.toml)."""

    name: str
    aliases: tuple[str, ...]
    entry: str | None = None


def load_units(path: Path) -> list[Unit]:
    if not path.exists():
        return []
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return [
        Unit(str(u["name"]), tuple(str(a) for a in u.get("aliases", [])), str(u.get("entry") or "") or None)
        for u in raw.get("unit", [])
    ]


@dataclass(frozen=True)
class ExistingChemical:
    """A common substance listed in 《中国现有化学物质名录》 (data/existing_chemicals.csv): not a new chemical."""

    name: str
    aliases: tuple[str, ...]
    cas: str


def load_existing_chemicals(path: Path) -> list[ExistingChemical]:
    out = []
    for line in read_word_list(path):
        cols = [c.strip() for c in line.split(",")]
        if len(cols) < 3 or cols[0] == "name":
            continue
        out.append(ExistingChemical(cols[0], tuple(a for a in cols[1].split("|") if a), cols[2]))
    return out


@dataclass(frozen=True)
class KnowledgeData:
    data_dir: Path
    entries: list[Entry]
    chemicals: list[Chemical]
    plan: PlanDocument
    sources: SourceCatalog
    stopwords: list[str]
    dictionary: list[tuple[str, int]]
    other_places: list[str]
    settings: Settings
    home_places: tuple[str, ...] = ()
    chemical_question_words: list[str] = field(default_factory=list)
    chemical_templates: list[str] = field(default_factory=lambda: ["{name}"])
    chemical_status_words: list[str] = field(default_factory=list)
    health_words: list[str] = field(default_factory=list)
    abroad: list[str] = field(default_factory=list)
    no_data_words: list[str] = field(default_factory=list)
    other_topics: list[str] = field(default_factory=list)
    out_of_scope: list[str] = field(default_factory=list)
    asked: list[AskedQuestion] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    intents: dict[str, list[str]] = field(default_factory=dict)
    details: list[Detail] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    existing_chemicals: list[ExistingChemical] = field(default_factory=list)

    @property
    def clauses(self) -> list[PlanClause]:
        return self.plan.clauses


def load_data(data_dir: Path | None = None) -> KnowledgeData:
    d = data_dir or DATA_DIR
    return KnowledgeData(
        data_dir=d,
        entries=load_entries(d),
        chemicals=load_chemicals(d),
        plan=load_plan_document(d),
        sources=SourceCatalog.load(d),
        stopwords=read_word_list(d / "stopwords.txt"),
        dictionary=read_dictionary(d / "dictionary.txt"),
        other_places=read_word_list(d / "places.txt"),
        settings=Settings.load(d / "settings.toml"),
        home_places=home_places(load_duties(d / DUTIES_FILE) if (d / DUTIES_FILE).exists() else duties()),
        chemical_question_words=read_word_list(d / "chemical_question_words.txt"),
        chemical_templates=read_word_list(d / "chemical_templates.txt") or ["{name}"],
        chemical_status_words=read_word_list(d / "chemical_status_words.txt"),
        health_words=read_word_list(d / "health_words.txt"),
        abroad=read_word_list(d / "abroad.txt"),
        no_data_words=read_word_list(d / "no_data_words.txt"),
        other_topics=read_word_list(d / "other_topics.txt"),
        out_of_scope=read_word_list(d / "out_of_scope.txt"),
        asked=load_asked(d),
        synonyms=read_synonyms(d / "synonyms.txt"),
        intents=read_mapping(d / "intents.txt"),
        details=load_details(d / "details.toml"),
        units=load_units(d / "units.toml"),
        existing_chemicals=load_existing_chemicals(d / "existing_chemicals.csv"),
    )
