"""WeChat's SHA-1 signature over sorted strings, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac


def compute_signature(*parts: str) -> str:
    """sha1 of the parts sorted and concatenated (token, timestamp, nonce[, encrypt])."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(given: str, *parts: str) -> bool:
    expected = compute_signature(*parts)
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def timestamp_is_fresh(timestamp: str, now: float, max_skew_seconds: int) -> bool:
    """A replayed request carries an old timestamp; WeChat's own retries come within seconds."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return False
    return abs(now - value) <= max_skew_seconds
