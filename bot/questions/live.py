"""The live knowledge base of this process, following the published knowledge version without a restart.

At start-up the knowledge base is the data files plus every published change (``load_live_knowledge``).
Then ``KnowledgeWatcher`` asks the database for the version number every ``[knowledge] poll_seconds``; when
another process (or this one) has published a newer one, it rebuilds the knowledge base in a thread while
the old one keeps answering, and swaps it in with one assignment. The built knowledge base carries its
``version``, so the answer cache (``knowledge.answer_cache``) drops what the old one answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from bot.questions.edits import current_version, published_edits
from bot.services import Services
from knowledge.answerer import KnowledgeBase, build_knowledge_base
from knowledge.edits import Edit, apply_edits
from knowledge.loader import load_data
from knowledge.snapshot import load_snapshot_or_build
from storage.db import Database

log = logging.getLogger(__name__)

WATCHER = "knowledge_watcher"  # the key of the running watcher in Services.extras


def build_knowledge(edits: Sequence[Edit], version: int) -> KnowledgeBase:
    """The data files with ``edits`` applied, built (seconds: call it in a thread), marked with ``version``."""
    kb = build_knowledge_base(apply_edits(load_data(), edits)) if edits else load_snapshot_or_build()
    kb.version = version  # type: ignore[attr-defined]  # read by the answer cache and the watcher
    return kb


def version_of(kb: object) -> int:
    return int(getattr(kb, "version", 0) or 0)


async def live_edits(database: Database) -> tuple[int, list[Edit]]:
    async with database.session() as session:
        return await published_edits(session)


async def load_live_knowledge(database: Database) -> KnowledgeBase:
    """The knowledge base of the published version (the data files alone before anything was published)."""
    version, edits = await live_edits(database)
    return await asyncio.to_thread(build_knowledge, edits, version)


class KnowledgeWatcher:
    """Follows the published knowledge version in one process; ``check()`` is one look (tests call it)."""

    def __init__(self, services: Services, interval: float) -> None:
        self.services = services
        self.interval = interval
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._failed = 0  # a version whose build failed is not tried again until a newer one is published
        self.swaps = 0

    @property
    def version(self) -> int:
        return version_of(self.services.knowledge)

    def adopt(self, kb: KnowledgeBase, version: int) -> bool:
        """Swap in a knowledge base already built for ``version`` (the one a publish evaluated)."""
        if version <= self.version:
            return False
        kb.version = version  # type: ignore[attr-defined]
        self.services.knowledge = kb
        self.swaps += 1
        log.info("knowledge version %d is live", version)
        return True

    async def check(self) -> bool:
        """Rebuild and swap when the database has a newer version; True when it swapped."""
        async with self._lock:
            async with self.services.database.session() as session:
                latest = await current_version(session)
            if latest <= self.version or latest == self._failed:
                return False
            version, edits = await live_edits(self.services.database)
            try:
                kb = await asyncio.to_thread(build_knowledge, edits, version)
            except Exception:
                self._failed = version
                raise
            return self.adopt(kb, version)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database or a build failed: keep the knowledge base in use, look again
                log.exception("could not follow the knowledge version")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="knowledge-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
