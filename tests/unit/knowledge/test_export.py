"""Exported edits are data files the knowledge base and kb check accept, and applying them again adds nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from knowledge.checks import check_data
from knowledge.edits import ENTRY, PHRASING, Edit, apply_edits
from knowledge.export import export_edits
from knowledge.loader import DATA_DIR, load_data

EDITS = [
    Edit(PHRASING, "gen-why", "新污染物会不会让人得癌症"),
    Edit(PHRASING, "reg-types", '带"引号"和\\反斜杠的问法'),
    Edit(ENTRY, "gen-cancer-risk", "新污染物和癌症有关系吗", answer="部分新污染物具有致癌性。\n详见国家行动方案。",
         sources=("nap",), paraphrases=("新污染物致癌吗", "新污染物会致癌吗", "新污染物和肿瘤有关吗"),
         file="general.toml"),
]


def test_exported_edits_read_back_and_pass_kb_check(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(DATA_DIR, data_dir)
    written = export_edits(EDITS, data_dir, data_dir)
    assert sorted(p.name for p in written) == ["general.toml", "registration.toml"]
    assert check_data(data_dir) == []
    data = load_data(data_dir)
    entries = {e.id: e for e in data.entries}
    assert entries["gen-why"].paraphrases[-1] == "新污染物会不会让人得癌症"
    assert entries["reg-types"].paraphrases[-1] == '带"引号"和\\反斜杠的问法'
    new = entries["gen-cancer-risk"]
    assert (new.question, new.answer, new.sources, len(new.paraphrases)) == (
        "新污染物和癌症有关系吗", "部分新污染物具有致癌性。\n详见国家行动方案。", ("nap",), 3)
    assert apply_edits(data, EDITS).entries == data.entries  # already in the files: applied once
    assert export_edits(EDITS, data_dir, data_dir) == []
