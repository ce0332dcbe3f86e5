"""Compose the text a WeChat user sees: body, numbered suggestions, the citation last; ≤ 600 characters."""

from __future__ import annotations

from collections.abc import Sequence

from bot import texts

MAX_REPLY_CHARS = 600


def numbered(suggestions: Sequence[tuple[str, str]], header: str) -> str:
    lines = [header] + [texts.KB_SUGGEST_ITEM.format(n=i, question=q) for i, (_id, q) in enumerate(suggestions, 1)]
    return "\n".join(lines)


def citation_line(cites: Sequence[str]) -> str:
    return texts.KB_SOURCE_PREFIX + texts.KB_SOURCE_SEPARATOR.join(cites) if cites else ""


def compose(
    body: str,
    suggestions: Sequence[tuple[str, str]] = (),
    cites: Sequence[str] = (),
    header: str = texts.KB_SUGGEST_HEADER,
    footer: str = "",
    limit: int = MAX_REPLY_CHARS,
) -> tuple[str, list[tuple[str, str]]]:
    """The reply text and the suggestions that fit (dropped from the end first, then the body is cut)."""
    body = body.strip()
    kept = list(suggestions)
    cite = citation_line(cites)
    while len(cite) > limit // 3 and len(cites) > 1:  # never let citations crowd out the answer
        cites = cites[:-1]
        cite = citation_line(cites)

    def render(b: str, sugg: list[tuple[str, str]]) -> str:
        parts = [b]
        if sugg:
            parts.append(numbered(sugg, header))
        if footer:
            parts.append(footer)
        if cite:
            parts.append(cite)
        return "\n\n".join(p for p in parts if p)

    text = render(body, kept)
    while len(text) > limit and kept:
        kept.pop()
        text = render(body, kept)
    if len(text) > limit:
        room = limit - (len(text) - len(body)) - 1
        body = body[: max(room, 0)].rstrip() + "…"
        text = render(body, kept)
    return text[:limit], kept
