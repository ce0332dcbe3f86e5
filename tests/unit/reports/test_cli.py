"""``python -m bot reports …``: listing, showing and changing reports from the shell."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.reports import filing
from bot.services import Services
from knowledge.duties import duties
from storage.db import Database
from storage.departments import seed_departments
from storage.migrate import upgrade
from tests.conftest import PROJECT_ROOT, make_config
from tests.support.clock import FakeClock

EXAMPLE = str(PROJECT_ROOT / "config.example.toml")


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A database with two reports; the CLI finds it through the environment overrides."""
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("YCBOT_STORAGE_URL", url)
    monkeypatch.setenv("YCBOT_STORAGE_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("YCBOT_CHANNEL_KIND", "sandbox")

    async def seed() -> list[str]:
        config = make_config(tmp_path, url)
        database = Database(url)
        await upgrade(database)
        await seed_departments(database, duties().units)
        services = Services(config=config, database=database, clock=FakeClock())
        numbers = []
        async with database.session() as session:
            for i, (category, county) in enumerate((("discharge", "盐湖区"), ("toys", None))):
                draft = filing.ReportDraft(
                    draft_id=f"d{i}",
                    category=category,
                    description="工厂偷排废水很严重",
                    county=county,
                    latitude=35.0 + i,
                    longitude=111.0,
                    real_name=i == 0,
                    reporter_name="张三",
                    reporter_phone="13812345678",
                )
                report = await filing.create_report(session, services, draft, openid=f"openid-{i}", now=services.now())
                numbers.append(report.case_no or "")
            await session.commit()
        await database.dispose()
        return numbers

    return asyncio.run(seed())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--config", EXAMPLE, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_and_status_filter(cli_db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reports", "list", "--json")
    data = json.loads(out)
    assert code == 0 and data["total"] == 2
    assert {r["case_no"] for r in data["reports"]} == set(cli_db)
    first = data["reports"][0]
    for key in (
        "case_no",
        "status",
        "category",
        "description",
        "latitude",
        "longitude",
        "address",
        "county",
        "department",
        "photos",
        "created_at",
        "history",
    ):
        assert key in first
    assert "13812345678" not in out and "openid-0" not in out
    code, out, _ = run(capsys, "reports", "list", "--status", "accepted", "--json")
    assert json.loads(out)["total"] == 0
    code, out, _ = run(capsys, "reports", "list", "--county", "-")
    assert code == 0 and cli_db[1] in out and cli_db[0] not in out


def test_show_and_private(cli_db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reports", "show", cli_db[0].lower(), "--json")
    data = json.loads(out)
    assert code == 0 and data["case_no"] == cli_db[0] and data["county"] == "盐湖区"
    assert data["photos"] == [] and data["history"][0]["to_status"] == "submitted"
    assert "13812345678" not in out
    code, out, _ = run(capsys, "reports", "show", cli_db[0], "--private", "--json")
    assert json.loads(out)["reporter_private"]["phone"] == "13812345678"
    code, out, _ = run(capsys, "reports", "show", cli_db[0])
    assert code == 0 and "市生态环境局" in out and "history" in out
    code, _, err = run(capsys, "reports", "show", "YC19990101-0001")
    assert code == 1 and "YC19990101-0001" in err


def test_set_status_records_and_refuses(cli_db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "reports",
        "set-status",
        cli_db[0],
        "accepted",
        "--note",
        "已受理",
        "--reply",
        "已派人核查",
        "--actor",
        "王工",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["status"] == "accepted"
    assert data["history"][-1]["actor"] == "王工" and data["history"][-1]["public_reply"] == "已派人核查"
    code, _, err = run(capsys, "reports", "set-status", cli_db[0], "closed", "--note", "x")
    assert code == 1 and "不能从" in err
    code, _, err = run(capsys, "reports", "set-status", cli_db[1], "rejected", "--note", "x")
    assert code == 1 and "reason" in err
    code, out, _ = run(
        capsys,
        "reports",
        "set-status",
        cli_db[1],
        "rejected",
        "--note",
        "x",
        "--reason",
        "不属于本市",
        "--authority",
        "临汾市生态环境局",
    )
    assert code == 0 and "rejected" in out


def test_bad_arguments_exit_non_zero_without_a_traceback(cli_db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ("reports", "set-status", cli_db[0], "bogus", "--note", "x"),
        ("reports", "set-status", cli_db[0], "accepted"),  # --note is required
        ("reports", "list", "--limit", "-3"),
        ("reports", "list", "--since", "yesterday"),
        ("reports", "set-county", cli_db[0], "北京市"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(["--config", EXAMPLE, *argv])
        assert exc.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


def test_transfer_county_note_and_fetch(cli_db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "reports", "transfer", cli_db[1], "市住建局", "--note", "工地")[0] == 0
    assert run(capsys, "reports", "set-county", cli_db[1], "运城开发区")[0] == 0
    assert run(capsys, "reports", "note", cli_db[1], "已电话联系")[0] == 0
    code, _, err = run(capsys, "reports", "transfer", cli_db[1], "火星局", "--note", "x")
    assert code == 1 and "火星局" in err
    code, out, _ = run(capsys, "reports", "show", cli_db[1], "--json")
    data = json.loads(out)
    assert (data["department"], data["county"]) == ("市住建局", "运城开发区")
    assert [e["kind"] for e in data["history"]][-3:] == ["transfer", "county", "note"]
    code, out, _ = run(capsys, "reports", "fetch-photos", "--json")
    assert code == 0 and json.loads(out)["stored"] == 0
