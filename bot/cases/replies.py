"""Standard public replies per category and outcome, read from a TOML file (``[reports]
reply_templates_file``, default: the one shipped beside this module). Staff pick one on the case page;
it fills the reply box, where they edit it before sending.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.reports.catalog import categories

DEFAULT_FILE = Path(__file__).resolve().parent / "reply_templates.toml"
OUTCOMES = ("resolved", "rejected")
PLACEHOLDERS = ("case_no", "category", "department")
MAX_TEXT = 2000


class ReplyTemplateError(ValueError):
    """A template file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class ReplyTemplate:
    key: str
    category: str  # a category code, or "*" for every category
    outcome: str  # resolved | rejected
    title: str
    text: str

    def fill(self, *, case_no: str, category: str, department: str) -> str:
        return self.text.format(case_no=case_no, category=category, department=department)


def parse_templates(text: str, source: str, categories: frozenset[str]) -> list[ReplyTemplate]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReplyTemplateError(f"{source}: not valid TOML: {exc}") from None
    entries = raw.get("template", [])
    if not isinstance(entries, list):
        raise ReplyTemplateError(f"{source}: [[template]] entries expected")
    templates: list[ReplyTemplate] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: template {index}"
        if not isinstance(entry, dict):
            raise ReplyTemplateError(f"{where}: must be a table")
        values = {name: entry.get(name) for name in ("key", "category", "outcome", "title", "text")}
        for name, value in values.items():
            if not isinstance(value, str) or not value.strip():
                raise ReplyTemplateError(f"{where}: {name} is missing or empty")
        key = str(values["key"]).strip()
        if key in seen:
            raise ReplyTemplateError(f"{where}: key {key!r} is used twice")
        seen.add(key)
        if values["category"] != "*" and values["category"] not in categories:
            raise ReplyTemplateError(f"{where} ({key}): unknown category {values['category']!r}")
        if values["outcome"] not in OUTCOMES:
            raise ReplyTemplateError(f"{where} ({key}): outcome must be one of {', '.join(OUTCOMES)}")
        template = ReplyTemplate(
            key, str(values["category"]), str(values["outcome"]), str(values["title"]), str(values["text"]).strip()
        )
        try:
            filled = template.fill(case_no="YC20260101-0001", category="类别", department="部门")
        except (KeyError, IndexError, ValueError):
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ReplyTemplateError(f"{where} ({key}): text may only use {allowed}") from None
        if len(filled) > MAX_TEXT:
            raise ReplyTemplateError(f"{where} ({key}): text longer than {MAX_TEXT} characters")
        templates.append(template)
    return templates


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> tuple[ReplyTemplate, ...]:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplyTemplateError(f"{file}: cannot be read: {exc}") from None
    return tuple(parse_templates(text, str(file), frozenset(c.code for c in categories())))


def template_file(config: object) -> Path:
    configured = getattr(getattr(config, "reports", None), "reply_templates_file", "")
    if not configured:
        return DEFAULT_FILE
    path = Path(configured)
    return path if path.is_absolute() else PROJECT_ROOT / path


def load_templates(config: object) -> tuple[ReplyTemplate, ...]:
    """The templates in force (re-read when the file changes)."""
    path = template_file(config)
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise ReplyTemplateError(f"{path}: cannot be read: {exc}") from None
    return _load(str(path), mtime)


def templates_for(templates: tuple[ReplyTemplate, ...], category: str, outcome: str) -> list[ReplyTemplate]:
    """The category's own templates first, then those for every category."""
    own = [t for t in templates if t.outcome == outcome and t.category == category]
    common = [t for t in templates if t.outcome == outcome and t.category == "*"]
    return own + common
