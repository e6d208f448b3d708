"""The voice-of-the-customer stage with a real small model (SmolLM2 on llama.cpp): rules decide what a
phrase or a timing decides whatever the model says; unsure fields say needs_human; the stage is cached
and resumable; taxonomies are checked like checklists."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.options import JudgeOptions, make_judge_backend
from qa_pipeline.models import AudioInfo, Call, CallMetadata, CallTimings, Segment, Silence, Transcript
from qa_pipeline.report.exports import tables
from qa_pipeline.store.database import Store
from qa_pipeline.voc.extract import extract_voc
from qa_pipeline.voc.stage import extract_store
from qa_pipeline.voc.summary import voc_summary
from qa_pipeline.voc.taxonomy import load_taxonomy, shipped_taxonomies, taxonomy_for

LINES = [
    ("agent", "Thank you for calling Northwind Energy, this is Sam. How can I help?"),
    ("customer", "I'm calling again about my bill, this is the third time. I was charged twice."),
    ("agent", "I am sorry. Please hold while I check."),
    ("customer", "As I said, my account number is four four seven."),
    ("agent", "I will transfer you to billing, they can fix it."),
    (
        "customer",
        "If this is not fixed I will cancel my contract and switch to another supplier, Brightpower.",
    ),
]


def _transcript(call_id: str = "voc-1") -> Transcript:
    segments = [
        Segment(
            speaker=speaker,
            start=10.0 * i,
            end=10.0 * i + 4,
            text=text,
            avg_logprob=-0.1,  # type: ignore[arg-type]
            no_speech_prob=0.0,
            compression_ratio=1.0,
        )
        for i, (speaker, text) in enumerate(LINES)
    ]
    timings = CallTimings(
        talk_time={}, silence_total=95, silences=[Silence(start=24, end=119)], overtalk_total=0, overtalks=[]
    )
    return Transcript(
        call_id=call_id,
        duration=160.0,
        language="en",
        language_probability=1.0,
        channel_layout="stereo",
        segments=segments,
        timings=timings,
        model="none",
        options={},
        audio_sha256="0" * 64,
        metadata=CallMetadata(language="en"),
    )


@pytest.fixture(scope="module")
def small_model():  # type: ignore[no-untyped-def]
    return make_judge_backend(JudgeOptions(backend="llama", model="bundled:smollm2"))


def test_rules_decide_repeat_churn_and_the_moments_of_effort(small_model) -> None:  # type: ignore[no-untyped-def]
    taxonomy = taxonomy_for("en", shipped_taxonomies()).model_copy(update={"competitors": ["Brightpower"]})
    record = extract_voc(_transcript(), taxonomy, small_model)
    assert (record.repeat_contact.value, record.repeat_contact.source) == ("yes", "rule")
    assert "third time" in record.repeat_contact.evidence
    assert (record.churn_risk.value, record.churn_risk.source) == ("yes", "rule")
    assert record.competitors == ["Brightpower"]
    kinds = [m.split(":")[0].split(" ")[0] for m in record.effort_moments]
    assert kinds == ["transferred", "repeated", "held"]
    assert isinstance(record.effort.value, int) and record.effort.value >= 4  # three moments: at least 4
    # what the model decides comes with its confidence; unsure fields are left for a person
    for name in ("reason", "resolved", "sentiment_start", "sentiment_end"):
        field = getattr(record, name)
        assert field.source == "llm" and field.confidence is not None and 0 <= field.confidence <= 1
        assert field.needs_human == (field.confidence < 0.6)
    assert record.reason_path[0] in {r.id for r in taxonomy.reasons} | {"other"}


class _Answers:
    """Answers each question from a table; a question the table does not name gets flat odds."""

    model_id = "scripted"

    def __init__(self, table: dict[str, dict[str | int, float]]) -> None:
        self.table = table

    def answer_items(self, conversation):  # type: ignore[no-untyped-def]
        return [self.table.get(q.key, dict.fromkeys(q.options, 1.0)) for q in conversation.questions]


def _calm_call() -> Transcript:
    """The first two lines only, no hold: no moment of effort for the rules to hear."""
    transcript = _transcript()
    return transcript.model_copy(
        update={
            "segments": transcript.segments[:2],
            "timings": CallTimings(
                talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]
            ),
        }
    )


FLAT_EFFORT: dict[str | int, float] = {1: 0.2, 2: 0.22, 3: 0.27, 4: 0.24, 5: 0.07}  # as the 1.5B answers


@pytest.mark.parametrize(("resolved", "effort"), [("yes", 2), ("partial", 3), ("no", 4)])
def test_an_unclear_effort_answer_gives_way_to_what_the_resolution_implies(
    resolved: str, effort: int
) -> None:
    odds: dict[str | int, float] = {answer: 0.05 for answer in ("yes", "no", "partial")}
    backend = _Answers({"resolved": {**odds, resolved: 0.9}, "effort": FLAT_EFFORT})
    taxonomy = taxonomy_for("en", shipped_taxonomies())
    record = extract_voc(_calm_call(), taxonomy, backend, shortlist_reasons=False, calibrate=())  # type: ignore[arg-type]
    assert record.effort_moments == []
    assert record.effort.value == effort and f"resolved = {resolved}" in record.effort.evidence
    assert not record.effort.needs_human  # as sure as the resolved answer it rests on


def test_a_clear_effort_answer_stands_and_an_unclear_resolution_leaves_effort_to_a_person() -> None:
    taxonomy = taxonomy_for("en", shipped_taxonomies())
    sure = _Answers({"resolved": {"yes": 0.9, "no": 0.05, "partial": 0.05}, "effort": {5: 0.9, 1: 0.1}})
    record = extract_voc(_calm_call(), taxonomy, sure, shortlist_reasons=False, calibrate=())  # type: ignore[arg-type]
    assert record.effort.value == 5 and not record.effort.needs_human
    unsure = _Answers({"resolved": {"yes": 0.4, "no": 0.35, "partial": 0.25}, "effort": FLAT_EFFORT})
    record = extract_voc(_calm_call(), taxonomy, unsure, shortlist_reasons=False, calibrate=())  # type: ignore[arg-type]
    assert record.effort.value == 2 and record.effort.needs_human


def test_the_stage_is_cached_and_says_what_needs_a_person(small_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "qa.sqlite")
    for call_id in ("voc-1", "voc-2"):
        transcript = _transcript(call_id)
        call = Call(
            call_id=call_id,
            audio_path="none.wav",
            metadata=transcript.metadata,
            audio=AudioInfo(
                duration=160.0, sample_rate=16000, channels=2, codec="pcm", sha256=call_id.ljust(64, "0")
            ),
        )
        store.save_transcript(f"key-{call_id}", call, transcript)
    first = list(extract_store(store, shipped_taxonomies(), small_model))
    assert [r.status for r in first] == ["extracted", "extracted"]
    again = list(extract_store(store, shipped_taxonomies(), small_model))
    assert [r.status for r in again] == ["cached", "cached"]
    assert [r.needs_human for r in again] == [r.needs_human for r in first]
    saved = store.voc_records(["voc-1"])[0]
    assert saved["repeat_contact"]["value"] == "yes" and saved["taxonomy"] == "contact-reasons-en@1"
    # the same words, the same answers: one group, both repeat contacts, about the same reason
    summary = voc_summary(store)
    [group] = summary.groups
    assert group.contacts == 2 and group.repeat.value == 1.0 and group.repeat.low is not None
    assert summary.repeat_causes == [("/".join(saved["reason_path"]), 2)]
    rows = dict(tables(store, {}))["voc"]
    assert [(r["call_id"], r["repeat_contact"], r["churn_risk"]) for r in rows] == [
        ("voc-1", "yes", "yes"),
        ("voc-2", "yes", "yes"),
    ]


def test_a_bad_taxonomy_is_refused_with_its_file_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "reasons.yaml"
    head = "id: mine\nversion: '1'\nlanguage: en\nreasons:\n"
    path.write_text(head + "  - {id: billing, label: Bills}\n  - {id: billing, label: Again}\n")
    with pytest.raises(ConfigError, match=r"reasons.yaml: invalid taxonomy: .*billing"):
        load_taxonomy(path)
    path.write_text("id: mine\nversion: '1'\nlanguage: en\nreasons:\n  - {id: other, label: Other}\n")
    with pytest.raises(ConfigError, match="added by itself"):
        load_taxonomy(path)
    assert (
        CliRunner()
        .invoke(app, ["voc", "--taxonomy", str(path), "--store", str(tmp_path / "q.sqlite")])
        .exit_code
        != 0
    )
