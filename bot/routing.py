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
from bot.wechat.messages import Incoming
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


def shape_of(incoming: Incoming) -> str:
    """What kind of push this is, as the filters' ``shapes`` name it: the message type, or
    ``event:<name>`` (lower case) for an event."""
    return f"event:{incoming.event.lower()}" if incoming.msg_type == "event" else incoming.msg_type


def _could_match(route: Route, shape: str) -> bool:
    """False when a filter of ``route`` declares the push shapes it can match and ``shape`` is not one."""
    for flt in route.filters:
        shapes = getattr(flt, "shapes", None)
        if shapes is not None and shape not in shapes and shape.split(":", 1)[0] not in shapes:
            return False
    return True


class Dispatcher:
    """Tries the routers in priority order; the first matching route handles the message.

    Which routes can match depends on the conversation state and the push's shape (``shape_of``) alone;
    the positions of those routes are worked out once per (state, shape) and kept, so a push runs only
    the filters of routes that could take it."""

    def __init__(self, routers: Sequence[Router], fallback: Handler) -> None:
        names = [r.name for r in routers]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"router names must be unique: {sorted(duplicates)}")
        self.routers = list(routers)
        self.fallback = fallback
        self._routes = [route for router in self.routers for route in router.routes]
        self._tests = [_all_of(route.filters) for route in self._routes]
        self._candidates: dict[tuple[str | None, str], list[int]] = {}

    def _routes_for(self, state: str | None, shape: str) -> list[int]:
        """Positions of the routes that could match a push of ``shape`` in ``state``, in order."""
        key = (state, shape)
        positions = self._candidates.get(key)
        if positions is None:
            positions = [
                i for i, route in enumerate(self._routes)
                if _state_matches(route.state, state) and _could_match(route, shape)
            ]
            if len(self._candidates) < MAX_STATES_KEPT:  # shapes come from pushes: keep a bounded few
                self._candidates[key] = positions
        return positions

    def resolve(self, ctx: Context) -> Handler:
        shape = shape_of(ctx.incoming)
        after = -1  # routes up to here were tried already
        while True:
            state = ctx.conversation.state
            for i in self._routes_for(state, shape):
                if i <= after:
                    continue
                if self._tests[i](ctx):
                    return self._routes[i].handler
                if ctx.conversation.state != state:  # a filter ended the dialog: the rest see the new state
                    after = i
                    break
            else:
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
#
# A filter may carry ``shapes``: the push shapes (``shape_of``: a message type, ``event`` for any event, or
# ``event:<name>``) it can ever hold for. The dispatcher then skips it, and its route, for other pushes.

_TEXT_SHAPES = frozenset({"text", "voice"})  # ``Incoming.text`` is empty for everything else


def _shaped(flt: Filter, shapes: frozenset[str] | None) -> Filter:
    flt.shapes = shapes  # type: ignore[attr-defined]
    return flt


def _all_of(filters: tuple[Filter, ...]) -> Filter:
    """One test for a route's filters (most routes have one or two: no generator for those)."""
    if not filters:
        return lambda ctx: True
    if len(filters) == 1:
        return filters[0]
    if len(filters) == 2:
        first, second = filters
        return lambda ctx: first(ctx) and second(ctx)
    return lambda ctx: all(f(ctx) for f in filters)


@lru_cache(maxsize=4096)
def _normalize(text: str) -> str:
    """Trailing punctuation and case do not matter; a word that is only punctuation ("？") stays itself,
    so it can never equal the empty text of an image or a location."""
    stripped = text.strip()
    return stripped.strip("。.!！?？").strip().lower() or stripped


def msg_type(*types: str) -> Filter:
    wanted = frozenset(t.lower() for t in types)
    return _shaped(lambda ctx: ctx.incoming.msg_type in wanted, wanted)


def has_text() -> Filter:
    """A text message, or a voice message WeChat recognised as speech."""
    return _shaped(lambda ctx: bool(ctx.incoming.text), _TEXT_SHAPES)


def text_is(*words: str) -> Filter:
    wanted = frozenset(_normalize(w) for w in words)
    return _shaped(lambda ctx: _normalize(ctx.incoming.text) in wanted, _TEXT_SHAPES)


def text_startswith(*prefixes: str) -> Filter:
    wanted = tuple(p.lower() for p in prefixes)
    return _shaped(lambda ctx: ctx.incoming.text.lower().startswith(wanted), _TEXT_SHAPES)


def text_matches(pattern: str | re.Pattern[str]) -> Filter:
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    return _shaped(lambda ctx: regex.fullmatch(ctx.incoming.text) is not None, _TEXT_SHAPES)


def event(*names: str) -> Filter:
    wanted = frozenset(n.lower() for n in names)
    return _shaped(lambda ctx: ctx.incoming.is_event and ctx.incoming.event.lower() in wanted,
                   frozenset(f"event:{n}" for n in wanted))


def menu_key(*keys: str) -> Filter:
    wanted = frozenset(keys)

    def clicked(ctx: Context) -> bool:
        incoming = ctx.incoming
        return incoming.is_event and incoming.event.upper() == "CLICK" and incoming.event_key in wanted

    return _shaped(clicked, frozenset({"event:click"}))


def any_of(*filters: Filter) -> Filter:
    shapes = [getattr(f, "shapes", None) for f in filters]
    union = None if any(s is None for s in shapes) else frozenset().union(*shapes)

    def any_holds(ctx: Context) -> bool:
        for flt in filters:  # noqa: SIM110 - a plain loop: no generator on every push
            if flt(ctx):
                return True
        return False

    return _shaped(any_holds, union)


def not_(flt: Filter) -> Filter:
    return lambda ctx: not flt(ctx)


def routes_of(routers: Iterable[Router]) -> list[Route]:
    return [route for router in routers for route in router.routes]
