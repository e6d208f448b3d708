from pathlib import Path

import pytest

from qa_pipeline.checklist import ChecklistError, load_checklist, load_checklists

REPO = Path(__file__).resolve().parent.parent


def test_shipped_checklists_are_valid_and_cover_the_demo_items(seeds: Path) -> None:
    from qa_pipeline.demo_corpus import load_scripts

    checklists = {c.language: c for c in load_checklists([REPO / "checklists"])}
    assert {"en", "ru"} <= checklists.keys()
    demo_items = set(next(iter(load_scripts(seeds / "scripts").values())).expected)
    for checklist in checklists.values():
        assert {item.id for item in checklist.items} == demo_items
        assert {i.id for i in checklist.items if i.critical == "fatal"} == {
            "no_rudeness",
            "no_unverified_disclosure",
        }
        assert checklist.item("correct_information").critical == "flag"
    assert checklists["ru"].applies({"language": "ru", "queue": "support"})
    assert not checklists["ru"].applies({"language": "en"})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BROKEN = """\
id: demo
version: "1"
language: en
title: Demo
sections:
  - id: opening
    title: Opening
    items:
      - id: greeting
        question: Did the agent greet?
        wieght: 5
      - id: scale_item
        question: How clear was the agent?
        answer: scale
      - id: greeting
        question: Duplicate id here?
        critical: sometimes
"""


def test_every_problem_is_reported_with_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    with pytest.raises(ChecklistError) as error:
        load_checklist(path)
    problems = error.value.problems
    assert f"{path}:11: sections[0].items[0].wieght: unknown field (typo?)" in problems
    assert any(p.startswith(f"{path}:12: sections[0].items[1]") and "scale_max" in p for p in problems)
    assert any(p.startswith(f"{path}:17: sections[0].items[2].critical") for p in problems)
    # the duplicate id in the same pass as the field errors, with its own line, in line order
    assert problems[2] == (
        f"{path}:15: sections[0].items[2].id: item id 'greeting' is used twice (first at line 9)"
    )
    assert len(problems) == 4


def test_duplicate_item_ids_are_rejected(tmp_path: Path) -> None:
    text = (
        BROKEN.replace("        wieght: 5\n", "")
        .replace("        answer: scale\n", "")
        .replace("        critical: sometimes\n", "")
    )
    with pytest.raises(ChecklistError, match="'greeting' is used twice"):
        load_checklist(write(tmp_path, text))


@pytest.mark.parametrize(("written", "version"), [("1", "1"), ("1.10", "1.10"), ('"2.0"', "2.0")])
def test_a_numeric_version_is_taken_as_written(tmp_path: Path, written: str, version: str) -> None:
    text = (
        BROKEN.replace('version: "1"', f"version: {written}")
        .replace("        wieght: 5\n", "")
        .replace("        answer: scale\n", "")
        .replace(
            "      - id: greeting\n        question: Duplicate id here?\n        critical: sometimes\n", ""
        )
    )
    assert load_checklist(write(tmp_path, text)).version == version


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "id: x\nsections:\n  - [unclosed\n")
    with pytest.raises(ChecklistError) as error:
        load_checklist(path)
    assert error.value.problems[0].startswith(
        f"{path}:4: not valid YAML"
    )  # where the list should have closed


def test_window_needs_exactly_one_side(tmp_path: Path) -> None:
    text = BROKEN.replace(
        "        wieght: 5\n", "        scope: {window: {first_seconds: 10, last_seconds: 5}}\n"
    )
    with pytest.raises(ChecklistError) as error:
        load_checklist(write(tmp_path, text))
    assert any(
        ":11: sections[0].items[0].scope.window" in p and "exactly one" in p for p in error.value.problems
    )


def test_validate_command_reports_problems_and_exit_code(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from qa_pipeline.cli import app

    runner = CliRunner()
    good = runner.invoke(
        app, ["checklist", "validate", *map(str, sorted((REPO / "checklists").glob("*.yaml")))]
    )
    assert good.exit_code == 0 and good.output.count("ok ") == 2
    folder = runner.invoke(app, ["checklist", "validate", str(REPO / "checklists")])
    assert folder.exit_code == 0 and folder.output.count("ok ") == 2
    empty = runner.invoke(app, ["checklist", "validate", str(tmp_path)])
    assert empty.exit_code == 2 and "no checklist files" in empty.output
    path = write(tmp_path, BROKEN)
    bad = runner.invoke(app, ["checklist", "validate", str(path), "--json"])
    assert bad.exit_code == 1
    assert f"{path}:11: sections[0].items[0].wieght: unknown field (typo?)" in bad.output


def test_weights_must_be_positive_and_each_is_reported_on_its_line(tmp_path: Path) -> None:
    text = (
        BROKEN.replace("        wieght: 5\n", "        weight: 0\n")
        .replace("        answer: scale\n", "        weight: -5\n")
        .replace(
            "      - id: greeting\n        question: Duplicate id here?\n        critical: sometimes\n", ""
        )
    )
    path = write(tmp_path, text)
    with pytest.raises(ChecklistError) as error:
        load_checklist(path)
    assert [p.split(": ", 2)[:2] for p in error.value.problems] == [
        [f"{path}:11", "sections[0].items[0].weight"],
        [f"{path}:14", "sections[0].items[1].weight"],
    ]
    assert all("greater than 0" in p for p in error.value.problems)
