"""``python -m bot kb drafts | publish ID | export DIR``: the console's publish from the shell, gated the same
way, and the published edits written back as data files."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.questions.edits import create_change
from knowledge.edits import PHRASING, Edit
from knowledge.entries import load_entry_file
from knowledge.loader import load_data
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import PROJECT_ROOT
from tests.unit.questions.test_publish import REFUSED, eval_dir

EXAMPLE = str(PROJECT_ROOT / "config.example.toml")


@pytest.fixture
def drafts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two drafts: a good new way of asking (1) and an out-of-scope question attached to an entry (2)."""
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("YCBOT_STORAGE_URL", url)
    monkeypatch.setenv("YCBOT_STORAGE_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("YCBOT_CHANNEL_KIND", "sandbox")
    monkeypatch.setenv("YCBOT_REMINDERS_SEED_FILE", "")
    monkeypatch.setenv("YCBOT_KNOWLEDGE_EVAL_DIR", str(eval_dir(tmp_path)))

    async def seed() -> None:
        database = Database(url)
        await upgrade(database)
        data = load_data()
        now = datetime(2026, 12, 5, 8, tzinfo=UTC)
        async with database.session() as db:
            for question, entry in ((REFUSED, "gen-why"), ("明天运城会下雨吗", "gen-what")):
                made = await create_change(db, data, Edit(PHRASING, entry, question), group_key="", example="",
                                           actor="eco", now=now)  # fmt: skip
                assert not isinstance(made, list)
            await db.commit()
        await database.dispose()

    asyncio.run(seed())


def test_publish_and_export_from_the_shell(drafts: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "drafts", "--config", EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert "knowledge version 0; 2 draft(s)" in out and f"1\tphrasing\tgen-why\t{REFUSED}\teco" in out

    assert main(["kb", "publish", "2", "--config", EXAMPLE]) == 1
    captured = capsys.readouterr()
    assert "blind_v99: 100.0% (2/2) / 100.0% (2/2) → 100.0% (2/2) / 50.0% (1/2) ↓" in captured.out
    assert "发布被拒绝" in captured.err

    assert main(["kb", "publish", "1", "--config", EXAMPLE]) == 0
    captured = capsys.readouterr()
    assert "已发布，知识版本 1" in captured.out and "→ 100.0% (2/2) / 100.0% (2/2)" in captured.out
    assert main(["kb", "publish", "1", "--config", EXAMPLE]) == 1  # published already
    capsys.readouterr()

    out_dir = tmp_path / "export"
    assert main(["kb", "export", str(out_dir), "--config", EXAMPLE]) == 0
    assert "1 published edit(s), 1 file(s) written" in capsys.readouterr().out
    written = out_dir / "entries" / "general.toml"
    why = next(e for e in load_entry_file(written) if e.id == "gen-why")
    assert why.paraphrases[-1] == REFUSED
    original = PROJECT_ROOT / "knowledge" / "data" / "entries" / "general.toml"
    before = original.read_text(encoding="utf-8").splitlines()
    after = written.read_text(encoding="utf-8").splitlines()
    added = set(after) - set(before)
    assert len(after) == len(before) + 1 and f'  "{REFUSED}",' in added  # one more line, the rest as it was
    assert all(line.endswith(",") and line[:-1] in before for line in added - {f'  "{REFUSED}",'})  # a comma
    assert main(["kb", "export", str(out_dir), "--config", EXAMPLE]) == 0
    assert "0 file(s) written" in capsys.readouterr().out  # already there: nothing doubles
