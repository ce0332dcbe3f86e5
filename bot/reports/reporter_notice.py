"""A status change the reporter is told about: one notice, delivered later by the first route that works.

The notice is one outbox row of kind ``routed`` (``bot.outbound.routes`` delivers it) whose payload carries
each route's message, written now while the facts are at hand:

* ``content`` — the customer-service text (48-hour window after the reporter's last message);
* ``template`` — ``[notices] report_template_id`` with the values in ``report_template_keys``'s types
  (allowed because the reporter's own report triggered it);
* ``subscribe`` — ``[notices] subscribe_template_id`` for a reporter who granted one on the case page;
* ``url`` — the case page, where the status and the public reply can be read in full.

Without a route the notice waits (never expires) until the reporter writes again or sends 查询.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.config import Config
from bot.outbound.channels.sandbox_rules import SANDBOX_TEMPLATE_ID
from bot.outbound.routes import ROUTED_KIND
from bot.reports.catalog import local_zone
from bot.wechat.typed_values import Value, ValueMismatch, fit_values
from storage.notice_deliveries import case_page_token
from storage.outbox import enqueue

if TYPE_CHECKING:
    from bot.services import Services

PURPOSE = "report_update"
CASE_PAGE_PATH = "/case/"


def report_template_id(config: Config) -> str:
    """The template message of reporter notices; the sandbox stands one in when none is configured."""
    return config.notices.report_template_id or (SANDBOX_TEMPLATE_ID if config.uses_sandbox else "")


def subscribe_template_id(config: Config) -> str:
    """The subscription-notification template offered on the case page (the sandbox stands one in)."""
    return config.notices.subscribe_template_id or (SANDBOX_TEMPLATE_ID if config.uses_sandbox else "")


async def case_page_url(session: AsyncSession, config: Config, case_no: str, now: datetime) -> str:
    token = await case_page_token(session, case_no, now)
    return f"{config.server.public_base_url.rstrip('/')}{CASE_PAGE_PATH}{token}"


def outcome_promise(config: Config, case_no: str, page_url: str) -> str:
    """What the confirmation says about how the outcome will arrive: only the routes that are configured."""
    parts = []
    if report_template_id(config):
        parts.append(texts.REPORT_OUTCOME_BY_TEMPLATE)
    if subscribe_template_id(config):
        parts.append(texts.REPORT_OUTCOME_SUBSCRIBE.format(url=page_url))
    else:
        parts.append(texts.REPORT_OUTCOME_PAGE.format(url=page_url))
    parts.append(texts.REPORT_OUTCOME_NEXT_MESSAGE.format(case_no=case_no))
    return "".join(parts)


def _typed(template_id: str, keys: dict[str, str], values: dict[str, Value]) -> dict[str, Any] | None:
    if not template_id:
        return None
    try:
        return {"template_id": template_id, "data": fit_values(keys, values)}
    except ValueMismatch:  # config check names the key; this route is skipped rather than refused (47003)
        return None


async def enqueue_reporter_notice(
    session: AsyncSession,
    services: Services,
    *,
    openid: str,
    case_no: str,
    status: str,
    unit: str,
    content: str,
    key: str,
    now: datetime,
) -> bool:
    """Write the notice to the outbox in the caller's transaction; ``key`` makes it once-only."""
    config = services.config
    local = now.astimezone(local_zone(services)).replace(second=0, microsecond=0)
    values: dict[str, Value] = {
        "case_no": case_no,
        "status": texts.REPORT_STATUS_PHRASES.get(status, status),
        "unit": unit,
        "time": local,
    }
    notices = config.notices
    payload: dict[str, Any] = {
        "case_no": case_no,
        "content": content,
        "url": await case_page_url(session, config, case_no, now),
        "template": _typed(report_template_id(config), notices.report_template_keys, values),
        "subscribe": _typed(subscribe_template_id(config), notices.subscribe_template_keys, values),
    }
    return await enqueue(
        session,
        channel="mp",
        kind=ROUTED_KIND,
        recipient=openid,
        payload=payload,
        now=now,
        dedup_key=key,
        purpose=PURPOSE,
    )
