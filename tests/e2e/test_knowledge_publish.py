"""The unanswered-question loop over real HTTP: two `python -m bot serve` processes on one PostgreSQL database.

A question one process refuses appears on 问答改进; an administrator attaches it to an entry as a new way of
asking and publishes it; the sealed batches allow it, and the same question then gets that entry's answer
from both processes, without a restart (the publishing process swaps at once, the other at its next look).
A change that would lower a sealed figure is refused with the figures shown, and nothing changes.

The gate runs on the project's sealed batches (tests/eval) plus one sealed batch of this test's own, copied
into the processes' [knowledge] eval_dir: the harmful change is known to lower that one, so the test never
has to search the project's sealed questions for a change that hurts them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.config import load_config
from bot.wechat import push
from bot.wechat.messages import parse_xml
from bot.wechat.push import PushSigner
from knowledge.loader import load_data
from storage.db import Database
from storage.staff import add_staff
from tests.conftest import PROJECT_ROOT
from tests.e2e.test_two_processes import ACCOUNT, ServerProcess, send, serve_processes, wait_healthy
from tests.unit.console.helpers import PASSWORD, ConsoleClient
from tests.unit.questions.test_publish import SEALED

pytestmark = pytest.mark.postgres

REFUSED = "新污染物会不会让人得癌症"
OUT_OF_SCOPE = "明天运城会下雨吗"
SWAP_DEADLINE_S = 180.0


@pytest.fixture
def servers(tmp_path: Path, pg_url: str) -> Iterator[list[ServerProcess]]:
    eval_dir = tmp_path / "eval"
    shutil.copytree(PROJECT_ROOT / "tests" / "eval", eval_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (eval_dir / "blind_v99.tsv").write_text(SEALED, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YCBOT_")}
    extra = f'[knowledge]\npoll_seconds = 1\neval_dir = "{eval_dir}"\n'
    with serve_processes(tmp_path, pg_url, env, extra) as started:
        yield started


async def ask(http: aiohttp.ClientSession, signer: PushSigner, server: ServerProcess, openid: str, text: str) -> str:
    """The reply to a signed, encrypted text push."""
    xml = push.text_xml(ACCOUNT, openid, text, msg_id=push.next_msg_id())
    return parse_xml((await send(http, signer, server, xml)).encode())["Content"]


async def wait_version(http: aiohttp.ClientSession, server: ServerProcess, version: int) -> None:
    """Polls /healthz until the process reports the knowledge version (it rebuilds in the background)."""
    deadline = time.monotonic() + SWAP_DEADLINE_S
    while time.monotonic() < deadline:
        async with http.get(f"{server.url}/healthz") as resp:
            if resp.status == 200 and (await resp.json())["knowledge_version"] == version:
                return
        assert server.process.poll() is None, server.output()
        await asyncio.sleep(0.5)  # polling interval while the other process rebuilds, not a timing assumption
    pytest.fail(f"{server.url} did not reach knowledge version {version}:\n{server.output()}")


async def test_a_refused_question_is_taught_and_answered_by_every_process(servers: list[ServerProcess],
                                                                         pg_url: str) -> None:
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for server in servers:
            assert (await wait_healthy(http, server))["knowledge_version"] == 0
        first = servers[0]
        wechat = load_config(PROJECT_ROOT / "config.example.toml", env={}).wechat
        signer = PushSigner(wechat.token, wechat.encoding_aes_key, wechat.app_id)
        for server in servers:
            assert "不能确定" in await ask(http, signer, server, "e2e-asker", REFUSED)

        database = Database(pg_url)
        try:
            async with database.session() as db:
                await add_staff(db, "admin", PASSWORD, department="市生态环境局", is_admin=True, now=datetime.now(UTC))
                await db.commit()
        finally:
            await database.dispose()

        admin = ConsoleClient(first.url)  # aiohttp's 5-minute default: a publish builds and evaluates for seconds
        try:
            assert await admin.login("admin") == 303
            _status, html, _ = await admin.get("/console/questions")
            key = re.search(r'action="/console/questions/attach".*?name="key" value="([^"]+)"', html, re.S)
            assert key is not None and REFUSED in html
            status, _html, _ = await admin.post("/console/questions/attach",
                                                {"key": key.group(1), "example": REFUSED, "entry_id": "gen-why"})
            assert status == 303
            _status, html, _ = await admin.get("/console/questions/changes")
            change = re.search(r'action="/console/questions/changes/(\d+)/publish"', html)
            assert change is not None
            status, _html, _ = await admin.post(f"/console/questions/changes/{change.group(1)}/publish")
            assert status == 303
            _status, html, _ = await admin.get("/console/questions/changes")
            assert "已发布，知识版本 1" in html, html

            # the same question, answered by the entry, from both processes (the second at its next look)
            why = next(e for e in load_data().entries if e.id == "gen-why").answer[:30]
            for server in servers:
                await wait_version(http, server, 1)
                assert why in await ask(http, signer, server, "e2e-asker-2", REFUSED)

            # an out-of-scope question attached to an entry lowers a sealed figure: refused, figures shown
            status, _html, _ = await admin.post("/console/questions/attach",
                                                {"key": "", "example": OUT_OF_SCOPE, "entry_id": "gen-what"})
            assert status == 303
            _status, html, _ = await admin.get("/console/questions/changes")
            change = re.search(r'action="/console/questions/changes/(\d+)/publish"', html)
            assert change is not None
            status, _html, _ = await admin.post(f"/console/questions/changes/{change.group(1)}/publish")
            assert status == 303
            _status, html, _ = await admin.get("/console/questions/changes")
        finally:
            await admin.close()
        assert "发布被拒绝" in html
        assert "blind_v99: 100.0% (2/2) / 100.0% (2/2) → 100.0% (2/2) / 50.0% (1/2) ↓" in html
        assert re.search(r"blind_v12: [\d.]+% \(\d+/\d+\)", html)  # the project's sealed batches gate it too
        assert '<strong id="knowledge-version">1</strong>' in html
        for server in servers:
            assert "不在我能解答的范围" in await ask(http, signer, server, "e2e-asker-3", OUT_OF_SCOPE)
            async with http.get(f"{server.url}/healthz") as resp:
                assert (await resp.json())["knowledge_version"] == 1
            assert server.process.poll() is None, server.output()
            assert "Traceback" not in server.output()
