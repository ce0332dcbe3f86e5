"""`kb check`: the shipped data is clean, and each kind of mistake is reported with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.checks import check_data
from knowledge.loader import DATA_DIR


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def messages(data_dir: Path) -> list[str]:
    return [str(p) for p in check_data(data_dir)]


def test_shipped_data_is_clean() -> None:
    assert messages(DATA_DIR) == []


def append(path: Path, text: str) -> int:
    """Append text; return the line number where it starts."""
    before = path.read_text(encoding="utf-8")
    path.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 1


ENTRY = """
[[entry]]
id = "{id}"
question = "{question}"
paraphrases = ["说法一测试", "说法二测试", "说法三测试"]
answer = "答案。"
sources = {sources}
related = {related}
"""


def test_duplicate_id_missing_source_and_broken_references(data_copy: Path) -> None:
    f = data_copy / "entries" / "general.toml"
    line = append(f, ENTRY.format(id="gen-what", question="重复的编号？", sources="[]", related='["nope"]'))
    found = messages(data_copy)
    header = line + 1  # the [[entry]] line
    assert any(m.startswith(f"entries/general.toml:{header}: duplicate id 'gen-what'") for m in found)
    assert f"entries/general.toml:{header}: gen-what: missing sources" in found
    assert any(
        "broken reference: related entry 'nope' does not exist" in m and m.startswith("entries/general.toml:")
        for m in found
    )


def test_unknown_source_key_and_plan_clause(data_copy: Path) -> None:
    f = data_copy / "entries" / "general.toml"
    append(f, ENTRY.format(id="x-1", question="新问题一？", sources='["nosuch", "plan:二（九）9"]', related="[]"))
    found = "\n".join(messages(data_copy))
    assert "x-1: unknown source key 'nosuch'" in found
    assert "x-1: plan clause '二（九）9' does not exist in plan.txt" in found


def test_duplicate_question_across_entries(data_copy: Path) -> None:
    f = data_copy / "entries" / "general.toml"
    append(f, ENTRY.format(id="x-2", question="什么是新污染物？", sources='["nap"]', related="[]"))
    assert any("x-2: question '什么是新污染物？' duplicates one of gen-what" in m for m in messages(data_copy))


def test_too_few_paraphrases_and_too_long_answer(data_copy: Path) -> None:
    f = data_copy / "entries" / "general.toml"
    append(
        f,
        '\n[[entry]]\nid = "x-3"\nquestion = "新问题三？"\nparaphrases = ["一个"]\n'
        f'answer = "{"很长" * 400}"\nsources = ["nap"]\n',
    )
    found = "\n".join(messages(data_copy))
    assert "x-3: 1 paraphrases, at least 3 needed" in found and "x-3: answer too long" in found


def test_broken_toml_names_the_file(data_copy: Path) -> None:
    append(data_copy / "entries" / "plan.toml", "\n[[entry]\nid = \n")
    assert any(m.startswith("entries/plan.toml:") for m in messages(data_copy))


def test_chemical_rows(data_copy: Path) -> None:
    f = data_copy / "chemicals.csv"
    line = append(f, "pfos,重复,,1763-23-2,15,X1,,\n")
    found = "\n".join(messages(data_copy))
    assert f"chemicals.csv:{line}: duplicate id 'pfos'" in found
    assert "CAS number 1763-23-2 fails its check digit" in found
    assert "key_list item 15 is not between 1 and 14" in found
    assert "priority code 'X1' should look like PC001" in found
    assert f"chemicals.csv:{line}: pfos: missing sources" in found


def test_chemical_row_with_wrong_field_count(data_copy: Path) -> None:
    line = append(data_copy / "chemicals.csv", "bad,1,2,4-三氯苯,,,PC001,,priority1\n")  # unquoted commas
    assert any(m.startswith(f"chemicals.csv:{line}: wrong number of fields") for m in messages(data_copy))


def test_asked_questions_with_unknown_ids_duplicates_or_no_tab_are_reported(data_copy: Path) -> None:
    asked = data_copy / "asked.tsv"
    start = append(asked, "no-such-entry\t这个条目不存在吗\n")
    append(asked, "reg-types\t这个条目不存在吗\n")
    msgs = messages(data_copy)
    assert f"asked.tsv:{start}: unknown id 'no-such-entry' (no entry, chemical or plan clause has it)" in msgs
    assert f"asked.tsv:{start + 1}: the same question as line {start}" in msgs
    append(asked, "只有问题没有制表符\n")
    assert messages(data_copy) == [
        f"asked.tsv:{start + 2}: expected `ids<TAB>question` (one tab; ids may be empty)"
    ]
