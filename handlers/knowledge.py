"""Free-text questions outside any dialog, answered from the knowledge base (``ctx.services.knowledge``).

Two routers, because a pick must be seen before anything else but a question only after everything else:

* ``pick_router`` goes FIRST. After an answer that offered numbered suggestions the conversation is in
  state ``kb:offered`` (data ``kb_offered`` = the offered ids). A bare "1"/"2"/"3" then picks one. Any
  other message releases that state at once (it is not a dialog), so every other area routes it exactly
  as if the user were outside any dialog: "举报", "帮助", "绑定 …" keep working right after a question.
* ``router`` goes LAST, just before ``common.fallback_router``: any remaining text (or recognised voice)
  outside a dialog is a question; the 政策问答 menu items open their topic.

The knowledge base is loaded once at start-up and ``answer`` is synchronous and takes about a
millisecond, so it runs directly on the event loop. A question is logged by the pipeline in the push's
own transaction (``ctx.asked``), so ``question`` needs no session and takes the driver-direct path.
Questions go through ``ANSWERS``, a bounded cache keyed by the normalised question and dropped whenever
the knowledge base changes (an answer depends only on the question and the knowledge, never on the
user's state).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from functools import lru_cache
from typing import Any

from bot import menu, metrics, texts
from bot.context import Context, QuestionAsked
from bot.questions.log import rate_last, record_pick
from bot.routing import NO_STATE, HandlerResult, Router, has_text, menu_key, session_free, text_is
from knowledge.answer_cache import AnswerCache
from knowledge.reply import MAX_REPLY_CHARS

pick_router = Router("knowledge-pick")
router = Router("knowledge")

OFFERED_STATE = "kb:offered"
OFFERED_KEY = "kb_offered"
OFFER_TTL = timedelta(minutes=30)
MENU_TOPICS = {
    menu.KEY_QA_REGISTRATION: "reg-types",
    menu.KEY_QA_LIST: "kl-categories",
    menu.KEY_QA_PLAN: "plan-what",
}
ANSWERS = AnswerCache()
_PICK = re.compile(r"^\s*(?:第|选|选择)?\s*([1-9])\s*(?:个|条|项|号)?\s*[.。、!！]?\s*$")


@lru_cache(maxsize=1024)
def picked_number(text: str) -> int | None:
    m = _PICK.match(unicodedata.normalize("NFKC", text or ""))
    return int(m.group(1)) if m else None


def _offered(ctx: Context) -> list[str]:
    ids = ctx.conversation.data.get(OFFERED_KEY) or []
    return [str(i) for i in ids] if isinstance(ids, list) else []


def _is_pick(ctx: Context) -> bool:
    n = picked_number(ctx.incoming.text)
    return n is not None and n <= len(_offered(ctx))


def _release_unless_pick(ctx: Context) -> bool:
    """Filter with one deliberate side effect: anything but a valid pick ends the offer (never matches)."""
    if ctx.conversation.state == OFFERED_STATE and not _is_pick(ctx):
        ctx.conversation.clear()
    return False


def _remember(ctx: Context, suggestions: list[tuple[str, str]]) -> None:
    if suggestions:
        ctx.conversation.clear()
        ctx.conversation.set(OFFERED_STATE, ttl=OFFER_TTL, **{OFFERED_KEY: [sid for sid, _q in suggestions]})
    elif ctx.conversation.state == OFFERED_STATE:
        ctx.conversation.clear()


RATED_KINDS = frozenset({"answer", "partial", "chemical", "registration"})


def with_rating_prompt(answer: Any) -> str:
    """An answer's text with the 有用 / 没用 prompt, when the answer is one to rate and the prompt fits."""
    text = str(answer.text)
    prompted = f"{text}\n{texts.KB_RATE_PROMPT}"
    if answer.kind in RATED_KINDS and len(prompted) <= MAX_REPLY_CHARS:
        return prompted
    return text


async def _rate(ctx: Context, useful: bool) -> HandlerResult:
    if await rate_last(ctx.session, ctx.openid, useful, now=ctx.now):
        return texts.KB_RATED_USEFUL if useful else texts.KB_RATED_USELESS
    return texts.KB_RATE_NOTHING


@pick_router.on(text_is(*texts.KB_RATE_WORDS), state=NO_STATE)
@pick_router.on(text_is(*texts.KB_RATE_WORDS), state=OFFERED_STATE)
async def rate(ctx: Context) -> HandlerResult:
    """有用 / 没用 right after an answer: recorded with that question in the log."""
    return await _rate(ctx, ctx.incoming.text.strip().strip("。.!！?？").strip() in texts.KB_RATE_USEFUL)


@pick_router.on(menu_key(menu.KEY_RATE_USEFUL, menu.KEY_RATE_USELESS))
async def rate_by_menu(ctx: Context) -> HandlerResult:
    """The same through the 政策问答 menu, in any state (a dialog in progress is left as it is)."""
    return await _rate(ctx, ctx.incoming.event_key == menu.KEY_RATE_USEFUL)


@pick_router.on(_is_pick, state=OFFERED_STATE)
async def pick(ctx: Context) -> HandlerResult:  # writes the question log: not session-free
    kb = ctx.services.knowledge
    if kb is None:
        return texts.KB_UNAVAILABLE
    n = picked_number(ctx.incoming.text) or 1
    await record_pick(ctx.session, ctx.openid, now=ctx.now)
    answer = kb.answer_entry(_offered(ctx)[n - 1])
    _remember(ctx, answer.suggestions)
    return answer.text


@pick_router.on(_release_unless_pick, state=OFFERED_STATE)
async def _never(ctx: Context) -> HandlerResult:  # pragma: no cover - the filter never matches
    return None


@router.on(menu_key(*MENU_TOPICS))
@session_free
async def menu_topic(ctx: Context) -> HandlerResult:
    kb = ctx.services.knowledge
    if kb is None:
        return texts.KB_UNAVAILABLE
    answer = kb.answer_entry(MENU_TOPICS[ctx.incoming.event_key])
    if ctx.conversation.state is None or ctx.conversation.state == OFFERED_STATE:
        _remember(ctx, answer.suggestions)
    return answer.text


@router.on(has_text(), state=NO_STATE)
@session_free
async def question(ctx: Context) -> HandlerResult:
    kb = ctx.services.knowledge
    if kb is None:
        return texts.KB_UNAVAILABLE
    if ctx.conversation.expired_state == OFFERED_STATE and picked_number(ctx.incoming.text) is not None:
        return texts.KB_PICK_EXPIRED
    answer = ANSWERS.answer(kb, ctx.incoming.text)
    ctx.asked.append(QuestionAsked(ctx.incoming.text, answer))  # the pipeline logs it with the push
    metrics.knowledge_answered(answer.kind)
    _remember(ctx, answer.suggestions)
    return with_rating_prompt(answer)
