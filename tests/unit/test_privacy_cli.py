"""``python -m bot privacy purge`` and the CLI's audit entries (actor: the OS user)."""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.reports import filing, workflow
from bot.services import Services
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from storage.models.console import AuditEntry
from storage.models.reports import Report, ReportPhoto
from tests.conftest import PROJECT_ROOT, make_config
from tests.support.clock import FakeClock
from tests.unit.console.helpers import sample_jpeg, store_photo_file

EXAMPLE = str(PROJECT_ROOT / "config.example.toml")
ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str], Path]:
    """A closed real-name case with a photo and a pin (closed two weeks ago), and an open case."""
    url = f"sqlite:///{tmp_path}/privacy.db"
    media = tmp_path / "media"
    for key, value in {
        "YCBOT_STORAGE_URL": url,
        "YCBOT_STORAGE_MEDIA_DIR": str(media),
        "YCBOT_CHANNEL_KIND": "sandbox",
        "YCBOT_PRIVACY_CLOSED_IDENTITY_DAYS": "3",
        "YCBOT_PRIVACY_CLOSED_PHOTO_DAYS": "3",
        "YCBOT_PRIVACY_CLOSED_LOCATION_DAYS": "3",
    }.items():
        monkeypatch.setenv(key, value)

    async def seed() -> list[str]:
        config = make_config(tmp_path, url)
        database = Database(url)
        await upgrade(database)
        await seed_departments(database, duties().units)
        services = Services(config=config, database=database, clock=FakeClock())
        numbers = []
        async with database.session() as session:
            for i in range(2):
                draft = filing.ReportDraft(
                    draft_id=f"d{i}",
                    category=("discharge", "toys")[i],
                    description="工厂偷排废水很严重",
                    county="盐湖区",
                    latitude=35.031234,
                    longitude=111.007654,
                    real_name=True,
                    reporter_name="张三",
                    reporter_phone="13812345678",
                )
                report = await filing.create_report(session, services, draft, openid=f"openid-{i}", now=services.now())
                numbers.append(report.case_no or "")
            digest = store_photo_file(media, sample_jpeg())
            session.add(
                ReportPhoto(report_id=1, reporter_openid="openid-0", media_id="M", status="stored", sha256=digest)
            )
            await workflow.change_status(
                session,
                services,
                numbers[0],
                "rejected",
                actor="eco",
                reason="非本部门职责",
                competent_authority="住建部门",
                now=services.now(),
            )
            await workflow.change_status(session, services, numbers[0], "closed", actor="eco", now=services.now())
            await session.commit()
        await database.dispose()
        return numbers

    return url, asyncio.run(seed()), media


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--config", EXAMPLE, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def query(url: str, stmt):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        database = Database(url)
        try:
            async with database.session() as session:
                return list((await session.scalars(stmt)).all())
        finally:
            await database.dispose()

    return asyncio.run(go())


def test_purge_dry_run_then_purge(db, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    url, (closed, still_open), media = db
    code, out, _ = run(capsys, "privacy", "purge", "--dry-run", "--json")
    plan = json.loads(out)
    assert code == 0 and plan["dry_run"] is True
    assert (plan["identities"], plan["photo_cases"], plan["locations"]) == ([closed], [closed], [closed])
    assert plan["counts"]["photos"] == 1 and plan["counts"]["photo_files"] == 1
    code, out, _ = run(capsys, "privacy", "purge", "--dry-run")
    assert "dry run" in out and closed in out
    (report,) = query(url, select(Report).where(Report.case_no == closed))
    assert (report.reporter_name, report.reporter_openid) == ("张三", "openid-0")  # nothing changed
    assert any(media.rglob("*.jpg"))

    code, out, _ = run(capsys, "privacy", "purge")
    assert code == 0 and "reporter identities masked: 1" in out
    (report,) = query(url, select(Report).where(Report.case_no == closed))
    assert (report.reporter_openid, report.reporter_name, report.reporter_phone) == ("", "", "")
    assert report.identity_erased_at is not None and report.status == "closed"
    assert report.description == "工厂偷排废水很严重" and len(report.events) == 3  # the record stays
    assert (report.latitude, report.longitude) == (35.03, 111.01)
    assert query(url, select(ReportPhoto)) == [] and not any(media.rglob("*.jpg"))
    (other,) = query(url, select(Report).where(Report.case_no == still_open))
    assert (other.reporter_name, other.latitude) == ("张三", 35.031234)  # open cases keep everything
    (entry,) = query(url, select(AuditEntry).where(AuditEntry.action == "privacy_purge"))
    assert entry.actor == ACTOR and entry.detail["identities"] == 1
    code, out, _ = run(capsys, "privacy", "purge", "--json")
    assert json.loads(out)["counts"]["identities"] == 0  # done once


def test_cli_reveal_and_status_change_are_audited(db, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    url, (_closed, still_open), _media = db
    code, out, _ = run(capsys, "reports", "show", still_open, "--private", "--json")
    assert code == 0 and json.loads(out)["reporter_private"]["name"] == "张三"
    code, _out, _ = run(capsys, "reports", "show", still_open, "--json")
    code, _out, _ = run(
        capsys, "reports", "set-status", still_open, "accepted", "--note", "受理", "--public-summary", "工厂排放废水"
    )
    assert code == 0
    entries = query(url, select(AuditEntry).where(AuditEntry.case_no == still_open).order_by(AuditEntry.id))
    assert [(e.action, e.actor) for e in entries] == [("reveal_identity", ACTOR), ("report_accept", ACTOR)]
    assert entries[0].detail["via"] == "cli"
    (report,) = query(url, select(Report).where(Report.case_no == still_open))
    assert report.public_summary == "工厂排放废水"


def test_erase_unknown_request_is_refused(db, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run(capsys, "privacy", "erase", "P99")
    assert code == 1 and "P99" in err
    with pytest.raises(SystemExit):
        run(capsys, "privacy", "erase", "nonsense")
