"""The shipped demo corpus matches its scripts and the promises made about it."""

import csv
from pathlib import Path

from qa_pipeline.demo_corpus import load_scripts
from qa_pipeline.transcription.ingest import probe_audio


def test_corpus_has_the_promised_calls(seeds: Path) -> None:
    scripts = load_scripts(seeds / "scripts")
    languages = [s.language for s in scripts.values()]
    assert languages.count("en") >= 8 and languages.count("ru") >= 4
    with (seeds / "manifest.csv").open(encoding="utf-8") as handle:
        rows = {row["call_id"]: row for row in csv.DictReader(handle)}
    assert rows.keys() == scripts.keys()
    for call_id, script in scripts.items():
        info = probe_audio(seeds / rows[call_id]["path"])
        assert info.channels == 2, call_id
        assert info.sample_rate == script.sample_rate, call_id
        assert 30 <= info.duration <= 90, (call_id, info.duration)
        assert rows[call_id]["agent"] == script.agent
        assert rows[call_id]["language"] == script.language


def test_scripts_encode_passes_and_fails_for_the_same_items(seeds: Path) -> None:
    scripts = load_scripts(seeds / "scripts")
    items = {frozenset(s.expected) for s in scripts.values()}
    assert len(items) == 1, "every script must answer the same checklist items"
    # The corpus exists to show failures too: skipped greeting and identification, rudeness,
    # unresolved problems and wrong information each appear at least once.
    for item in ("greeting", "identification", "no_rudeness", "solution", "correct_information"):
        assert any(s.expected[item] == "no" for s in scripts.values()), item
    assert any(all(v in ("yes", "na") for v in s.expected.values()) for s in scripts.values())
