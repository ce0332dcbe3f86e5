"""The knowledge snapshot: a built knowledge base saved to a file and used only while it matches the data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import snapshot
from knowledge.loader import DATA_DIR

QUESTIONS = ["PFOS还能用吗", "药店卖抗生素要处方吗", "什么是新污染物", "禁止生产哪些化学物质", "今天天气怎么样"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    return copy


def test_the_fingerprint_follows_every_data_file(data_dir: Path) -> None:
    before = snapshot.fingerprint(data_dir)
    assert snapshot.fingerprint(data_dir) == before
    some_file = sorted(p for p in data_dir.rglob("*") if p.is_file())[-1]
    some_file.write_bytes(some_file.read_bytes() + b"\n")
    assert snapshot.fingerprint(data_dir) != before


def test_a_snapshot_answers_like_the_knowledge_base_it_was_made_from(knowledge_base, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "knowledge-test.pickle"
    snapshot._write(knowledge_base, path)
    loaded = snapshot._read(path)
    assert loaded is not None and loaded is not knowledge_base
    for question in QUESTIONS:
        assert loaded.answer(question) == knowledge_base.answer(question)


class Builds:
    """Stands in for the (slow) full build, counting how often it ran."""

    def __init__(self, kb: object) -> None:
        self.kb, self.count = kb, 0

    def __call__(self, data_dir: Path | None = None) -> object:
        self.count += 1
        return self.kb


def test_changed_data_is_built_afresh_and_the_old_snapshot_removed(
    knowledge_base, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    builds = Builds(knowledge_base)
    monkeypatch.setattr(snapshot, "load_knowledge_base", builds)
    folder = tmp_path / "cache"
    folder.mkdir()
    snapshot.load_snapshot_or_build(data_dir, folder)
    snapshot.load_snapshot_or_build(data_dir, folder)
    assert builds.count == 1  # the second start read the snapshot
    stopwords = data_dir / "stopwords.txt"
    stopwords.write_bytes(stopwords.read_bytes() + b"\n")
    snapshot.load_snapshot_or_build(data_dir, folder)
    assert builds.count == 2
    assert [p.name for p in folder.glob("knowledge-*.pickle")] == [snapshot.snapshot_path(
        snapshot.fingerprint(data_dir), folder).name]


def test_an_unreadable_snapshot_is_rebuilt(
    knowledge_base, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    builds = Builds(knowledge_base)
    monkeypatch.setattr(snapshot, "load_knowledge_base", builds)
    path = snapshot.snapshot_path(snapshot.fingerprint(data_dir), tmp_path)
    path.write_bytes(b"\x80\x05 truncated")
    assert snapshot.load_snapshot_or_build(data_dir, tmp_path) is knowledge_base
    assert builds.count == 1
    assert "unreadable" in caplog.text
    assert snapshot._read(path) is not None  # replaced by a good one
