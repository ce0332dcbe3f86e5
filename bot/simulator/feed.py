"""What the service 'sent' to a user through the sandbox channels, rendered for the simulator page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot import texts
from bot.outbound.channels.sandbox_rules import REFUSED
from storage.db import Database
from storage.models import SandboxMessage

PAGE_SIZE = 100
CHANNEL_LABELS = {"mp": "公众号", "wecom": "企业微信"}


def render(row: SandboxMessage) -> dict[str, Any]:
    """One sandbox message as a card: a kind label, a title, lines of text and an optional link."""
    payload = row.payload or {}
    item: dict[str, Any] = {
        "id": row.id,
        "channel": CHANNEL_LABELS.get(row.channel, row.channel),
        "kind": row.kind,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "title": "",
        "lines": [],
        "url": "",
    }
    if row.kind == "text":
        item["label"] = texts.SIM_KIND_TEXT if row.channel == "mp" else texts.SIM_KIND_TEXTCARD
        item["lines"] = [str(payload.get("content", ""))]
    elif row.kind == "template":
        item["label"] = texts.SIM_KIND_TEMPLATE
        item["title"] = str(payload.get("template_id") or "")
        data = payload.get("data") or {}
        item["lines"] = [f"{key}：{_value(value)}" for key, value in data.items()] if isinstance(data, dict) else []
        item["url"] = str(payload.get("url") or "")
    elif row.kind == "textcard":
        item["label"] = texts.SIM_KIND_TEXTCARD
        item["title"] = str(payload.get("title", ""))
        item["lines"] = [str(payload.get("description", ""))]
        item["url"] = str(payload.get("url") or "")
    elif row.kind == "subscribe":
        item["label"] = texts.SIM_KIND_SUBSCRIBE
        item["title"] = str(payload.get("template_id") or "")
        data = payload.get("data") or {}
        item["lines"] = [f"{key}：{_value(value)}" for key, value in data.items()] if isinstance(data, dict) else []
        item["url"] = str(payload.get("url") or "")
    else:
        item["label"] = texts.SIM_KIND_OTHER
        item["lines"] = [f"{key}：{_value(value)}" for key, value in payload.items() if key != REFUSED]
    refused = payload.get(REFUSED)
    if isinstance(refused, dict):
        item["label"] = texts.SIM_REFUSED.format(label=item["label"])
        item["refused"] = texts.SIM_REFUSED_DETAIL.format(errcode=refused.get("errcode"), errmsg=refused.get("errmsg"))
    return item


def _value(value: Any) -> str:
    """Template data may be stored as a plain string or as WeChat's {"value": …}."""
    if isinstance(value, dict) and "value" in value:
        return str(value["value"])
    return str(value)


async def messages_for(database: Database, recipient: str, after: int) -> list[dict[str, Any]]:
    async with database.session() as session:
        rows = await session.scalars(
            select(SandboxMessage)
            .where(SandboxMessage.recipient == recipient, SandboxMessage.id > after)
            .order_by(SandboxMessage.id)
            .limit(PAGE_SIZE)
        )
        return [render(row) for row in rows]
