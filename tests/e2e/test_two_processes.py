"""Two real `python -m bot serve` processes on one PostgreSQL database: a retried push sent to both at once
takes effect once, and every copy gets the same reply."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot import texts
from bot.config import load_config
from bot.privacy.notice import welcome_text
from bot.wechat import push
from bot.wechat.messages import parse_xml
from bot.wechat.push import PushSigner
from storage.db import Database
from storage.models import ProcessedMessage, WechatUser
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.postgres

START_DEADLINE_S = 120.0
ACCOUNT = "gh_two_processes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


def write_config(tmp_path: Path, pg_url: str, port: int, extra: str = "") -> Path:
    """A serve config on PostgreSQL with the example's WeChat keys; ``extra``: more TOML sections."""
    example = load_config(PROJECT_ROOT / "config.example.toml", env={}).wechat
    path = tmp_path / f"config-{port}.toml"
    path.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\nlog_level = "WARNING"\n'
        f'[wechat]\ntoken = "{example.token}"\napp_id = "{example.app_id}"\n'
        f'encoding_aes_key = "{example.encoding_aes_key}"\n'
        f'[storage]\nurl = "{pg_url}"\nmedia_dir = "{tmp_path / "media"}"\n'
        "[scheduler]\nenabled = false\n" + extra,
        encoding="utf-8",
    )
    return path


@contextmanager
def serve_processes(
    tmp_path: Path, pg_url: str, env: dict[str, str], extra_config: str = "", count: int = 2
) -> Iterator[list[ServerProcess]]:
    """``count`` `python -m bot serve` processes on one database, stopped (SIGTERM, then kill) on exit."""
    started: list[ServerProcess] = []
    try:
        for _ in range(count):
            port = free_port()
            config = write_config(tmp_path, pg_url, port, extra_config)
            log = tmp_path / f"serve-{port}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bot", "serve", "--config", str(config)],
                    cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            started.append(ServerProcess(process=process, url=f"http://127.0.0.1:{port}", log=log))
        yield started
    finally:
        for server in started:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
        for server in started:
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=10)


@pytest.fixture
def servers(tmp_path: Path, pg_url: str) -> Iterator[list[ServerProcess]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YCBOT_")}
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "prometheus")  # one view of both processes' metrics
    (tmp_path / "prometheus").mkdir()
    with serve_processes(tmp_path, pg_url, env) as started:
        yield started


async def wait_healthy(http: aiohttp.ClientSession, server: ServerProcess) -> dict[str, object]:
    """Polls /healthz until it answers 200, the process dies, or the deadline passes."""
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"serve exited with {server.process.returncode}:\n{server.output()}")
        try:
            async with http.get(f"{server.url}/healthz") as resp:
                if resp.status == 200:
                    return dict(await resp.json())
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)  # polling interval while the process starts, not a timing assumption
    pytest.fail(f"{server.url}/healthz did not answer 200 within {START_DEADLINE_S} s:\n{server.output()}")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


async def send(http: aiohttp.ClientSession, signer: PushSigner, server: ServerProcess, xml: str) -> str:
    signed = signer.request(xml, "safe", timestamp=int(time.time()))
    async with http.post(f"{server.url}/wechat", params=signed.query, data=signed.body) as resp:
        body = await resp.text()
        assert resp.status == 200, body
    return signer.open_reply(body)


async def test_two_processes_apply_a_retried_push_once(servers: list[ServerProcess], http: aiohttp.ClientSession,
                                                       pg_url: str) -> None:
    for server in servers:
        health = await wait_healthy(http, server)
        assert health["status"] == "ok"

    wechat = load_config(PROJECT_ROOT / "config.example.toml", env={}).wechat
    signer = PushSigner(wechat.token, wechat.encoding_aes_key, wechat.app_id)
    copies_per_process = 4
    rounds: list[tuple[str, str, str]] = []  # (dedup key, openid, expected content)

    for n in range(5):
        openid = f"two-proc-user-{n}"
        msg_id = push.next_msg_id()
        xml = push.text_xml(ACCOUNT, openid, "帮助", msg_id=msg_id)
        replies = await asyncio.gather(*(send(http, signer, server, xml)
                                         for server in servers for _ in range(copies_per_process)))
        assert len(set(replies)) == 1, "every copy must get the byte-identical reply"
        rounds.append((f"m:{openid}:{msg_id}", openid, texts.HELP))
        assert parse_xml(replies[0].encode())["Content"] == texts.HELP

    # Events dedup on FromUserName+CreateTime+Event+EventKey across processes too.
    event_openid = "two-proc-subscriber"
    create_time = int(time.time())
    xml = push.event_xml(ACCOUNT, event_openid, "subscribe", create_time=create_time)
    replies = await asyncio.gather(*(send(http, signer, server, xml)
                                     for server in servers for _ in range(copies_per_process)))
    assert len(set(replies)) == 1
    welcome = welcome_text(load_config(PROJECT_ROOT / "config.example.toml", env={}))
    assert parse_xml(replies[0].encode())["Content"] == welcome

    database = Database(pg_url)
    try:
        async with database.session() as session:
            for key, _openid, _content in rounds:
                count = await session.scalar(
                    select(func.count()).select_from(ProcessedMessage).where(ProcessedMessage.dedup_key == key))
                assert count == 1, key
            total = await session.scalar(select(func.count()).select_from(ProcessedMessage))
            assert total == len(rounds) + 1
            event_row = await session.scalar(
                select(ProcessedMessage).where(ProcessedMessage.openid == event_openid))
            user = await session.get(WechatUser, event_openid)
            assert user is not None and user.subscribed
            # The welcome was applied by exactly one process: its subscription time is that push's own.
            assert event_row is not None and user.subscribed_at == event_row.created_at
            users = await session.scalar(select(func.count()).select_from(WechatUser))
            assert users == len(rounds) + 1
    finally:
        await database.dispose()

    # /metrics on either process reports both: every push, counted once, the same figures.
    views = []
    for server in servers:
        async with http.get(f"{server.url}/metrics") as resp:
            assert resp.status == 200
            views.append(callback_counts(await resp.text()))
    assert views[0] == views[1]
    assert sum(views[0].values()) == (len(rounds) + 1) * copies_per_process * len(servers)

    for server in servers:
        assert server.process.poll() is None, server.output()
        assert "Traceback" not in server.output()


def callback_counts(exposition: str) -> dict[str, float]:
    """ycbot_callback_seconds_count by outcome."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == "ycbot_callback_seconds"
        for sample in family.samples
        if sample.name == "ycbot_callback_seconds_count"
    }
