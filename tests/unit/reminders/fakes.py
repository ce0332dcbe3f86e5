"""A channel that records calls in memory and can be told to fail (for unit tests of the dispatcher)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.outbound.channels.base import ChannelError, SendResult


class SimulatedCrash(BaseException):
    """The process dies: not an ``Exception``, so nothing in the dispatcher catches it."""


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
    crash_after_send: bool = False  # the next send reaches WeChat, then the process "dies"
    calls: int = 0

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
        self.calls += 1
        await asyncio.sleep(0)  # let concurrent dispatchers interleave here, as a network call would
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(Sent(recipient, template_id, dict(data), url, client_msg_id))
        if self.crash_after_send:
            self.crash_after_send = False
            raise SimulatedCrash("the API accepted the message, then the process died")
        return SendResult(msg_id=str(len(self.sent)))
