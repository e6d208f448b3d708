"""The regression gate on a change whose effect is known: a greeting rule widened to the greetings agents
really say, and one narrowed; the exact McNemar test and Holm's correction against hand-worked values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from workspace_fixture import PASSWORD, signed_in, workspace_app

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.regression_gate import evaluate_change, holm, mcnemar_exact
from qa_pipeline.judging.judge import Judge
from qa_pipeline.models import AudioInfo, Call, CallMetadata, CallTimings, HumanReview, Segment, Transcript
from qa_pipeline.store.database import Store
from qa_pipeline.team.accounts import add_user, make_user

GREETINGS = [
    "Good morning",
    "Good morning",
    "Good morning",
    "Hello",
    "Hello",
    "Good afternoon",
    "Good afternoon",
    "Hi there",
    "Hi there",
    "Welcome",
    "Right",  # the last two greet nobody
    "Yes",
]


def test_mcnemar_and_holm_against_hand_worked_values() -> None:
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    assert mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)
    assert mcnemar_exact(4, 4) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


class NoModel:
    """Every item here is a phrase rule: the judge's model is never asked."""

    name, model_id = "none", "none"


def _checklist(greetings: list[str], version: str) -> Checklist:
    item: dict[str, Any] = {"scope": {"speaker": "agent"}, "method": "phrases", "weight": 50}
    return Checklist.model_validate(
        {
            "id": "gate-test",
            "version": version,
            "language": "en",
            "title": "Gate test",
            "sections": [
                {
                    "id": "all",
                    "title": "All",
                    "items": [
                        {
                            **item,
                            "id": "greeting",
                            "question": "Did the agent greet the customer?",
                            "phrases": {"any": greetings},
                        },
                        {
                            **item,
                            "id": "closing",
                            "question": "Did the agent say goodbye at the end?",
                            "phrases": {"any": ["goodbye"]},
                        },
                    ],
                }
            ],
        }
    )


def _store(path: Path, judge: Judge, live: Checklist) -> Store:
    store = Store(path)
    reviews = []
    for number, greeting in enumerate(GREETINGS):
        call_id = f"gate-{number:02d}"
        lines = [f"{greeting}, this is Sam from support.", "Here is what I found.", "Goodbye."]
        segments = [
            Segment(
                speaker="agent",
                start=4.0 * i,
                end=4.0 * i + 3,
                text=text,
                avg_logprob=-0.1,
                no_speech_prob=0.0,
                compression_ratio=1.0,
            )
            for i, text in enumerate(lines)
        ]
        transcript = Transcript(
            call_id=call_id,
            duration=12.0,
            language="en",
            language_probability=1.0,
            channel_layout="stereo",
            segments=segments,
            timings=CallTimings(talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]),
            model="none",
            options={},
            audio_sha256="0" * 64,
            metadata=CallMetadata(language="en"),
        )
        call = Call(
            call_id=call_id,
            audio_path="none.wav",
            metadata=transcript.metadata,
            audio=AudioInfo(duration=12.0, sample_rate=16000, channels=2, codec="pcm", sha256="0" * 64),
        )
        store.save_transcript(f"key-{call_id}", call, transcript)
        card, _ = judge.score(live, transcript)
        store.save_scorecard(f"card-{call_id}", card)
        greeted = "no" if greeting in ("Right", "Yes") else "yes"
        for item_id, answer in (("greeting", greeted), ("closing", "yes")):
            reviews.append(
                HumanReview(
                    call_id=call_id,
                    checklist_id="gate-test",
                    item_id=item_id,
                    reviewer="ctl.ann",
                    answer=answer,
                )
            )  # type: ignore[arg-type]
    store.save_reviews(reviews)
    return store


def test_a_widened_rule_is_accepted_on_evidence_and_a_narrowed_one_is_not_called_proven(
    tmp_path: Path,
) -> None:
    judge = Judge(NoModel(), mode="scorecard", guard=False)  # type: ignore[arg-type]
    live = _checklist(["good morning"], "1")
    store = _store(tmp_path / "qa.sqlite", judge, live)

    wider = _checklist(["good morning", "good afternoon", "hello", "hi there", "welcome"], "2")
    report = evaluate_change(store, [wider], judge, tmp_path / "gate-wider.jsonl")
    by_item = {i.item_id: i for i in report.items}
    greeting = by_item["greeting"]
    # live: right on the 3 "good morning" calls and the 2 non-greetings; wider: right on all 12
    assert (greeting.calls, greeting.old_only, greeting.new_only) == (12, 0, 7)
    assert greeting.old_agreement == pytest.approx(5 / 12) and greeting.new_agreement == 1.0
    assert greeting.p_value == pytest.approx(2 / 128)
    assert greeting.verdict == "better" and by_item["closing"].verdict == "same"
    assert report.decision == "accept" and (report.rescored, report.reused) == (12, 0)
    [kept] = store.gate_reports()  # for the workspace's page
    assert kept["checklists"] == ["gate-test v2"] and kept["report"]["decision"] == "accept"
    add_user(store, make_user("sue", "supervisor", teams=["billing"]), PASSWORD)
    client, _ = signed_in(workspace_app(store), "sue")
    page = client.get("/evaluate").text
    assert "gate-test v2" in page and "<b>accept</b>" in page and "better" in page

    # resumable: a second run rescoring nothing, even with a line cut short by a kill
    with (tmp_path / "gate-wider.jsonl").open("a") as cache:
        cache.write('{"key": "cut sh')
    again = evaluate_change(store, [wider], judge, tmp_path / "gate-wider.jsonl")
    assert (again.rescored, again.reused) == (0, 12) and again.items == report.items

    # narrower: wrong on the 3 "good morning" calls; 3 discordant pairs cannot prove anything (p = 0.25)
    narrower = _checklist(["hello"], "3")
    worse = evaluate_change(store, [narrower], judge, tmp_path / "gate-narrower.jsonl")
    greeting = next(i for i in worse.items if i.item_id == "greeting")
    assert (greeting.old_only, greeting.new_only) == (3, 2)
    assert greeting.verdict == "no evidence" and worse.decision == "no evidence"
    assert "could be chance" in worse.reason


def test_the_evaluate_command_prints_the_gate_and_exits_by_its_decision(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from qa_pipeline.cli import app

    judge = Judge(NoModel(), mode="scorecard", guard=False)  # type: ignore[arg-type]
    store = _store(tmp_path / "qa.sqlite", judge, _checklist(["good morning"], "1"))
    wider = tmp_path / "wider.yaml"
    wider.write_text(
        yaml.safe_dump(
            _checklist(["good morning", "good afternoon", "hello", "hi there", "welcome"], "2").model_dump(
                mode="json", exclude_none=True
            )
        )
    )
    args = [
        "evaluate",
        "--checklist",
        str(wider),
        "--store",
        store.url,
        "--backend",
        "llama",
        "--model",
        "bundled:smollm2",
        "--cache",
        str(tmp_path / "rescored.jsonl"),
    ]
    accepted = CliRunner().invoke(app, args)
    assert accepted.exit_code == 0, accepted.output
    assert "decision: accept" in accepted.output
    assert any(line.split()[:4] == ["greeting", "12", "42%", "100%"] for line in accepted.output.splitlines())
    narrower = tmp_path / "narrower.yaml"
    narrower.write_text(yaml.safe_dump(_checklist(["hello"], "3").model_dump(mode="json", exclude_none=True)))
    report = CliRunner().invoke(app, [*args[:2], str(narrower), *args[3:], "--json"])
    assert report.exit_code == 1
    assert '"decision": "no evidence"' in report.stdout
