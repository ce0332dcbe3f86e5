"""Citations: entries name their sources as "key" or "key:detail" (e.g. "plan:二（三）2"), see data/sources.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

SOURCES_FILE = "sources.toml"
PLAN_KEY = "plan"


@dataclass(frozen=True)
class SourceRef:
    key: str
    detail: str = ""

    @classmethod
    def parse(cls, ref: str) -> SourceRef:
        key, _, detail = ref.strip().partition(":")
        return cls(key.strip(), detail.strip())


class SourceCatalog:
    def __init__(self, cites: dict[str, str]) -> None:
        self._cites = cites

    @classmethod
    def load(cls, data_dir: Path) -> SourceCatalog:
        with (data_dir / SOURCES_FILE).open("rb") as fh:
            raw = tomllib.load(fh)
        return cls({key: str(value.get("cite", key)) for key, value in raw.items()})

    def __contains__(self, key: str) -> bool:
        return key in self._cites

    def keys(self) -> list[str]:
        return list(self._cites)

    def cite(self, ref: str | SourceRef) -> str:
        """Human-readable citation, e.g. 《运城市新污染物治理工作方案》二（三）2."""
        r = SourceRef.parse(ref) if isinstance(ref, str) else ref
        base = self._cites.get(r.key, r.key)
        return base + r.detail if r.detail else base

    def problem(self, ref: str, plan_citations: set[str]) -> str | None:
        """Why a reference is broken, or None."""
        r = SourceRef.parse(ref)
        if not r.key:
            return "empty source reference"
        if r.key not in self._cites:
            return f"unknown source key {r.key!r} (not in {SOURCES_FILE})"
        if r.key == PLAN_KEY and r.detail and r.detail not in plan_citations:
            return f"plan clause {r.detail!r} does not exist in plan.txt"
        return None
