"""The HTTP side shared by the 公众号 and WeCom clients: one aiohttp session, timeouts, and the retry policy.

Retry policy of every API call (``ApiClient.call``):

* errcode -1 (system busy): up to ``RetryPolicy.busy_tries`` tries in all, with exponential backoff;
* errcode 40001/40014/42001 (token invalid or expired): the token is invalidated and refreshed ONCE, then
  the call is tried once more; a second token error is raised, never retried again;
* network errors, timeouts, HTTP errors and unreadable bodies: ``ChannelError`` (retryable) at once — the
  outbox worker decides when to try again, so a send that may have reached WeChat is not repeated in place;
* any other errcode: ``ChannelError`` whose ``permanent`` flag comes from ``PERMANENT_ERRCODES``.

The access token travels in the query string; it never appears in an error message or a log line.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.outbound.channels.base import TOKEN_ERRCODES, ChannelError

if TYPE_CHECKING:
    from bot.outbound.channels.tokens import TokenRefresher

Sleep = Callable[[float], Awaitable[None]]

MAX_JSON_BYTES = 1024 * 1024
MAX_MEDIA_BYTES = 32 * 1024 * 1024
FILENAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a busy (-1) answer is retried, and how long to wait in between (``sleep`` is injectable)."""

    busy_tries: int = 3
    base_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 5.0
    sleep: Sleep = asyncio.sleep

    def delay(self, retry_number: int) -> float:
        """The pause before retry ``retry_number`` (1 for the first retry)."""
        return min(self.base_delay * self.factor ** (retry_number - 1), self.max_delay)


@dataclass(frozen=True)
class RawResponse:
    """A non-JSON answer (a media download)."""

    content: bytes
    content_type: str
    filename: str = ""


class ApiClient:
    """Calls one WeChat-style API at ``base_url`` through a single ``aiohttp.ClientSession``.

    The session is created on first use (it needs a running loop) and closed by ``close()``.
    """

    def __init__(self, base_url: str, timeout_seconds: float, *, label: str, retry: RetryPolicy) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"{label}: api_base_url must start with http:// or https://, got {base_url!r}")
        if timeout_seconds <= 0:
            raise ValueError(f"{label}: the HTTP timeout must be positive, got {timeout_seconds}")
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.label = label
        self.retry = retry
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, raise_for_status=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        tokens: TokenRefresher | None = None,
        raw: bool = False,
    ) -> dict[str, Any] | RawResponse:
        """One API call with the retry policy above; ``tokens`` adds ``access_token`` to the query.

        With ``raw=True`` a non-JSON answer is returned as ``RawResponse``; a JSON answer is checked for
        ``errcode`` exactly like any other call.
        """
        busy_retries = 0
        refreshed = False
        token = await tokens.get() if tokens is not None else None
        while True:
            query = dict(params or {})
            if token is not None:
                query["access_token"] = token
            result = await self._once(method, path, query, body, raw)
            if isinstance(result, RawResponse):
                return result
            errcode = _errcode(result)
            if errcode == 0:
                return result
            if errcode == -1 and busy_retries + 1 < self.retry.busy_tries:
                busy_retries += 1
                await self.retry.sleep(self.retry.delay(busy_retries))
                continue
            if errcode in TOKEN_ERRCODES and tokens is not None and token is not None and not refreshed:
                refreshed = True
                token = await tokens.invalidate(token)
                continue
            message = str(result.get("errmsg") or "no errmsg")[:200]
            raise ChannelError(f"{self.label} {path}: errcode {errcode} ({message})", errcode=errcode)

    async def _once(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None, raw: bool
    ) -> dict[str, Any] | RawResponse:
        url = self.base_url + path
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else {}
        try:
            async with self._http().request(method, url, params=query, data=data, headers=headers) as resp:
                if resp.status >= 400:
                    raise ChannelError(f"{self.label} {path}: HTTP {resp.status}")
                content_type = resp.headers.get("Content-Type", "")
                limit = MAX_MEDIA_BYTES if raw else MAX_JSON_BYTES
                content = await _read_limited(resp, limit, f"{self.label} {path}")
                disposition = resp.headers.get("Content-Disposition", "")
        except ChannelError:
            raise
        except TimeoutError:
            raise ChannelError(f"{self.label} {path}: no answer within {self.timeout.total} s") from None
        except aiohttp.ClientError as exc:
            raise ChannelError(f"{self.label} {path}: network error ({type(exc).__name__})") from None
        if raw and not _looks_like_json(content_type, content):
            match = FILENAME.search(disposition)
            return RawResponse(content, content_type.split(";")[0].strip(), match.group(1) if match else "")
        try:
            parsed = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ChannelError(f"{self.label} {path}: the answer is not JSON") from None
        if not isinstance(parsed, dict):
            raise ChannelError(f"{self.label} {path}: the answer is not a JSON object")
        return parsed


def _errcode(result: dict[str, Any]) -> int:
    value = result.get("errcode", 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return -2  # unreadable errcode: treat as a failure that is not a known one


def _looks_like_json(content_type: str, content: bytes) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    if kind in {"application/json", "text/json", "text/plain"}:
        return True
    return content[:1] == b"{" and b'"errcode"' in content[:200]


async def _read_limited(resp: aiohttp.ClientResponse, limit: int, where: str) -> bytes:
    if resp.content_length is not None and resp.content_length > limit:
        raise ChannelError(
            f"{where}: answer of {resp.content_length} bytes is over the {limit}-byte limit", permanent=True
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ChannelError(f"{where}: answer over the {limit}-byte limit", permanent=True)
        chunks.append(chunk)
    return b"".join(chunks)
