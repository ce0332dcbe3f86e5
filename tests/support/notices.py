"""What an outbox row becomes on its channel: a stored notice mapped the way the worker maps it when it sends."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from bot.outbound.mapping import render
from bot.outbound.notice import Notice
from bot.outbound.worker import OutboxWorker
from bot.services import Services
from storage.models import OutboxMessage
from tests.support.fake_wechat_api import FakeWechatApi


def as_sent(config: Config, row: OutboxMessage) -> tuple[str, dict[str, Any]]:
    """(kind, payload) in the channel's form: a template message (mp) or a textcard (wecom)."""
    if row.kind != "notice":
        return row.kind, dict(row.payload)
    return render(config, row.channel, Notice.from_payload(row.payload))


async def drain(services: Services, fake: FakeWechatApi | None = None) -> None:
    """Run the outbox worker until nothing is due; then let the fake push back the delivery results it owes."""
    while await OutboxWorker(services).run_once():
        pass
    if fake is not None:
        await fake.drain_pushes()
