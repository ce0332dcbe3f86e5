"""Once means once, measured: real worker processes send 40 reporter notices to the fake 公众号 API on
loopback while WeChat's answers come after the client's timeout and workers are killed with SIGKILL in the
middle of a send. No customer-service text may reach a reporter twice, and no notice may be lost.

The measured counts are printed (run with ``-s``) and quoted in README ("Connecting a real 服务号").
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from bot.config import Config, load_config
from bot.reports.reporter_notice import enqueue_reporter_notice
from bot.services import Services
from storage.db import Database
from storage.migrate import ensure_schema
from storage.models import NoticeDelivery, OutboxMessage, WechatUser
from tests.conftest import PROJECT_ROOT
from tests.support.fake_wechat_api import (
    ACCOUNT_AES_KEY,
    ACCOUNT_TOKEN,
    APP_ID,
    APP_SECRET,
    FakeWechatApi,
)

CUSTOM = "/cgi-bin/message/custom/send"
REPORTERS = [f"o-reporter-{n:02d}" for n in range(40)]
LATE = {REPORTERS[n] for n in (3, 9, 15, 21)}  # delivered, answered after the client's 1 s timeout
KILLED = [REPORTERS[n] for n in (27, 34)]  # delivered, then the worker is killed before the answer
KEYS = ["character_string1", "phrase2", "thing3", "time4"]
DEADLINE_S = 120.0


def write_config(tmp_path: Path, fake: FakeWechatApi) -> Path:
    path = tmp_path / "worker.toml"
    path.write_text(
        f'[wechat]\ntoken = "{ACCOUNT_TOKEN}"\nencoding_aes_key = "{ACCOUNT_AES_KEY}"\n'
        f'app_id = "{APP_ID}"\napp_secret = "{APP_SECRET}"\napi_base_url = "{fake.url}"\n'
        "http_timeout_seconds = 1.0\n"
        '[channel]\nkind = "wechat"\n'
        f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "faults.db"}"\nmedia_dir = "{tmp_path / "media"}"\n'
        "[scheduler]\nenabled = false\n"
        "[outbox]\nlease_seconds = 10\nbatch_size = 5\n"
        '[notices]\nreport_template_id = "TPL-REPORT"\n'
        '[reminders]\nseed_file = ""\n',
        encoding="utf-8",
    )
    return path


class Workers:
    """Real worker processes, started and SIGKILLed by the test."""

    def __init__(self, config: Path, logs: Path) -> None:
        self.config, self.logs = config, logs
        self.running: list[subprocess.Popen[bytes]] = []
        self.files: list[IO[bytes]] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("YCBOT_")}

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.running)}.log").open("wb")
        self.files.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.outbox_runner", str(self.config)],
            cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for log in self.files:
            log.close()


@pytest.fixture
def workers(tmp_path: Path, fake_wechat: FakeWechatApi) -> Iterator[Workers]:
    pool = Workers(write_config(tmp_path, fake_wechat), tmp_path)
    yield pool
    pool.stop_all()


async def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)  # polling a condition with a deadline, not waiting for time to pass


async def enqueue_all(config: Config, database: Database) -> None:
    services = Services(config=config, database=database, channels={})
    now = services.now()
    async with database.session() as session:
        for n, openid in enumerate(REPORTERS):
            session.add(WechatUser(openid=openid, subscribed=True, last_message_at=now))
            case_no = f"YC20261205-{n + 1:04d}"
            await enqueue_reporter_notice(
                session, services, openid=openid, case_no=case_no, status="resolved", unit="市生态环境局",
                content=f"【举报进展】{case_no}已办结", key=f"report-notice:{case_no}:1", now=now,
            )
        await session.commit()


async def test_killed_workers_and_late_answers_send_no_text_twice_and_lose_no_notice(
    tmp_path: Path, fake_wechat: FakeWechatApi, workers: Workers
) -> None:
    fake_wechat.add_template("TPL-REPORT", KEYS)
    for openid in REPORTERS:
        fake_wechat.user_message(openid)  # every reporter wrote just now: texts are allowed
    for openid in (*LATE, *KILLED):
        fake_wechat.answer_late(CUSTOM, recipient=openid)
    config = load_config(workers.config, env={})
    database = Database(config.storage.url)
    await ensure_schema(database)
    await enqueue_all(config, database)

    def texts_to(openid: str) -> int:
        return sum(1 for d in fake_wechat.sent_to(openid) if d.kind == "text")

    try:
        for victim in KILLED:  # a worker dies with the victim's text delivered but not yet answered
            process = workers.start()

            async def reached(openid: str = victim) -> bool:
                return texts_to(openid) == 1

            await wait_for(reached, f"the text to {victim}")
            workers.kill(process)
        workers.start()

        async def all_settled() -> bool:
            async with database.session() as session:
                open_rows = await session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
                )
            return open_rows == 0

        await wait_for(all_settled, "every notice to be settled")
        async with database.session() as session:
            rows = (await session.execute(select(NoticeDelivery.route, NoticeDelivery.result))).all()
            results = Counter((route, result) for route, result in rows)
    finally:
        await database.dispose()

    text_counts = {openid: texts_to(openid) for openid in REPORTERS}
    duplicates = sum(count - 1 for count in text_counts.values() if count > 1)
    lost = [o for o in REPORTERS if not fake_wechat.sent_to(o)]
    by_two_routes = sorted(o for o in REPORTERS if {d.kind for d in fake_wechat.sent_to(o)} == {"text", "template"})
    print(
        f"\nfault run: {len(REPORTERS)} notices, {len(KILLED)} SIGKILLs in flight, {len(LATE)} late answers; "
        f"customer-service duplicates {duplicates}, lost {len(lost)}, "
        f"also sent as a template after an uncertain text {len(by_two_routes)}; records {dict(results)}"
    )
    assert duplicates == 0
    assert lost == []
    assert by_two_routes == sorted({*LATE, *KILLED})  # exactly the texts whose fate was uncertain
    assert results[("text", "uncertain")] == len(LATE) + len(KILLED)
    assert results[("template", "accepted")] == len(LATE) + len(KILLED)
    assert results[("text", "delivered")] == len(REPORTERS) - len(LATE) - len(KILLED)
