"""What a report can be: the categories (with their department), the states and their moves, case numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import texts

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True)
class Category:
    """A report category: its code, label and the responsible city department(s)."""

    code: str
    label: str
    department: str
    also_notify: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


# Division of duties per the plan: pesticides and veterinary drugs → agriculture; pharmacy antibiotic
# sales → market regulation (with health); toys and student supplies → market regulation; import and
# export → customs; everything else → ecology and environment.
CATEGORIES: tuple[Category, ...] = (
    Category(
        "discharge",
        texts.REPORT_CATEGORY_LABELS["discharge"],
        "市生态环境局",
        keywords=("偷排", "直排", "排放", "排污", "废水", "废气", "有毒", "有害", "异味", "污水"),
    ),
    Category(
        "pesticide",
        texts.REPORT_CATEGORY_LABELS["pesticide"],
        "市农业农村局",
        keywords=("农药", "兽药", "包装", "农膜", "过期药", "废弃药", "兽用"),
    ),
    Category(
        "antibiotic_sale",
        texts.REPORT_CATEGORY_LABELS["antibiotic_sale"],
        "市市场监管局",
        also_notify=("市卫健委",),
        keywords=("药店", "药房", "处方", "抗生素", "抗菌药", "消炎药"),
    ),
    Category(
        "toys",
        texts.REPORT_CATEGORY_LABELS["toys"],
        "市市场监管局",
        keywords=("玩具", "文具", "学生用品", "书包", "橡皮", "儿童"),
    ),
    Category(
        "banned_chemical",
        texts.REPORT_CATEGORY_LABELS["banned_chemical"],
        "市生态环境局",
        keywords=("淘汰", "禁用", "禁止", "PFOS", "全氟", "六溴", "短链氯化石蜡", "十溴"),
    ),
    Category(
        "import_export",
        texts.REPORT_CATEGORY_LABELS["import_export"],
        "运城海关",
        keywords=("进口", "出口", "进出口", "走私", "海关"),
    ),
    Category("other", texts.REPORT_CATEGORY_LABELS["other"], "市生态环境局", keywords=("其他", "其它")),
)


CATEGORY_BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}


STATUSES: tuple[str, ...] = (
    "submitted",
    "accepted",
    "rejected",
    "duplicate",
    "investigating",
    "resolved",
    "closed",
)


OPEN_STATUSES: frozenset[str] = frozenset({"submitted", "accepted", "investigating"})


TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"accepted", "rejected", "duplicate"}),
    "accepted": frozenset({"investigating"}),
    "duplicate": frozenset({"accepted", "closed"}),
    "investigating": frozenset({"resolved"}),
    "resolved": frozenset({"closed", "investigating"}),
    "rejected": frozenset({"closed"}),
    "closed": frozenset(),
}


def local_zone(services: Services | None) -> ZoneInfo:
    name = services.config.reminders.timezone if services is not None else "Asia/Shanghai"
    return ZoneInfo(name)


def category_label(code: str) -> str:
    cat = CATEGORY_BY_CODE.get(code)
    return cat.label if cat else code


def status_label(status: str) -> str:
    return texts.REPORT_STATUS_LABELS.get(status, status)
