"""Console sessions in a signed cookie (itsdangerous), with a per-session CSRF token.

The cookie holds no secrets of its own: the staff id, the account's session version (a password reset
ends older sessions), the issue time (taken from the service clock, so tests can move it), the CSRF
token, and at most a few flash messages for the next page. Anyone without the key cannot forge it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE_NAME = "ycbot_console"
CSRF_FIELD = "csrf_token"
MAX_FLASHES = 5


@dataclass
class ConsoleSession:
    csrf: str
    issued_at: float
    staff_id: int | None = None
    version: int | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    changed: bool = False

    @classmethod
    def fresh(cls, now: datetime) -> ConsoleSession:
        return cls(csrf=secrets.token_urlsafe(32), issued_at=now.timestamp(), changed=True)

    def flash(self, message: str, kind: str = "info") -> None:
        self.flashes = [*self.flashes, (kind, message)][-MAX_FLASHES:]
        self.changed = True

    def pop_flashes(self) -> list[tuple[str, str]]:
        flashes, self.flashes = self.flashes, []
        if flashes:
            self.changed = True
        return flashes

    def csrf_matches(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())

    def to_payload(self) -> dict[str, Any]:
        return {"c": self.csrf, "t": self.issued_at, "u": self.staff_id, "v": self.version, "f": self.flashes}


class SessionCodec:
    """Signs and reads the cookie; an expired, tampered or malformed cookie reads as None."""

    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="ycbot-console-session")
        self.max_age_seconds = max_age_seconds

    def dumps(self, session: ConsoleSession) -> str:
        return self._serializer.dumps(session.to_payload())

    def loads(self, raw: str | None, now: datetime) -> ConsoleSession | None:
        if not raw or len(raw) > 4096:
            return None
        try:
            data = self._serializer.loads(raw)
        except BadSignature:
            return None
        try:
            issued = float(data["t"])
            csrf = str(data["c"])
            staff_id = data.get("u")
            version = data.get("v")
            flashes = [(str(kind), str(text)) for kind, text in data.get("f") or []][-MAX_FLASHES:]
        except (KeyError, TypeError, ValueError):
            return None
        age = now.timestamp() - issued
        if age > self.max_age_seconds or age < -300:
            return None
        if staff_id is not None and not isinstance(staff_id, int):
            return None
        return ConsoleSession(
            csrf=csrf,
            issued_at=issued,
            staff_id=staff_id,
            version=version if isinstance(version, int) else None,
            flashes=flashes,
        )
