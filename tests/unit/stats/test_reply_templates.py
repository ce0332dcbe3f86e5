"""Reply templates: the shipped file is valid, bad files are named precisely, and on the case page a
chosen template fills the reply box, is edited, and the edited text is what the reporter gets."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import select

from bot.cases.replies import DEFAULT_FILE, ReplyTemplateError, parse_templates, templates_for
from bot.reports.catalog import categories
from storage.models.reports import Report
from tests.conftest import RunningService
from tests.unit.console.helpers import make_staff, seed_report

CATEGORIES = frozenset(c.code for c in categories())


def test_shipped_templates_cover_every_category_and_outcome() -> None:
    templates = tuple(parse_templates(DEFAULT_FILE.read_text(encoding="utf-8"), "shipped", CATEGORIES))
    for category in CATEGORIES:
        for outcome in ("resolved", "rejected"):
            assert templates_for(templates, category, outcome)
    own = templates_for(templates, "discharge", "resolved")
    assert own[0].category == "discharge"  # the category's own template comes first


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[template]]\nkey='a'\ncategory='*'\noutcome='resolved'\ntitle='t'\n", "text is missing"),
        ("[[template]]\nkey='a'\ncategory='noise'\noutcome='resolved'\ntitle='t'\ntext='x'\n", "unknown category"),
        ("[[template]]\nkey='a'\ncategory='*'\noutcome='closed'\ntitle='t'\ntext='x'\n", "outcome must be"),
        ("[[template]]\nkey='a'\ncategory='*'\noutcome='resolved'\ntitle='t'\ntext='{name}'\n", "may only use"),
        (
            "[[template]]\nkey='a'\ncategory='*'\noutcome='resolved'\ntitle='t'\ntext='x'\n" * 2,
            "used twice",
        ),
        ("[[template]\n", "not valid TOML"),
    ],
)
def test_bad_template_files_are_named(body: str, message: str) -> None:
    with pytest.raises(ReplyTemplateError, match=message) as info:
        parse_templates(body, "replies.toml", CATEGORIES)
    assert str(info.value).startswith("replies.toml")


async def test_pick_edit_and_send_a_standard_reply(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    case_no = await seed_report(services)
    await make_staff(services, "eco", "市生态环境局")
    client = await client_factory()
    await client.login("eco")
    path = f"/console/reports/{case_no}"
    await client.get(path)
    for action, data in (("accept", {"public_summary": "河边工厂疑似偷排废水"}), ("investigate", {"note": "已派人"})):
        status, _text, _ = await client.post(f"{path}/action", {"action": action, **data})
        assert status == 303
    _status, page, _ = await client.get(path)
    assert 'value="resolved-discharge-penalty"' in page and 'value="resolved-pesticide-recovery"' not in page

    _status, page, _ = await client.get(f"{path}?reply=resolved-discharge-penalty")
    box = re.search(r'<textarea name="public_reply"[^>]*>([^<]*)</textarea>', page)
    assert box is not None
    filled = html_lib.unescape(box.group(1))
    assert case_no in filled and "市生态环境局已责令" in filled

    edited = filled + "处罚结果将在官网公示。"
    status, _text, _ = await client.post(
        f"{path}/action", {"action": "resolve", "note": "立案", "public_reply": edited}
    )
    assert status == 303
    async with services.database.session() as db:
        report = await db.scalar(select(Report).where(Report.case_no == case_no))
    assert report.public_reply == edited


async def test_unknown_or_foreign_template_is_refused_plainly(console_service: RunningService, client_factory) -> None:
    services = console_service.services
    case_no = await seed_report(services)
    await make_staff(services, "eco", "市生态环境局")
    client = await client_factory()
    await client.login("eco")
    for key in ("resolved-pesticide-recovery", "nonsense"):
        status, page, _ = await client.get(f"/console/reports/{case_no}?reply={key}")
        assert status == 200 and "没有适用于本案类别的这个答复模板" in page
    # A rejection template fills the reason box.
    _status, page, _ = await client.get(f"/console/reports/{case_no}?reply=rejected-insufficient")
    assert re.search(r'<textarea name="reason"[^>]*>您提供的地址', page)
