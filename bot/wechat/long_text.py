"""A reply longer than WeChat's 2,048 bytes: the passive reply plus customer-service continuations.

The passive reply carries the first piece; each further piece is a customer-service text, and a user's
message allows 5 of those (``bot.wechat.windows``), a menu tap 3. When the pieces do not fit the quota,
the last continuation ends with how to get the rest instead of being refused by WeChat.
"""

from __future__ import annotations

from bot import texts
from bot.wechat.limits import TEXT_MAX_BYTES, split_text, utf8_len


def plan_reply(text: str, quota: int) -> tuple[str, list[str]]:
    """(passive reply, continuations): every piece ≤ 2,048 bytes, at most ``quota`` continuations."""
    pieces = split_text(text)
    first, rest = pieces[0], pieces[1:]
    if len(rest) <= quota:
        return first, rest
    kept = rest[:quota] if quota > 0 else []
    hint = texts.REPLY_REST_HINT
    if not kept:
        budget = TEXT_MAX_BYTES - utf8_len(hint)
        return split_text(first, budget)[0] + hint, []
    budget = TEXT_MAX_BYTES - utf8_len(hint)
    kept[-1] = split_text(kept[-1], budget)[0] + hint
    return first, kept
