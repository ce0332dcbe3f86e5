"""When WeChat accepts a customer-service message (Customer_Service_Messages rules).

* A user's message allows 5 sends within 48 hours.
* A CLICK menu tap, a follow or a QR scan allows 3 sends within 1 minute; it opens no 48-hour window.
* A VIEW tap and every other event open nothing.

Outside any window WeChat answers 45015; over a window's quota, 45047.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MESSAGE_WINDOW = timedelta(hours=48)
MESSAGE_QUOTA = 5
EVENT_WINDOW = timedelta(minutes=1)
EVENT_QUOTA = 3
WINDOW_EVENTS = frozenset({"CLICK", "SUBSCRIBE", "SCAN"})
OUTSIDE_WINDOW = 45015
OVER_QUOTA = 45047


@dataclass(frozen=True)
class Windows:
    """What the platform knows about one user: when the windows opened and how many sends each used."""

    message_at: datetime | None = None
    message_sends: int = 0
    event_at: datetime | None = None
    event_sends: int = 0

    def refusal(self, now: datetime) -> int | None:
        """The error code WeChat answers a customer-service send with now, or None when it is accepted."""
        opened = [
            (sends, quota)
            for at, sends, length, quota in (
                (self.message_at, self.message_sends, MESSAGE_WINDOW, MESSAGE_QUOTA),
                (self.event_at, self.event_sends, EVENT_WINDOW, EVENT_QUOTA),
            )
            if at is not None and timedelta(0) <= now - at < length
        ]
        if not opened:
            return OUTSIDE_WINDOW
        if all(sends >= quota for sends, quota in opened):
            return OVER_QUOTA
        return None


def opens_event_window(event: str) -> bool:
    return event.upper() in WINDOW_EVENTS
