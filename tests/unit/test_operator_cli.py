"""`config check` and `status`: what an operator runs before and after starting the service."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.tasks import workdays
from scheduler.runner import ServiceScheduler
from storage.db import Database
from storage.job_ticks import TickRecorder, last_ticks
from storage.migrate import upgrade
from storage.outbox import enqueue as put
from tests.conftest import PROJECT_ROOT

EXAMPLE = str(PROJECT_ROOT / "config.example.toml")
OWN = {
    "YCBOT_CHANNEL_KIND": "wechat",
    "YCBOT_WECHAT_APP_ID": "wx1234567890abcdef",
    "YCBOT_WECHAT_APP_SECRET": "0123456789abcdef0123456789abcdef",
    "YCBOT_WECHAT_TOKEN": "a-token-of-our-own",
    "YCBOT_WECHAT_ENCODING_AES_KEY": "b" * 43,
    "YCBOT_REMINDERS_TEMPLATE_ID": "TPL-1",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["--config", EXAMPLE, *argv])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture(autouse=True)
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("YCBOT_STORAGE_URL", url)
    monkeypatch.setenv("YCBOT_STORAGE_MEDIA_DIR", str(tmp_path / "media"))
    return url


def test_config_check_in_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "config", "check")
    assert code == 0, out
    assert "mode          SANDBOX" in out and "configuration OK" in out


def test_config_check_refuses_the_example_secrets_outside_the_sandbox(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in OWN.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("YCBOT_WECHAT_TOKEN")
    monkeypatch.delenv("YCBOT_WECHAT_ENCODING_AES_KEY")  # both fall back to the published example values
    code, out = run(capsys, "config", "check", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["sandbox"] is False
    assert any(e.startswith("[wechat] token: the example value") for e in report["errors"])
    assert any(e.startswith("[wechat] encoding_aes_key: the example value") for e in report["errors"])
    assert "0123456789abcdef" not in out  # secrets are never printed


def test_config_check_passes_with_own_secrets_and_names_the_sandbox_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in OWN.items():
        monkeypatch.setenv(key, value)
    code, out = run(capsys, "config", "check")
    assert code == 0, out
    assert "mode          REAL" in out and "app_secret set (32 characters)" in out
    assert OWN["YCBOT_WECHAT_APP_SECRET"] not in out
    monkeypatch.setenv("YCBOT_WECHAT_APP_ID", "wx0000000000sandbox")
    code, out = run(capsys, "config", "check")
    assert code == 1 and "[wechat] app_id: the sandbox's example id" in out


def test_config_check_reports_a_bad_value_with_its_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YCBOT_SERVER_PORT", "eighty")
    code, out = run(capsys, "config", "check")
    assert code == 2 and "YCBOT_SERVER_PORT: expected a whole number" in out


def test_status_shows_schema_queues_jobs_calendar_and_knowledge(
    capsys: pytest.CaptureFixture[str], storage: str
) -> None:
    code, out = run(capsys, "status", "--json")
    assert code == 1 and json.loads(out)["schema"]["up_to_date"] is False  # a new database: not migrated yet

    async def prepare() -> None:
        database = Database(storage)
        await upgrade(database)
        scheduler = ServiceScheduler()
        scheduler.observers.append(TickRecorder(database))

        async def broken() -> None:
            raise RuntimeError("no route to host")

        async def fine() -> None:
            return None

        await scheduler._guarded("outbox", fine)()
        await scheduler._guarded("outbox", fine)()  # within 30 s of the first: counted, not written
        await scheduler._guarded("media", broken)()
        ticks = {t.name: t for t in await last_ticks(database)}
        assert ticks["outbox"].runs == 1 and ticks["outbox"].last_error == ""
        assert ticks["media"].last_error == "RuntimeError: no route to host"
        async with database.session() as session:
            now = datetime.now(UTC)
            for i in range(3):
                await put(session, channel="mp", kind="text", recipient=f"o{i}", payload={}, now=now, purpose="notice")
            await session.commit()
        await database.dispose()

    asyncio.run(prepare())
    code, out = run(capsys, "status", "--json")
    report = json.loads(out)
    assert code == 0 and report["schema"]["up_to_date"] is True
    assert report["outbox"] == [{"status": "pending", "purpose": "notice", "rows": 3}]
    assert {j["name"] for j in report["jobs"]} == {"media", "outbox"}
    until = workdays.covered_until(datetime.now(UTC).date())  # the real clock: 2026-12-31 until the year ends
    assert report["calendar_covered_until"] == (until.isoformat() if until else None)
    assert len(report["knowledge_version"]) == 12
    assert report["knowledge_published_version"] == 0  # nothing published from the console yet
    code, out = run(capsys, "status")
    assert "published version 0" in out
    assert "pending/notice 3" in out and "no route to host" in out and "calendar" in out
