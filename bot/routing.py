"""Routers and filters: each handlers/ module exports a ``Router``; the dispatcher tries them in order.

A route matches when its state condition and every filter hold::

    router = Router("report")

    @router.on(text_is("举报"), state=NO_STATE)
    async def start(ctx: Context) -> Reply | str | None: ...

    @router.on(msg_type("location"), state="report:location")
    async def got_location(ctx: Context) -> Reply | str | None: ...

``state`` is ``ANY_STATE`` (default: whatever the conversation), ``NO_STATE`` (outside any dialog),
an exact state name, a prefix ending in ``*`` (``"report:*"``) or a tuple of those.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from bot.context import Context
from bot.wechat.replies import Reply

HandlerResult = Reply | str | None
Handler = Callable[[Context], Awaitable[HandlerResult]]
Filter = Callable[[Context], bool]


class _AnyState:
    def __repr__(self) -> str:
        return "ANY_STATE"


ANY_STATE = _AnyState()
NO_STATE = None
StateSpec = _AnyState | str | tuple[str, ...] | None


def _state_matches(spec: StateSpec, state: str | None) -> bool:
    if isinstance(spec, _AnyState):
        return True
    if spec is None:
        return state is None
    specs = (spec,) if isinstance(spec, str) else spec
    for item in specs:
        if item.endswith("*"):
            if state is not None and state.startswith(item[:-1]):
                return True
        elif state == item:
            return True
    return False


@dataclass(frozen=True)
class Route:
    handler: Handler
    filters: tuple[Filter, ...]
    state: StateSpec

    def matches(self, ctx: Context) -> bool:
        return _state_matches(self.state, ctx.conversation.state) and all(f(ctx) for f in self.filters)


@dataclass
class Router:
    name: str
    routes: list[Route] = field(default_factory=list)

    def on(self, *filters: Filter, state: StateSpec = ANY_STATE) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(handler=handler, filters=filters, state=state))
            return handler

        return register


MAX_STATES_KEPT = 512


class Dispatcher:
    """Tries the routers in priority order; the first matching route handles the message."""

    def __init__(self, routers: Sequence[Router], fallback: Handler) -> None:
        names = [r.name for r in routers]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"router names must be unique: {sorted(duplicates)}")
        self.routers = list(routers)
        self.fallback = fallback
        self._routes = [route for router in self.routers for route in router.routes]
        self._by_state: dict[str | None, list[int]] = {}

    def _routes_for(self, state: str | None) -> list[int]:
        """Positions of the routes whose state condition holds for ``state`` (states are few: kept per state)."""
        positions = self._by_state.get(state)
        if positions is None:
            positions = [i for i, route in enumerate(self._routes) if _state_matches(route.state, state)]
            if len(self._by_state) < MAX_STATES_KEPT:
                self._by_state[state] = positions
        return positions

    def resolve(self, ctx: Context) -> Handler:
        state = ctx.conversation.state
        for i in self._routes_for(state):
            route = self._routes[i]
            if all(f(ctx) for f in route.filters):
                return route.handler
            if ctx.conversation.state != state:  # a filter ended the dialog: the rest see the new state
                for later in self._routes[i + 1 :]:
                    if later.matches(ctx):
                        return later.handler
                return self.fallback
        return self.fallback

    async def dispatch(self, ctx: Context) -> HandlerResult:
        return await self.resolve(ctx)(ctx)


def session_free(handler: Handler) -> Handler:
    """Mark a handler that never touches ``ctx.session`` (it reads the message, the conversation and the
    services, and writes only the conversation): its pushes may take the driver-direct reply path."""
    handler.session_free = True  # type: ignore[attr-defined]
    return handler


def is_session_free(handler: Handler) -> bool:
    return getattr(handler, "session_free", False) is True


# ---- filters -------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _normalize(text: str) -> str:
    """Trailing punctuation and case do not matter; a word that is only punctuation ("？") stays itself,
    so it can never equal the empty text of an image or a location."""
    stripped = text.strip()
    return stripped.strip("。.!！?？").strip().lower() or stripped


def msg_type(*types: str) -> Filter:
    wanted = frozenset(t.lower() for t in types)
    return lambda ctx: ctx.incoming.msg_type in wanted


def has_text() -> Filter:
    """A text message, or a voice message WeChat recognised as speech."""
    return lambda ctx: bool(ctx.incoming.text)


def text_is(*words: str) -> Filter:
    wanted = frozenset(_normalize(w) for w in words)
    return lambda ctx: _normalize(ctx.incoming.text) in wanted


def text_startswith(*prefixes: str) -> Filter:
    wanted = tuple(p.lower() for p in prefixes)
    return lambda ctx: ctx.incoming.text.lower().startswith(wanted)


def text_matches(pattern: str | re.Pattern[str]) -> Filter:
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    return lambda ctx: regex.fullmatch(ctx.incoming.text) is not None


def event(*names: str) -> Filter:
    wanted = frozenset(n.lower() for n in names)
    return lambda ctx: ctx.incoming.is_event and ctx.incoming.event.lower() in wanted


def menu_key(*keys: str) -> Filter:
    wanted = frozenset(keys)
    return lambda ctx: (
        ctx.incoming.is_event and ctx.incoming.event.upper() == "CLICK" and ctx.incoming.event_key in wanted
    )


def any_of(*filters: Filter) -> Filter:
    return lambda ctx: any(f(ctx) for f in filters)


def not_(flt: Filter) -> Filter:
    return lambda ctx: not flt(ctx)


def routes_of(routers: Iterable[Router]) -> list[Route]:
    return [route for router in routers for route in router.routes]
