"""What the question wants, independent of its topic: the asked detail (a date, a count, a fee …), whether it is a
yes/no question, a wish to report, a health emergency, and where the question sits inside a long message.

The topic decides which entry is nearest; these decide whether that entry answers *the asked thing* and how the
reply must open. Patterns are kept in data/details.toml (asked details) and here (the few fixed cue lists).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Detail:
    """A kind of fact a question can ask for (data/details.toml)."""

    name: str
    label: str
    ask: tuple[re.Pattern[str], ...]
    has: tuple[re.Pattern[str], ...]
    near: bool = False  # the fact must be in the answer's clauses about the asked thing
    yes_no: bool = False  # asked by a yes/no question too ("那个厂在不在名单上")

    def asked_in(self, question: str) -> bool:
        return any(p.search(question) for p in self.ask)

    def found_in(self, answer: str) -> bool:
        return any(p.search(answer) for p in self.has)

    def found_near(self, answer: str, words: list[str]) -> bool:
        """Found in the part of the answer that is about the question: the clauses sharing the most of the
        question's words ("培训考核一年考几次" is not answered by "按年度发布……监测报告" in the same entry)."""
        if not self.near:
            return self.found_in(answer)
        clauses = [c for c in _ANSWER_CLAUSE.split(answer) if c.strip()]
        words = [w for w in words if len(w) >= 2]
        scores = [sum(1 for w in words if w in c) for c in clauses]
        best = max(scores, default=0)
        if best == 0:
            return self.found_in(answer)
        return any(self.found_in(c) for c, n in zip(clauses, scores, strict=True) if n == best)


_ANSWER_CLAUSE = re.compile(r"[。；;，,\n：:]")


def load_details(path: Path) -> list[Detail]:
    """data/details.toml; a bad pattern raises ValueError naming the detail."""
    if not path.exists():
        return []
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    out = []
    for n, table in enumerate(raw.get("detail", []), 1):
        name = str(table.get("name", f"#{n}"))
        try:
            out.append(Detail(
                name,
                str(table["label"]),
                tuple(re.compile(p) for p in table.get("ask", [])),
                tuple(re.compile(p) for p in table.get("has", [])),
                bool(table.get("near", False)),
                bool(table.get("yes_no", False)),
            ))
        except (KeyError, re.error) as exc:
            raise ValueError(f"{path.name}: detail {name}: {exc}") from exc
    return out


def asked_detail(question: str, details: list[Detail], *, yes_no: bool = False) -> Detail | None:
    """The first detail the question asks for; of a yes/no question, only details marked ``yes_no``."""
    return next((d for d in details if (d.yes_no or not yes_no) and d.asked_in(question)), None)


# ---- yes/no questions and the stock openers of answers --------------------------------------------------------
_WH = re.compile(r"哪|谁|几|多少|什么时候|怎么|如何|什么|啥|多久|多长")
_YES_NO = re.compile(
    r"吗|么[？?]?$|是否|有没有|能不能|可不可以|可以不|要不要|需不需要|用不用|会不会|是不是|算不算|对不对|对吧|是吧|"
    r"行不行|行吗|没有?[？?]?$|不[？?]?$|([\u4e00-\u9fff])不\1"
)
# one-word yes/no openers of curated answers ("有。" "要。" "一般不用。"), removed when the question is not a
# yes/no question: served to "which one / who / how many" they read as a false assertion
STOCK_OPENER = re.compile(
    r"^(?:有|要|会|是|可以|需要|能|算|在|对|不用|不需要|不会|不能|不可以|不是|没有|一般要|一般不用|是的)[。！!，,]\s*"
)


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no: 有没有…, …吗, 能不能…; not when it also asks who/which/how many."""
    return bool(_YES_NO.search(question)) and not _WH.search(question)


def strip_opener(answer: str) -> str:
    rest = STOCK_OPENER.sub("", answer, count=1)
    return rest if rest.strip() else answer


# ---- reporting and emergencies -----------------------------------------------------------------------------------
_REPORT_WORD = r"(?:举报|投诉|反映|反应|告发|揭发|检举|曝光|告他|告他们|告它)"
_REPORT = re.compile(
    rf"(?:我要|我想|想要|想|要|准备|打算|怎么|咋|如何|去哪|去哪里|到哪|到哪里|向谁|跟谁|和谁|找谁|找哪|给谁|该找|找什么)"
    rf".{{0,6}}{_REPORT_WORD}"
    rf"|{_REPORT_WORD}.{{0,6}}(?:找谁|找哪|打哪|打什么|哪个电话|什么电话|电话多少|去哪|到哪|怎么弄|怎么办|谁管)"
    r"|(?:找谁|打哪个电话|打什么电话|打啥电话).{0,4}$"
)
# the problem itself: a complaint is about something happening, not about the rules of reporting
_PROBLEM = re.compile(
    r"冒烟|黑烟|黄烟|白烟|烟囱|臭味|怪味|异味|气味|味道|刺鼻|呛|熏|偷排|直排|乱排|排放|乱倒|倒在|倒进|倒入|倾倒|乱扔|扔在|"
    r"偷倒|下水道|污水|废水|废液|废渣|(?<!新)污染(?!物)|发臭|死鱼|焚烧|烧垃圾|冒黄|冒黑|泄漏|渗漏|不要处方|没有处方|无处方|"
    r"违规|违法|非法|黑作坊|小作坊|作坊|厂(?!家|商|长)|企业|养殖场|药店|诊所|农药瓶|味儿|味大|味很大|味太大"
)
_REPORT_ABOUT_RULES = re.compile(
    r"奖励|奖金|将励|匿名|保密|泄露|知道是我|会不会知道|多久|进度|流程|受理|答复|处理结果|位置|定位|照片|怎么发|发什么"
)


def wants_report(text: str) -> bool:
    """The message wants to report or complain about something that is happening (not ask how reporting works)."""
    if not _REPORT.search(text):
        return False
    return bool(_PROBLEM.search(text)) and not _REPORT_ABOUT_RULES.search(text)


_SMELL_SMOKE = re.compile(r"冒烟|黑烟|黄烟|白烟|浓烟|烟囱|臭味|怪味|异味|气味|味道|刺鼻|呛|熏|臭|焚烧|烧垃圾")
_ASKS_ELSE = re.compile(r"吗|呢|是否|能不能|有没有|要不要|哪些|什么|多少|几|为什么|如何")


def is_complaint(text: str) -> bool:
    """A long complaint about a smell or smoke (no other question in it): 举报 is the way to act on it."""
    return len(text) >= 15 and bool(_SMELL_SMOKE.search(text)) and not _ASKS_ELSE.search(text)


_DUTIES = re.compile(
    r"管啥|管什么|管哪些|管些啥|管哪块|干什么|干啥|干嘛|做什么|做啥|负责什么|负责啥|负责哪些|负责哪|职责|任务|承担|分工|"
    r"是做什么|参与|角色|作用|管不管|有什么事|啥事|什么工作|哪些工作|啥工作|有什么用|起什么"
)


def asks_duties(question: str) -> bool:
    """The question asks what someone does (a unit's duties)."""
    return bool(_DUTIES.search(question))


_EXPOSURE = re.compile(
    r"误喝|误服|误食|误吸|喝了|喝下|吃了|吃下|吞了|舔了|吸了|吸入|闻了|溅到|溅进|溅了|溅在|沾到|沾了|沾上|弄到手上|弄到眼睛|"
    r"接触|泼到|洒到|当水喝|进了眼|进眼睛|中毒了|喷(?:完|了|过|洒)?.{0,2}(?:农药|药)|打(?:完|了|过)?药"
)
_HARM = re.compile(
    r"头晕|头疼|头痛|恶心|呕吐|吐了|晕倒|昏倒|昏迷|叫不醒|不省人事|站不稳|呼吸困难|喘不上|喘不过|抽搐|红疹|起疹|皮疹|疹子|"
    r"红肿|起泡|水泡|灼伤|烧伤|烫伤|疼得|睁不开|看不清|流泪|胸闷|心慌|发抖|发麻|手麻|麻木|想吐|怎么办|咋办|怎么处理|咋整|救命|急"
)
_ALARM = re.compile(r"中毒了|晕倒|昏倒|昏迷|叫不醒|不省人事|抽搐|呼吸困难|喘不上气")


_SWALLOWED = re.compile(r"喝了|喝下|误喝|误服|误食|吞了|吞下|吃了|吃下|舔了|当水喝|当饮料喝")
_HAZARD = re.compile(
    r"农药|除草剂|杀虫剂|敌敌畏|百草枯|灭鼠|老鼠药|消毒液|消毒水|84|洁厕|清洁剂|洗涤剂|漂白|化学品|化工|溶剂|"
    r"汽油|柴油|油漆|稀释剂|天那水|甲醛|氯甲烷|强酸|硫酸|盐酸|烧碱|火碱"
)


def is_emergency(text: str) -> bool:
    """Someone has been exposed to a chemical and is hurt (or it is urgent), or has swallowed something
    dangerous: 120 / a doctor first."""
    if _ALARM.search(text) or (_EXPOSURE.search(text) and _HARM.search(text)):
        return True
    return bool(_SWALLOWED.search(text) and _HAZARD.search(text))


# ---- the question inside a long message ----------------------------------------------------------------------------
_ASK_MARKER = re.compile(
    r"(?:请问|想问一下|想问问|想问|问一下|问问|我想知道|想知道|我就想问|咨询一下|请教一下|请教)[，,：:\s]*"
)
_CLAUSE_END = re.compile(r"[，,。；;！!？?\s]+")
# where a voice run-on without punctuation turns from the story to the question
_SOFT_BREAK = re.compile(
    r"(?=我想|想去|他们说|人家说|听说|是不是|这是真的|这是不是|还是说|还是|所以|但是|可是|结果|然后|到底|该打|该找|该怎么|"
    r"我们该|我该|要不要|能不能|有没有|请问)"
)
_QUESTION_CUE = re.compile(
    r"吗|呢|\?|？|怎么|什么|啥|哪|谁|多少|几|是否|该|咋|如何|可以|([\u4e00-\u9fff])不\1"
)
TAIL_MIN_CHARS = 8
ASK_MIN_CHARS = 12  # what the question asks for is read from at least this much of its end
STORY_MIN_CHARS = 24


def _clauses(text: str) -> list[str]:
    parts = [c for c in _CLAUSE_END.split(text) if c]
    out: list[str] = []
    for p in parts:
        if len(p) > 20:  # a voice run-on: break before the words that usually start a new thought
            out.extend(s for s in _SOFT_BREAK.split(p) if s)
        else:
            out.append(p)
    return out


def last_clause(text: str) -> str:
    """The message's last clause when it has several ("老辈人说硫丹好使，现在还能买到用吗" → the question), else ''."""
    parts = _clauses(text)
    return parts[-1] if len(parts) > 1 else ""


def has_ask_marker(text: str) -> bool:
    """The message says where its question starts ("……我就想问……", "请问……")."""
    return bool(_ASK_MARKER.search(text))


def ask_span(text: str) -> str:
    """The part of the message that says what is asked: the question tail, with the clause before it when the
    tail is a bare request ("……都有哪些企业，能列一下吗"); the whole text when it is short."""
    return question_tail(text, ASK_MIN_CHARS) or text


def question_tail(text: str, min_chars: int = TAIL_MIN_CHARS) -> str:
    """The question at the end of a long message that tells its story first: after "请问 / 想问", else the last
    clauses that ask something (at least TAIL_MIN_CHARS characters). Empty when the message is short or one
    clause."""
    if len(text) < STORY_MIN_CHARS:
        return ""
    marker = None
    for found in _ASK_MARKER.finditer(text):
        marker = found
    if marker is not None and len(text) - marker.end() >= min_chars:
        return text[marker.end():]
    clauses = _clauses(text)
    if len(clauses) < 2:
        return ""
    # the last clause that asks; later clauses are afterthoughts ("……要登记吗，急")
    last = max((i for i, c in enumerate(clauses) if _QUESTION_CUE.search(c)), default=len(clauses) - 1)
    tail = ""
    for c in reversed(clauses[: last + 1]):
        tail = c + "，" + tail if tail else c
        if len(tail) >= min_chars:
            break
    return tail if len(tail) < len(text) - 4 else ""
