"""Speakers of mono recordings: real speech mixed from stereo calls, whose channels hold the truth."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_audio, typed_transcript, write_wav

from qa_pipeline.checklist import load_checklist
from qa_pipeline.judging.judge import Judge
from qa_pipeline.models import CallMetadata, Diarization, Segment, Word
from qa_pipeline.transcription.audio import SAMPLE_RATE, decode_call
from qa_pipeline.transcription.diarization import (
    SpeakerTurns,
    WordSlot,
    opening_speaker,
    speaker_turns,
    split_segments,
    word_slots,
)
from qa_pipeline.transcription.ingest import CallSource, probe_call
from qa_pipeline.transcription.speaker_encoder import SpeakerEncoder, encoder_available, mel_frames
from qa_pipeline.transcription.speaker_roles import agent_speaker
from qa_pipeline.transcription.speakers import find_speakers
from qa_pipeline.transcription.timings import call_timings, intersect, merge, total
from qa_pipeline.transcription.transcribe import TranscribeOptions, Transcriber
from qa_pipeline.transcription.voice_activity import speech_regions

needs_encoder = pytest.mark.skipif(
    not encoder_available(), reason="resemblyzer (the voice encoder) not installed"
)


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder("cpu")


@pytest.fixture(scope="module")
def plain_tiny() -> Transcriber:
    """tiny.en with diarization off: the words of a mono mix, unlabelled, for find_speakers to label."""
    return Transcriber(
        TranscribeOptions(whisper_model="bundled:tiny.en", device="cpu", language="en", diarize=False)
    )


def _channels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    left, right = decode_call(path, 2).channels
    return left, right


def _louder_channel(start: float, end: float, left: np.ndarray, right: np.ndarray) -> int:
    a, b = int(start * SAMPLE_RATE), max(int(start * SAMPLE_RATE) + 1, int(end * SAMPLE_RATE))
    return 0 if np.mean(np.square(left[a:b])) >= np.mean(np.square(right[a:b])) else 1


def _mono_words(
    tmp_path: Path, transcriber: Transcriber, mono: np.ndarray, name: str
) -> tuple[np.ndarray, list[Segment]]:
    path = write_wav(tmp_path / f"{name}.wav", mono, SAMPLE_RATE)
    transcript = transcriber.transcribe(probe_call(CallSource(name, path, CallMetadata(language="en"))))
    assert {s.speaker for s in transcript.segments} == {"unknown"}
    return decode_call(path, 1).channels[0], transcript.segments


@needs_encoder
def test_a_mono_mix_of_a_stereo_call_gets_both_speakers_back_with_their_roles(
    seeds: Path, tmp_path: Path, plain_tiny: Transcriber, encoder: SpeakerEncoder
) -> None:
    left, right = _channels(seeds / "audio" / "en01_billing_exemplary.ogg")  # agent on the left
    audio, unlabelled = _mono_words(tmp_path, plain_tiny, (left + right) / 2, "en01_mono")
    segments, diarization = find_speakers(audio, unlabelled, encoder, (2, 2), CallMetadata())

    words = [(w, s.speaker) for s in segments for w in s.words]
    truth = [("agent", "customer")[_louder_channel(w.start, w.end, left, right)] for w, _ in words]
    right_words = sum(1 for (_, said_by), true in zip(words, truth, strict=True) if said_by == true)
    assert right_words / len(words) >= 0.9
    assert diarization.speakers == 2 and diarization.agent == 0 and not diarization.doubts
    assert len(segments) > len(unlabelled)  # segments that held both voices were cut
    # Talk time comes per speaker, as for stereo calls.
    assert {"agent", "customer"} <= {s.speaker for s in segments}


@needs_encoder
def test_one_voice_stays_one_speaker_when_one_is_allowed(
    seeds: Path, tmp_path: Path, plain_tiny: Transcriber, encoder: SpeakerEncoder
) -> None:
    left, _ = _channels(seeds / "audio" / "en01_billing_exemplary.ogg")
    audio, unlabelled = _mono_words(tmp_path, plain_tiny, left, "en01_agent_only")
    segments, diarization = find_speakers(audio, unlabelled, encoder, (1, 2), CallMetadata())
    assert diarization.speakers == 1
    assert len({s.speaker for s in segments}) == 1
    assert {s.speaker for s in segments} == {"agent"}  # "thank you for calling ..., how can I help"


@needs_encoder
def test_a_real_recording_of_one_speaker_stays_one_speaker(
    base_transcriber: Transcriber, encoder: SpeakerEncoder
) -> None:
    path = shared_audio("ru_tone_long.flac")  # one side of a real Russian bank call, 8 kHz
    plain = Transcriber(base_transcriber.options.model_copy(update={"diarize": False}))
    plain.__dict__["model"] = base_transcriber.model
    transcript = plain.transcribe(probe_call(CallSource("ru_tone_long", path)))
    audio = decode_call(path, 1).channels[0]
    segments, diarization = find_speakers(audio, transcript.segments, encoder, (1, 2), CallMetadata())
    assert diarization.speakers == 1
    assert len({s.speaker for s in segments}) == 1


@needs_encoder
def test_overtalk_does_not_make_a_third_speaker(
    seeds: Path, tmp_path: Path, plain_tiny: Transcriber, encoder: SpeakerEncoder
) -> None:
    """The customer's channel moved 1.5 s earlier, so their words run into the agent's."""
    left, right = _channels(seeds / "audio" / "en01_billing_exemplary.ogg")
    shift = int(1.5 * SAMPLE_RATE)
    overlapped = left + np.concatenate([right[shift:], np.zeros(shift, dtype=np.float32)])
    audio, unlabelled = _mono_words(tmp_path, plain_tiny, overlapped / 2, "en01_overtalk")
    segments, diarization = find_speakers(audio, unlabelled, encoder, (2, 3), CallMetadata())
    assert diarization.speakers == 2
    assert {s.speaker for s in segments} == {"agent", "customer"}


@needs_encoder
def test_the_transcriber_finds_speakers_of_mono_calls_and_keys_them(
    seeds: Path, tmp_path: Path, tiny_transcriber: Transcriber
) -> None:
    left, right = _channels(seeds / "audio" / "en02_no_greeting.ogg")
    path = write_wav(tmp_path / "mono.wav", (left + right) / 2, SAMPLE_RATE)
    call = probe_call(CallSource("mono", path))
    transcript = tiny_transcriber.transcribe(call)
    assert transcript.channel_layout == "mono"
    assert transcript.diarization is not None and transcript.diarization.speakers == 2
    assert {s.speaker for s in transcript.segments} == {"agent", "customer"}
    assert transcript.timings.talk_time.keys() == {"agent", "customer"}
    # How speakers are found is part of a mono call's cache key, and of no stereo call's.
    assert tiny_transcriber.options_for(call)["diarization"]["speakers"] == [2, 2]
    stereo = probe_call(CallSource("stereo", seeds / "audio" / "en02_no_greeting.ogg"))
    assert "diarization" not in tiny_transcriber.options_for(stereo)
    off = Transcriber(tiny_transcriber.options.model_copy(update={"diarize": False}))
    assert off.options_for(call)["diarization"] is None


def test_features_are_resemblyzers_mel_spectrogram_shape() -> None:
    """25 ms windows every 10 ms, 40 bands, centred: one frame per 160 samples plus one."""
    one_second = np.random.default_rng(0).normal(0, 0.1, SAMPLE_RATE).astype(np.float32)
    frames = mel_frames(one_second)
    assert frames.shape == (101, 40)
    assert (frames >= 0).all()
    # A 1 kHz tone puts its energy in the bands around 1 kHz, not at the ends.
    tone = np.sin(2 * np.pi * 1000 * np.arange(SAMPLE_RATE) / SAMPLE_RATE).astype(np.float32)
    assert 10 < int(np.argmax(mel_frames(tone).mean(axis=0))) < 25


def _segment(words: list[tuple[float, str]]) -> Segment:
    return Segment(
        speaker="unknown",
        start=words[0][0],
        end=words[-1][0] + 0.3,
        text="".join(w for _, w in words).strip(),
        words=[Word(start=t, end=t + 0.3, word=w, probability=0.9) for t, w in words],
        avg_logprob=-0.2,
        no_speech_prob=0.01,
        compression_ratio=1.2,
    )


def test_a_segment_is_cut_where_its_words_change_speaker() -> None:
    segments = [_segment([(0.0, " Hello,"), (0.4, " how"), (0.8, " can"), (1.2, " I"), (1.6, " help?")]),
                _segment([(2.5, " My"), (2.9, " card"), (3.3, " is"), (3.7, " blocked.")])]  # fmt: skip
    slots = word_slots(segments)
    turns = SpeakerTurns(slots, [0, 0, 0, 1, 1, 1, 1, 1, 1], [1.0] * 9, 2, 0.3, False)
    result = split_segments(segments, turns, ["agent", "customer"])
    assert [(s.speaker, s.text) for s in result] == [
        ("agent", "Hello, how can"),
        ("customer", "I help?"),
        ("customer", "My card is blocked."),
    ]
    assert (result[1].start, result[1].end) == pytest.approx((1.2, 1.9))  # times from the words
    assert all(len({w.start for w in s.words}) == len(s.words) for s in result)
    assert isinstance(slots[0], WordSlot)


def test_speech_regions_are_cut_between_the_words_of_two_speakers() -> None:
    segments = [_segment([(0.0, " Hello,"), (0.4, " how"), (0.8, " can"), (1.2, " I"), (1.6, " help?")]),
                _segment([(2.5, " My"), (2.9, " card")])]  # fmt: skip
    slots = word_slots(segments)
    turns = SpeakerTurns(slots, [0, 0, 0, 0, 0, 1, 1], [1.0] * 7, 2, 0.3, False)
    # one region holds both people (no pause the detector heard), a later one holds no word at all
    regions = [(0.0, 3.3), (5.0, 5.4)]
    assert speaker_turns(regions, turns) == [
        (0.0, pytest.approx((1.9 + 2.5) / 2), 0),  # halfway between "help?" and "My"
        (pytest.approx(2.2), 3.3, 1),
        (5.0, 5.4, 1),  # a "mm" Whisper did not write goes to the nearest word's speaker
    ]


def test_one_misheard_hello_does_not_decide_who_opened_the_call() -> None:
    segments = [
        _segment([(0.0, " Hello."), (0.8, " Hello.")]),
        _segment([(1.6, " Oh,"), (2.0, " hello,"), (2.4, " I"), (2.8, " didn't"), (3.2, " know")]),
    ]
    slots = word_slots(segments)
    # the first "hello" was given to the second voice, which then speaks few of the opening words
    turns = SpeakerTurns(slots, [0, 0, 1, 1, 1, 1, 1], [1.0] * 7, 2, 0.3, False)
    assert opening_speaker(turns) == 1
    roles = agent_speaker(
        ["Hello. Hello.", "Oh, hello, I didn't know"], CallMetadata(), opening_speaker(turns)
    )
    assert roles.agent == 1 and roles.reason == "first speaker"


@pytest.mark.parametrize(
    ("texts", "agent"),
    [
        (["Hello?", "Thank you for calling Northwind, my name is Anna, how can I help?"], 1),
        (
            [
                "Добрый день, компания Ромашка, меня зовут Ирина, чем могу помочь?",
                "Здравствуйте, у меня проблема",
            ],
            0,
        ),
        (
            [
                "Hi, I'm calling about my bill, it doesn't work",
                "Let me check that for you, may I have your number",
            ],
            1,
        ),
    ],
)
def test_the_agent_is_who_talks_like_one(texts: list[str], agent: int) -> None:
    roles = agent_speaker(texts, CallMetadata())
    assert roles.agent == agent
    assert roles.confidence >= 0.6


def test_with_no_cues_the_first_speaker_is_the_agent_but_not_for_sure() -> None:
    roles = agent_speaker(["Hello.", "Hello."], CallMetadata())
    assert roles.agent == 0 and roles.reason == "first speaker" and roles.confidence < 0.7


def test_a_manifest_that_knows_the_layout_decides() -> None:
    texts = ["Thank you for calling, how can I help?", "I'm calling about my card"]
    roles = agent_speaker(texts, CallMetadata(agent_speaker="second"))
    assert roles.agent == 1 and roles.confidence == 1.0 and roles.reason == "manifest"


def test_the_manifest_column_agent_speaker_is_read(tmp_path: Path, seeds: Path) -> None:
    import shutil

    from qa_pipeline.transcription.ingest import discover_inputs

    shutil.copy(seeds / "audio" / "en01_billing_exemplary.ogg", tmp_path / "c1.ogg")
    manifest = tmp_path / "calls.csv"
    manifest.write_text("call_id,path,agent_speaker\nc1,c1.ogg,second\n", encoding="utf-8")
    (source,) = discover_inputs([manifest]).sources
    assert source.metadata.agent_speaker == "second"
    bad = tmp_path / "bad.csv"
    bad.write_text("call_id,path,agent_speaker\nc1,c1.ogg,third\n", encoding="utf-8")
    found = discover_inputs([bad])
    assert not found.sources and "agent_speaker" in str(found.problems)


def test_speaker_scoped_items_go_to_people_when_the_speakers_are_in_doubt(seeds: Path) -> None:
    """Rules and routing alone, no model: items that judge the agent's words go to people, the others not."""

    class NoModel:
        name, model_id = "none", "none"

    checklist = load_checklist(seeds.parent / "checklists" / "inbound-service-en.yaml")
    transcript = typed_transcript(
        ("agent", "Thank you for calling, my name is Anna, how can I help?"),
        ("customer", "My bill is wrong."),
    ).model_copy(update={"channel_layout": "mono"})
    judge = Judge(NoModel(), mode="scorecard")  # type: ignore[arg-type]
    found = Diarization(
        method="m", speakers=2, separation=0.3, agent=0, role_confidence=0.9, role_reason="cues"
    )
    sure = transcript.model_copy(update={"diarization": found})
    doubtful = transcript.model_copy(
        update={"diarization": found.model_copy(update={"doubts": ["speakers"]})}
    )

    decided = judge._plan(checklist, doubtful).decided
    scoped = [item.id for item in checklist.items if item.scope.speaker != "both"]
    assert scoped
    for item_id in scoped:
        assert decided[item_id].needs_human and decided[item_id].flags == ["speakers_uncertain"]
        assert "voices could not be told apart" in decided[item_id].rationale
    assert not any("speakers_uncertain" in v.flags for v in judge._plan(checklist, sure).decided.values())


def test_speakers_option_parses_numbers_and_ranges() -> None:
    import typer

    from qa_pipeline.cli._options import parse_speakers

    assert parse_speakers("2") == (2, 2)
    assert parse_speakers("1-3") == (1, 3)
    for bad in ("0", "3-1", "two", "1-9"):
        with pytest.raises(typer.BadParameter):
            parse_speakers(bad)


class RolesOnly:
    """A backend that labels lines as told and records what it was shown."""

    name, model_id = "roles", "roles"

    def __init__(self, roles: list[str]) -> None:
        self.roles = roles
        self.shown: list[str] = []

    def generate(self, prompt: object, attempt: int = 0) -> object:
        import json

        from qa_pipeline.judging.confidence import Generation

        self.shown.append(json.dumps(prompt.messages, ensure_ascii=False))  # type: ignore[attr-defined]
        return Generation(text=json.dumps({"roles": self.roles}), token_offsets=[], alternatives=lambda _: [])


def _in_role_doubt() -> object:
    transcript = typed_transcript(
        ("agent", "Hello?"),
        ("customer", "Good morning, Northwind billing, how can I help?"),
        ("agent", "My bill is wrong this month."),
        ("customer", "Let me check that for you."),
    ).model_copy(update={"channel_layout": "mono"})
    found = Diarization(
        method="m", speakers=2, separation=0.3, agent=0, role_confidence=0.55, role_reason="first speaker"
    )
    return transcript.model_copy(update={"diarization": found.model_copy(update={"doubts": ["roles"]})})


def test_the_judge_breaks_a_role_tie_by_labelling_lines_it_is_not_told() -> None:
    transcript = _in_role_doubt()
    backend = RolesOnly(["customer", "agent", "customer", "agent"])
    settled = Judge(backend).label_speakers(transcript)  # type: ignore[arg-type]
    assert [s.speaker for s in settled.segments] == ["customer", "agent", "customer", "agent"]
    assert settled.diarization is not None
    assert settled.diarization.doubts == [] and settled.diarization.agent == 1
    assert settled.diarization.role_reason.startswith("judge")
    assert "1. [0.0] Hello?" in backend.shown[0]  # lines bare: the voices' labels are not shown


def test_a_split_vote_leaves_the_roles_in_doubt() -> None:
    transcript = _in_role_doubt()
    settled = Judge(RolesOnly(["agent", "agent", "customer", "customer"])).label_speakers(transcript)  # type: ignore[arg-type]
    assert settled is transcript
    assert settled.diarization is not None and settled.diarization.doubts == ["roles"]


@needs_encoder
def test_a_real_phone_conversation_mixed_to_mono_gets_its_two_speakers_back(
    base_transcriber: Transcriber, encoder: SpeakerEncoder, tmp_path: Path
) -> None:
    """pyannote.audio's 30 s two-person phone call (its wheel, from PyPI), 8 kHz, one speaker per channel,
    mixed to mono. The conversation has no agent, so only who said which word is checked (the benchmark's
    test set measured 86% of words on it; this guards against falling far below)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from phone_call import real_phone_call

    from qa_pipeline.transcription.whisper_models import cache_root

    fetched = real_phone_call(cache_root())
    if fetched is None:
        pytest.skip("the pyannote.audio wheel could not be fetched from PyPI")
    left, right = _channels(fetched[0])
    path = write_wav(tmp_path / "phone_mono.wav", (left + right) / 2, SAMPLE_RATE)
    plain = Transcriber(base_transcriber.options.model_copy(update={"diarize": False, "language": "en"}))
    plain.__dict__["model"] = base_transcriber.model
    transcript = plain.transcribe(probe_call(CallSource("phone", path)))
    audio = decode_call(path, 1).channels[0]
    segments, diarization = find_speakers(audio, transcript.segments, encoder, (2, 2), CallMetadata())
    words = [(w, s.speaker) for s in segments for w in s.words]
    truth = [_louder_channel(w.start, w.end, left, right) for w, _ in words]
    counts = {
        (said_by, true): sum(1 for (_, s), t in zip(words, truth, strict=True) if (s, t) == (said_by, true))
        for said_by in ("agent", "customer")
        for true in (0, 1)
    }
    best = max(counts[("agent", 0)] + counts[("customer", 1)], counts[("agent", 1)] + counts[("customer", 0)])
    assert diarization.speakers == 2
    assert best / len(words) >= 0.8
    # No cues: the agent is whoever opened the call, the left channel (the first to speak).
    assert counts[("agent", 0)] > counts[("agent", 1)]
    # Speaker turns: one speaker at a time over what the voice-activity model heard, covering nearly all
    # of what each channel holds on its own; talk time is measured on them.
    heard = merge(speech_regions(left) + speech_regions(right))
    turns = [(t.start, t.end) for t in diarization.turns]
    assert all(end <= following for (_, end), (following, _) in pairwise(turns))
    assert total(intersect(heard, merge(turns))) / total(heard) >= 0.95
    timings = call_timings(segments, transcript.duration, diarization.turns)
    speech = total(merge(turns))  # talk time joins a speaker's turns across pauses under half a second
    assert speech <= sum(timings.talk_time.values()) <= speech * 1.05
