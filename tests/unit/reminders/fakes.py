"""A channel that records calls in memory and can be told to fail (for unit tests of the dispatcher)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.channels.base import ChannelError, Media, SendResult


@dataclass
class Sent:
    recipient: str
    template_id: str
    data: dict[str, str]
    url: str | None
    client_msg_id: str | None


@dataclass
class RecordingChannel:
    name: str
    sent: list[Sent] = field(default_factory=list)
    failures: list[ChannelError] = field(default_factory=list)  # raised by the next calls, in order
    crash_after_send: bool = False  # the send reaches WeChat, then the process "dies"

    async def send_text(self, recipient: str, content: str) -> SendResult:
        raise ChannelError("not used by reminders", permanent=True)

    async def send_template(
        self,
        recipient: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(Sent(recipient, template_id, dict(data), url, client_msg_id))
        if self.crash_after_send:
            raise SystemExit("simulated crash after the API accepted the message")
        return SendResult(msg_id=str(len(self.sent)))

    async def download_media(self, media_id: str) -> Media:
        raise ChannelError("not used by reminders", permanent=True)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        raise ChannelError("not used by reminders", permanent=True)
