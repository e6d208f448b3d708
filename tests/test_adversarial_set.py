"""The adversarial set loads, covers what it promises, and each twin is its attempt minus one line."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from qa_pipeline.adversarial import FAMILIES, AdversarialSet, load_adversarial_set
from qa_pipeline.checklist import load_checklists
from qa_pipeline.demo_corpus import script_transcript
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.score_batch import select_checklist

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


@pytest.fixture(scope="module")
def set_path(seeds: Path) -> Path:
    return seeds / "adversarial" / "attempts.yaml"


@pytest.fixture(scope="module")
def adversarial(set_path: Path) -> AdversarialSet:
    return load_adversarial_set(set_path)


def test_set_has_the_promised_size(adversarial: AdversarialSet) -> None:
    assert len(adversarial.attempts) >= 36
    assert len(adversarial.clean) >= 20
    russian = [a for a in adversarial.attempts if a.language == "ru"]
    assert len(russian) * 3 >= len(adversarial.attempts)


def test_every_family_in_both_languages_and_from_both_sides(adversarial: AdversarialSet) -> None:
    seen = {(a.family, a.language) for a in adversarial.attempts}
    speakers = {(a.family, a.speaker) for a in adversarial.attempts}
    for family in FAMILIES:
        assert {(family, "en"), (family, "ru")} <= seen, family
        assert {(family, "agent"), (family, "customer")} <= speakers, family
    places = Counter(adversarial.place(a) for a in adversarial.attempts)
    assert set(places) == {"start", "middle", "end"}


def test_lines_are_written_in_their_calls_language(adversarial: AdversarialSet) -> None:
    for line in [*adversarial.attempts, *adversarial.clean]:
        assert bool(CYRILLIC.search(line.text)) == (line.language == "ru"), line.id


def test_each_twin_is_its_attempt_without_the_inserted_line(adversarial: AdversarialSet) -> None:
    lines = {a.id: a for a in adversarial.attempts}
    for pair in adversarial.pairs():
        spoken = [(s.speaker, s.text) for s in pair.attempt.segments]
        inserted = spoken.pop(pair.segment)
        assert inserted == (lines[pair.attempt_id].speaker, lines[pair.attempt_id].text)
        assert spoken == [(s.speaker, s.text) for s in pair.twin.segments], pair.attempt_id
        assert pair.attempt.call_id == pair.attempt_id != pair.twin.call_id


def test_clean_calls_carry_their_line(adversarial: AdversarialSet) -> None:
    calls = list(adversarial.clean_calls())
    assert [c.line_id for c in calls] == [line.id for line in adversarial.clean]
    for call, line in zip(calls, adversarial.clean, strict=True):
        assert call.transcript.segments[call.segment].text == line.text


def test_ids_are_unique(adversarial: AdversarialSet) -> None:
    ids = [c.call_id for c in adversarial.base_calls]
    ids += [line.id for line in [*adversarial.attempts, *adversarial.clean]]
    assert len(ids) == len(set(ids))


def test_every_base_call_builds_and_has_a_checklist(adversarial: AdversarialSet, seeds: Path) -> None:
    checklists = load_checklists([seeds.parent / "checklists"])
    used = {line.call for line in [*adversarial.attempts, *adversarial.clean]}
    assert used == set(adversarial.calls)
    for call in adversarial.base_calls:
        transcript = script_transcript(call)
        assert len(transcript.segments) == sum(t.hold is None for t in call.turns)
        checklist = select_checklist(checklists, transcript)
        assert checklist is not None and checklist.language == call.language, call.call_id


def _broken(set_path: Path, tmp_path: Path, change: str) -> Path:
    data = yaml.safe_load(set_path.read_text(encoding="utf-8"))
    if change == "duplicate id":
        data["clean"][0]["id"] = data["attempts"][0]["id"]
    elif change == "unknown family":
        data["attempts"][0]["family"] = "flattery"
    elif change == "typo in a field":
        data["attempts"][0]["speker"] = data["attempts"][0].pop("speaker")
    elif change == "line past the call's end":
        data["attempts"][0]["after"] = 99
    elif change == "wrong language":
        data["attempts"][0]["language"] = "ru" if data["attempts"][0]["language"] == "en" else "en"
    elif change == "missing base call":
        data["clean"][0]["call"] = "no-such-call"
    path = tmp_path / "attempts.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("duplicate id", "more than once"),
        ("unknown family", "family"),
        ("typo in a field", "speker"),
        ("line past the call's end", "after 99"),
        ("wrong language", "language"),
        ("missing base call", "no-such-call"),
    ],
)
def test_a_broken_set_is_refused_naming_the_file(
    set_path: Path, tmp_path: Path, change: str, message: str
) -> None:
    path = _broken(set_path, tmp_path, change)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_adversarial_set(path)
    assert str(path) in str(caught.value)


def test_a_file_that_is_not_a_set_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "attempts.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid adversarial set"):
        load_adversarial_set(path)
