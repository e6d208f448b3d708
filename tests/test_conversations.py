"""Conversations imported as text: bad lines by line number, ids that stay one conversation, scoring
without times, and the report, exports and redact-audio on calls that have no recording.

The LLM items are answered by the scripted item backend of test_manipulation.py: these tests check what
rules, windows and timing do on text, not what a model says about it."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import typed_transcript
from test_manipulation import ScriptedItems
from typer.testing import CliRunner

from qa_pipeline.checklist import Checklist, load_checklist
from qa_pipeline.cli import app
from qa_pipeline.conversations import conversation_files, import_conversations
from qa_pipeline.judging.judge import Judge
from qa_pipeline.models import AudioInfo, Call, Transcript
from qa_pipeline.redaction.muting import mute_recordings
from qa_pipeline.report import write_html_report
from qa_pipeline.report.data import build_report
from qa_pipeline.report.exports import export_tables
from qa_pipeline.store.database import Store

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "seeds" / "conversations" / "chats.jsonl"
CHECKLISTS = {
    c.language: c for c in (load_checklist(p) for p in sorted((REPO / "checklists").glob("*.yaml")))
}
runner = CliRunner()


def line(call_id: str = "chat-1", **changes: Any) -> dict[str, Any]:
    conversation: dict[str, Any] = {
        "call_id": call_id,
        "channel": "chat",
        "language": "en",
        "metadata": {"agent": "Anna Clarke", "company": "Northwind Energy", "customer_id": "NW-1"},
        "turns": [
            {"speaker": "agent", "text": "Hello, Northwind Energy, Anna speaking. How can I help?"},
            {"speaker": "customer", "text": "My bill is wrong."},
        ],
    }
    return conversation | changes


def write_lines(path: Path, *lines: dict[str, Any] | str) -> Path:
    text = "".join(
        (entry if isinstance(entry, str) else json.dumps(entry, ensure_ascii=False)) + "\n" for entry in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


def judge() -> Judge:
    """Rules as shipped, a scripted model; the manipulation guard's e5 model is test_manipulation's
    subject and here would only cost a minute of CPU."""
    return Judge(ScriptedItems(lambda text, key: 0.9), thresholds={}, guard=False)


def test_bad_lines_are_reported_with_their_line_and_the_others_import(tmp_path: Path) -> None:
    turns = line()["turns"]
    source = write_lines(
        tmp_path / "chats.jsonl",
        "\ufeff" + json.dumps(line("good-1")),  # a BOM from a Windows export: still line 1 and good
        json.dumps(line("truncated"))[:60],
        line("wrong-types", turns=[{"speaker": "agent", "text": "Hi", "start": "5", "end": 6}]),
        line("extra-field", priority="high"),
        line("extra-meta", metadata={"agnet": "typo"}),
        line("sms", channel="sms"),
        line("no-turns", turns=[]),
        line("bot", turns=[{"speaker": "bot", "text": "Hi"}]),
        line("backwards", turns=[{"speaker": "agent", "text": "Hi", "start": 5.0, "end": 2.0}]),
        "",
        line("some-times", turns=[{**turns[0], "start": 0.0, "end": 3.0}, turns[1]]),
        line("../escape"),
        line("klingon", language="tlh"),
        line("empty-text", turns=[{"speaker": "agent", "text": "  "}]),
        line("clash", turns=turns[:1]),
        line("clash"),
        line("twice"),
        line("twice"),
        line("good-2", channel="email"),
        "[1, 2, 3]",
    )
    store = Store(tmp_path / "qa.sqlite")
    result = import_conversations([source], store)

    reasons = {problem.source.rsplit(":", 1)[1]: problem.reason for problem in result.problems}
    assert all(problem.source.startswith(f"{source}:") for problem in result.problems)
    assert "Invalid JSON" in reasons["2"]
    assert "turns.0.start: Input should be a valid number" in reasons["3"]
    assert "priority: Extra inputs are not permitted" in reasons["4"]
    assert "metadata.agnet: Extra inputs are not permitted" in reasons["5"]
    assert reasons["6"].startswith("channel: Input should be 'voice', 'chat' or 'email'")
    assert "turns: List should have at least 1 item" in reasons["7"]
    assert "turns.0.speaker: Input should be 'agent' or 'customer'" in reasons["8"]
    assert "end 2 is before start 5" in reasons["9"]
    assert "10" not in reasons  # a blank line is no conversation and no problem
    assert "turns 2 have no times while others do" in reasons["11"]
    assert reasons["12"].startswith("call_id: call_id '../escape' must be")
    assert "'tlh' is not a Whisper language code" in reasons["13"]
    assert "text is empty" in reasons["14"]
    assert "also the id of another conversation at" in reasons["15"] and f"{source}:16" in reasons["15"]
    assert f"{source}:15" in reasons["16"]
    assert reasons["18"] == f"the same conversation as {source}:17; imported once"
    assert "Input should be an object" in reasons["20"]
    assert {"1", "17", "19"}.isdisjoint(reasons)
    assert (result.imported, result.unchanged) == (3, 0)
    assert {t.call_id for t in store.transcripts()} == {"good-1", "twice", "good-2"}


def test_a_folder_means_its_jsonl_files_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_lines(folder / "b.jsonl", line("b"))
    write_lines(folder / "a.jsonl", line("a"))
    (folder / "notes.txt").write_text("not a conversation")
    (tmp_path / "empty").mkdir()
    files, problems = conversation_files([folder, tmp_path / "empty", tmp_path / "missing.jsonl"])
    assert files == [folder / "a.jsonl", folder / "b.jsonl"]
    assert [(p.source, p.reason) for p in problems] == [
        (str(tmp_path / "empty"), "folder holds no .jsonl files"),
        (str(tmp_path / "missing.jsonl"), "no such file or folder"),
    ]


def test_an_imported_chat_is_a_text_transcript_without_times(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    assert import_conversations([DEMO], store).imported == 6
    transcripts = {t.call_id: t for t in store.transcripts()}
    chat = transcripts["chat-en01-exemplary"]
    assert (chat.channel, chat.channel_layout, chat.timed, chat.duration) == ("chat", "text", False, 0.0)
    assert chat.metadata.customer_id == "NW-104233" and chat.metadata.language == "en"
    assert chat.model == "import" and chat.options == {} and len(chat.audio_sha256) == 64
    assert [s.speaker for s in chat.segments[:3]] == ["agent", "customer", "agent"]
    assert chat.timings.talk_time == {} and chat.timings.silences == []
    voice = transcripts["voice-en01-telephony"]
    assert voice.timed and voice.duration == 65.9
    assert voice.timings.silences and max(s.end - s.start for s in voice.timings.silences) > 15
    assert store.call_records()["chat-en01-exemplary"]["audio_path"] == ""


def test_importing_the_same_file_again_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    source = write_lines(tmp_path / "c.jsonl", line("a"), line("b"))
    assert import_conversations([source], store).imported == 2
    before = list(store.transcripts())
    again = import_conversations([source], store)
    assert (again.imported, again.unchanged, again.problems) == (0, 2, [])
    assert list(store.transcripts()) == before
    # A corrected label is the same conversation: stored without asking, under the same content hash.
    relabelled = line("a", metadata={"agent": "Anna Clark", "company": "Northwind Energy"})
    fixed = import_conversations([write_lines(tmp_path / "c.jsonl", relabelled, line("b"))], store)
    assert (fixed.imported, fixed.unchanged, fixed.problems) == (1, 1, [])
    [current] = store.transcripts(["a"])
    assert current.metadata.agent == "Anna Clark" and current.audio_sha256 == before[0].audio_sha256


def test_other_content_under_a_stored_id_is_refused_unless_replaced(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    import_conversations([write_lines(tmp_path / "day1.jsonl", line("a"))], store)
    [first] = store.transcripts(["a"])
    changed = line("a", turns=[{"speaker": "customer", "text": "Where is my parcel?"}])
    day2 = write_lines(tmp_path / "day2.jsonl", changed)

    refused = import_conversations([day2], store)
    assert refused.imported == 0 and refused.taken == ["a"]
    assert [p.source for p in refused.problems] == [f"{day2}:1"]
    assert "already stored for a different conversation or recording" in refused.problems[0].reason
    assert list(store.transcripts(["a"])) == [first]

    replaced = import_conversations([day2], store, replace=True)
    assert (replaced.imported, replaced.problems) == (1, [])
    [current] = store.transcripts(["a"])
    assert current.segments[0].text == "Where is my parcel?" and current.audio_sha256 != first.audio_sha256


def test_a_conversation_cannot_take_a_recorded_calls_id(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    recorded = typed_transcript(("agent", "Hello"))
    audio = AudioInfo(duration=10.0, sample_rate=8000, channels=2, codec="pcm", sha256="0" * 64)
    store.save_transcript("k", Call(call_id="c1", audio_path="c1.wav", audio=audio), recorded)
    result = import_conversations([write_lines(tmp_path / "c.jsonl", line("c1"))], store)
    assert result.taken == ["c1"] and next(store.transcripts(["c1"])).channel == "voice"


def test_timing_items_and_windows_are_na_on_a_chat_while_phrase_rules_work(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    import_conversations([DEMO], store)
    transcripts = {t.call_id: t for t in store.transcripts()}
    card, _ = judge().score(CHECKLISTS["en"], transcripts["chat-en01-exemplary"])
    verdicts = {v.item_id: v for v in card.verdicts}

    for item_id in ("greeting", "closing"):  # phrases looked for in the first / last 30 seconds
        verdict = verdicts[item_id]
        assert (verdict.answer, verdict.needs_human, verdict.source) == ("na", False, "rule")
        assert verdict.flags == ["no_times"] and "has no times" in verdict.rationale
    hold = verdicts["hold_etiquette"]  # its gate holds on the words "on hold"; its phrases need no times
    assert (hold.answer, hold.source) == ("yes", "rule")
    assert hold.rationale == "said 'may i put you on hold'; 'thank you for waiting'"
    assert [e.quote for e in hold.evidence] == ["may i put you on hold", "thank you for waiting"]
    assert all(e.matched and e.start is None and e.end is None for e in hold.evidence)
    assert all(
        v.source == "llm" for v in card.verdicts if v.item_id not in ("greeting", "closing", "hold_etiquette")
    )
    assert card.complete and card.total is not None

    rude, _ = judge().score(CHECKLISTS["en"], transcripts["chat-en02-rude"])
    hold = next(v for v in rude.verdicts if v.item_id == "hold_etiquette")
    assert hold.answer == "no" and hold.rationale.startswith("not said: 'may I place you on hold")

    # A gate that is timing only cannot hold without times: N/A, saying why.
    email, _ = judge().score(CHECKLISTS["en"], transcripts["email-en01-card-replaced"])
    hold = next(v for v in email.verdicts if v.item_id == "hold_etiquette")
    assert hold.answer == "na" and "no times for longest_silence" in hold.rationale

    # The same checklist on the telephony transcript with times measures them.
    voice, _ = judge().score(CHECKLISTS["en"], transcripts["voice-en01-telephony"])
    rules = {v.item_id: v for v in voice.verdicts if v.source == "rule"}
    assert {item: v.answer for item, v in rules.items()} == {
        "greeting": "yes", "hold_etiquette": "yes", "closing": "yes",
    }  # fmt: skip
    assert rules["closing"].evidence[0].start == pytest.approx(62.2)


def test_timing_rules_and_windowed_llm_items_are_na_without_times() -> None:
    checklist = Checklist.model_validate(
        {
            "id": "timed", "version": "1", "language": "en", "title": "Timed",
            "sections": [{"id": "s", "title": "S", "items": [
                {"id": "silence", "question": "No long silence?", "method": "timing",
                 "timing": {"metric": "longest_silence", "max": 30}},
                {"id": "talk", "question": "Did the agent let the customer talk?", "method": "timing",
                 "timing": {"metric": "agent_talk_share", "max": 0.7}},
                {"id": "early", "question": "Did the agent state the reason early?",
                 "scope": {"speaker": "agent", "window": {"first_seconds": 20}}},
                {"id": "polite", "question": "Was the agent polite?"},
            ]}],
        }
    )  # fmt: skip
    chat = typed_transcript(("agent", "Hello, how can I help?"), ("customer", "My bill is wrong."))
    chat = chat.model_copy(update={"timed": False, "channel": "chat", "channel_layout": "text"})
    card, _ = judge().score(checklist, chat)
    answers = {v.item_id: (v.answer, v.flags) for v in card.verdicts}
    assert answers == {
        "silence": ("na", ["no_times"]), "talk": ("na", ["no_times"]),
        "early": ("na", ["no_times"]), "polite": ("yes", []),
    }  # fmt: skip
    assert card.total == 100.0 and card.complete
    # The same lines with times are measured and asked as before.
    timed, _ = judge().score(checklist, typed_transcript(*[(s.speaker, s.text) for s in chat.segments]))
    assert [v.answer for v in timed.verdicts] == ["yes", "yes", "yes", "yes"]


def test_redaction_on_import_goes_by_turns(tmp_path: Path) -> None:
    turns = [
        {"speaker": "agent", "text": "Please tell me the CVV code on the back of the card."},
        {"speaker": "customer", "text": "It is 583"},
        {"speaker": "agent", "text": "Thanks. How many days ago did it happen?"},
        {"speaker": "customer", "text": "583"},  # not the answer to the CVV question
        {"speaker": "customer", "text": "my card is 4111 1111"},
        {"speaker": "customer", "text": "1111 1111"},  # one number over two messages in a row
    ]
    store = Store(tmp_path / "qa.sqlite")
    source = write_lines(tmp_path / "c.jsonl", line("pii", turns=turns))
    assert import_conversations([source], store, redact_pii=True).imported == 1
    [stored] = store.transcripts(["pii"])
    assert [s.text for s in stored.segments][1:] == [
        "It is [secret]", "Thanks. How many days ago did it happen?", "583", "my card is [card]", "[card]",
    ]  # fmt: skip
    assert stored.options == {"redact_pii": True}
    assert import_conversations([source], store, redact_pii=True).unchanged == 1


def test_report_shows_the_channel_and_offers_nothing_to_play_without_times(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    import_conversations([DEMO], store)
    checklists = {c.id: c for c in CHECKLISTS.values()}
    for transcript in list(store.transcripts()):
        card, _ = judge().score(CHECKLISTS[transcript.language], transcript)
        store.save_scorecard(f"card-{transcript.call_id}", card)
    data = build_report(store, checklists)
    views = {c.call_id: c for c in data.calls}
    assert (views["chat-en01-exemplary"].channel, views["chat-en01-exemplary"].timed) == ("chat", False)
    assert views["voice-en01-telephony"].timed and views["voice-en01-telephony"].audio_path is None

    html = write_html_report(data, tmp_path / "report.html").read_text(encoding="utf-8")
    articles = {
        block.split('data-call-id="', 1)[1].split('"', 1)[0]: block for block in html.split("<article")[1:]
    }
    chat = articles["chat-en01-exemplary"]
    assert "chat · " in chat and "imported as text: no recording" in chat
    assert 'class="seek' not in chat and "<audio" not in chat
    assert "e-mail · " in articles["email-ru01-unresolved"]  # the interface is English: 4 of 6 are
    assert 'class="seek"' in articles["voice-en01-telephony"]  # times to show, though nothing to play


def test_exports_name_each_calls_channel(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    import_conversations([DEMO], store)
    recorded = typed_transcript(("agent", "Hello"))
    audio = AudioInfo(duration=10.0, sample_rate=8000, channels=2, codec="pcm", sha256="0" * 64)
    store.save_transcript("k", Call(call_id="c1", audio_path="c1.wav", audio=audio), recorded)
    export_tables(store, {c.id: c for c in CHECKLISTS.values()}, tmp_path / "tables", "csv")
    with (tmp_path / "tables" / "calls.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["call_id"]: row for row in csv.DictReader(handle)}
    assert {call_id: row["channel"] for call_id, row in rows.items()} == {
        "c1": "voice", "chat-en01-exemplary": "chat", "chat-en02-rude": "chat",
        "chat-ru01-exemplary": "chat", "email-en01-card-replaced": "email",
        "email-ru01-unresolved": "email", "voice-en01-telephony": "voice",
    }  # fmt: skip


def test_redact_audio_passes_over_conversations(tmp_path: Path) -> None:
    store = Store(tmp_path / "qa.sqlite")
    import_conversations([DEMO], store)
    paths = {call_id: record["audio_path"] for call_id, record in store.call_records().items()}
    assert mute_recordings(store.transcripts(), paths, tmp_path / "muted") == []


def test_transcripts_stored_before_keep_their_json_and_read_as_timed_voice() -> None:
    """New fields at their defaults stay out of the JSON: it is part of every scorecard's cache key."""
    old = typed_transcript(("agent", "Hello"))
    dumped = old.model_dump(mode="json")
    assert "channel" not in dumped and "timed" not in dumped and "customer_id" not in dumped["metadata"]
    read = Transcript.model_validate(dumped)
    assert (read.channel, read.timed) == ("voice", True)
    chat = old.model_copy(update={"channel": "chat", "timed": False})
    assert Transcript.model_validate_json(chat.model_dump_json()) == chat


def test_cli_imports_reports_bad_lines_and_exits_1(tmp_path: Path) -> None:
    store = str(tmp_path / "qa.sqlite")
    source = write_lines(tmp_path / "c.jsonl", line("a"), '{"call_id": "b", "chann')
    result = runner.invoke(app, ["import-conversations", str(source), "--store", store])
    assert result.exit_code == 1
    assert f"{source}:2: Invalid JSON" in result.output
    assert "1 imported, 0 unchanged, 1 not imported" in result.output

    write_lines(source, line("a"))
    result = runner.invoke(app, ["import-conversations", str(tmp_path), "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"imported": 0, "unchanged": 1, "problems": [], "taken": []}

    write_lines(source, line("a", language="ru"))
    result = runner.invoke(app, ["import-conversations", str(source), "--store", store])
    assert result.exit_code == 1 and "--replace" in result.output
    result = runner.invoke(app, ["import-conversations", str(source), "--store", store, "--replace"])
    assert result.exit_code == 0 and "1 imported" in result.output


def test_calibration_leaves_out_what_a_chat_cannot_have_instead_of_calling_it_stale(tmp_path: Path) -> None:
    from qa_pipeline.control.workflow import agreement_report
    from qa_pipeline.models import HumanReview

    store = Store(tmp_path / "qa.sqlite")
    import_conversations([DEMO], store)
    chat = next(t for t in store.transcripts() if t.call_id == "chat-en01-exemplary")
    checklist = CHECKLISTS["en"]
    card, _ = judge().score(checklist, chat)
    store.save_scorecard("k1", card)
    answers = {"greeting": "yes", "hold_etiquette": "yes"}  # greeting is N/A on the chat (no times)
    store.save_reviews(
        [
            HumanReview(
                call_id=chat.call_id, checklist_id=checklist.id, item_id=item, reviewer="qa.anna", answer=a
            )
            for item, a in answers.items()
        ]
    )
    report = agreement_report(store, {checklist.id: checklist}, reps=50)
    assert report.stale_answers == 0
    assert [i.item_id for i in report.items] == ["hold_etiquette"]
