"""Parse the Yuncheng plan (a PDF text extraction) into clauses with citations and responsible units.

The source is hard-wrapped mid-sentence, has blank lines between lines and page footers ("— 9 —").
Paragraphs are rebuilt from three signals: a line that starts with a heading marker (一、 /（一）/ 1． / 1.),
a line noticeably shorter than the typical line (the last line of a paragraph), and a closing
parenthesis that ends a responsible-units group ("…按职责分工负责）").
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
PLAN_FILE = "plan.txt"
PLAN_TITLE = "运城市新污染物治理工作方案"

CN_DIGITS = "一二三四五六七八九十"
_FOOTER = re.compile(r"^[—–\-－─]+\s*\d+\s*[—–\-－─]+$")
_H1 = re.compile(rf"^([{CN_DIGITS}]+)、\s*(.*)$")
_H2 = re.compile(rf"^（([{CN_DIGITS}]+)）\s*(.*)$")
_H3 = re.compile(r"^(\d{1,2})\s*[．.](?!\d)\s*(.*)$")
_SPACE_NEAR_DIGIT = re.compile(r"(?<=[\d〕）])\s+(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])\s+(?=\d)")
_DEADLINE = re.compile(r"(?<![\d\-－–])(?:到|在)?\s*\d{4}\s*年(?:底前|底|前|\d{1,2}月(?:\d{1,2}日)?)?")
_UNIT_HINT = ("负责", "牵头", "落实")
GENERIC_UNITS = frozenset({"有关部门", "市直各有关部门", "相关部门"})
LOCAL_IMPLEMENTERS = ("各县（市、区）人民政府", "运城开发区管委会")


@dataclass(frozen=True)
class PlanClause:
    """One task or section of the plan, citable as e.g. 二（三）2."""

    citation: str
    level: int  # 1 = 一、, 2 = （一）, 3 = 1．
    numbers: tuple[int, ...]  # (2, 3, 2) for 二（三）2
    heading_path: list[str]
    title: str
    text: str  # full unwrapped text, including the responsible-units parenthesis
    body: str  # text without the responsible-units parenthesis
    units: list[str]  # municipal units named as responsible, in order (lead first when marked 牵头)
    lead_unit: str | None
    units_text: str = ""  # the raw parenthesis content
    implementers: list[str] = field(default_factory=list)  # county-level governments carrying it out
    deadlines: list[str] = field(default_factory=list)  # dated targets named in the text, e.g. "2025年底"

    @property
    def passage_id(self) -> str:
        return "plan-" + "-".join(str(n) for n in self.numbers)


@dataclass(frozen=True)
class PlanDocument:
    title: str
    doc_number: str | None
    issued: str | None
    preamble: str
    clauses: list[PlanClause]
    closing: list[str]  # paragraphs after the last clause (e.g. who interprets the plan)


def cn_number(text: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十三 → 23 (enough for headings)."""
    values = {c: i + 1 for i, c in enumerate(CN_DIGITS[:9])}
    if "十" not in text:
        return values[text]
    tens, _, ones = text.partition("十")
    return (values[tens] if tens else 1) * 10 + (values[ones] if ones else 0)


def cn_numeral(n: int) -> str:
    if n <= 10:
        return CN_DIGITS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens - 1]) + "十" + (CN_DIGITS[ones - 1] if ones else "")


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _clean_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = raw.strip().replace("\u3000", "")
        if not line or line.startswith("#") or _FOOTER.match(line):
            continue
        lines.append(line)
    return lines


def _is_heading(line: str) -> bool:
    return bool(_H1.match(line) or _H2.match(line) or _H3.match(line))


def _trailing_group(text: str) -> tuple[str, str] | None:
    """Split "正文（单位…负责）" into (正文, 单位…负责) using balanced full-width parentheses."""
    text = text.rstrip("。 ")
    if not text.endswith("）"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == "）":
            depth += 1
        elif ch == "（":
            depth -= 1
            if depth == 0:
                inner = text[i + 1 : -1]
                if any(h in inner for h in _UNIT_HINT):
                    return text[:i], inner
                return None
    return None


def _ends_units_group(paragraph: str) -> bool:
    return _trailing_group(paragraph) is not None


def _paragraphs(lines: list[str]) -> list[str]:
    if not lines:
        return []
    typical = statistics.median(_width(x) for x in lines)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if current and _is_heading(line):
            paragraphs.append(current)
            current = ""
        current += line
        short = _width(line) < 0.8 * typical
        if short or _ends_units_group(current) or (_is_heading(current) and _width(line) < 0.5 * typical):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return [_SPACE_NEAR_DIGIT.sub("", p) for p in paragraphs]


def _split_units(inner: str) -> tuple[list[str], str | None, list[str]]:
    """Parse "市生态环境局牵头，市工信局、市商务局等按职责分工负责，各县[市、区]人民政府…落实。以下…"."""
    inner = inner.replace("[", "（").replace("]", "）")
    units: list[str] = []
    lead: str | None = None
    implementers: list[str] = []
    for part in re.split(r"[，。；]", inner):
        part = part.strip()
        if not part or part.startswith("以下"):
            continue
        local = part.endswith("落实")
        m = re.match(r"^(.*?)(?:等)?(?:按职责分工负责|负责|牵头|落实)$", part)
        if not m:
            continue
        names = [n.strip() for n in _split_names(m.group(1)) if n.strip()]
        names = [n[:-1] if n.endswith("等") else n for n in names]
        if local:
            implementers.extend(n for n in names if n not in implementers)
            continue
        if part.endswith("牵头") and names and lead is None:
            lead = names[0]
        for n in names:
            if n not in GENERIC_UNITS and n not in units:
                units.append(n)
    specific = [u for u in units if u not in GENERIC_UNITS]
    if lead is None and len(specific) == 1 and "负责" in inner:
        lead = specific[0]
    return units, lead, implementers


def _split_names(text: str) -> list[str]:
    """Split "A、B和C" on 、/和 outside parentheses (各县（市、区）人民政府 stays whole)."""
    names, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "（"
        depth -= ch == "）"
        if depth == 0 and ch in "、和":
            names.append(current)
            current = ""
        else:
            current += ch
    return [*names, current]


def _title_of_item(body: str) -> str:
    head, sep, _ = body.partition("。")
    return head if sep and len(head) <= 40 else ""


def parse_plan_document(text: str) -> PlanDocument:
    paragraphs = _paragraphs(_clean_lines(text))
    doc_number = next((m.group(0) for p in paragraphs if (m := re.search(r"运政办发〔\d{4}〕\d+号", p))), None)
    issued = next(
        (m.group(0) for p in paragraphs if (m := re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", p))), None
    )
    preamble = next((p for p in paragraphs if p.startswith("为") and "制定本方案" in p), "")

    clauses: list[PlanClause] = []
    closing: list[str] = []
    h1: tuple[int, str] | None = None
    h2: tuple[int, str] | None = None
    # (level, numbers, heading_path, title, body-so-far) of the clause being collected
    pending: list | None = None
    has_children: set[tuple[int, ...]] = set()
    raw: list[list] = []

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            raw.append(pending)
        pending = None

    for p in paragraphs:
        if h1 is None and not _H1.match(p):
            continue  # the notice, the title and the preamble
        if (m := _H1.match(p)) and len(m.group(2)) <= 20:
            flush()
            h1, h2 = (cn_number(m.group(1)), m.group(2)), None
            pending = [1, (h1[0],), [], h1[1], ""]
            continue
        if h1 is None:
            continue
        if (m := _H2.match(p)) and not p.startswith("（市"):
            flush()
            h2 = (cn_number(m.group(1)), m.group(2))
            pending = [2, (h1[0], h2[0]), [h1[1]], h2[1], ""]
            has_children.add((h1[0],))
            continue
        if (m := _H3.match(p)) and h2 is not None:
            flush()
            body = m.group(2)
            pending = [3, (h1[0], h2[0], int(m.group(1))), [h1[1], h2[1]], _title_of_item(body), body]
            has_children.add((h1[0], h2[0]))
            continue
        if pending is not None and not _trailing_group(pending[4]):
            pending[4] += p
        else:
            flush()
            closing.append(p)
    flush()

    for level, numbers, path, title, body_text in raw:
        if numbers in has_children or not body_text:
            continue
        group = _trailing_group(body_text)
        body, units_text = (group[0], group[1]) if group else (body_text, "")
        units, lead, implementers = _split_units(units_text) if units_text else ([], None, [])
        clauses.append(
            PlanClause(
                citation=_citation(numbers),
                level=level,
                numbers=numbers,
                heading_path=list(path),
                title=title,
                text=body_text,
                body=body.strip(),
                units=units,
                lead_unit=lead,
                units_text=units_text,
                implementers=implementers or list(LOCAL_IMPLEMENTERS),
                deadlines=_deadlines(body),
            )
        )
    return PlanDocument(PLAN_TITLE, doc_number, issued, preamble, clauses, closing)


def _deadlines(body: str) -> list[str]:
    found: list[str] = []
    for m in _DEADLINE.finditer(body):
        d = re.sub(r"^(到|在)|\s", "", m.group(0))
        if d not in found:
            found.append(d)
    return found


def _citation(numbers: tuple[int, ...]) -> str:
    out = cn_numeral(numbers[0])
    if len(numbers) > 1:
        out += f"（{cn_numeral(numbers[1])}）"
    if len(numbers) > 2:
        out += str(numbers[2])
    return out


def parse_plan(text: str) -> list[PlanClause]:
    """All citable clauses of the plan, in document order."""
    return parse_plan_document(text).clauses


def read_plan_text(data_dir: Path | None = None) -> str:
    return ((data_dir or DATA_DIR) / PLAN_FILE).read_text(encoding="utf-8")


def load_plan(data_dir: Path | None = None) -> list[PlanClause]:
    """Parse knowledge/data/plan.txt (or the plan in another data directory)."""
    return parse_plan(read_plan_text(data_dir))


def load_plan_document(data_dir: Path | None = None) -> PlanDocument:
    return parse_plan_document(read_plan_text(data_dir))
