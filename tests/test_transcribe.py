"""Transcription on real models and real audio: the demo corpus and, where present, shared recordings."""

from pathlib import Path

import numpy as np
import pytest
from conftest import shared_audio, write_wav

from qa_pipeline.demo_corpus import load_script
from qa_pipeline.errors import ModelError
from qa_pipeline.models import Segment, Transcript
from qa_pipeline.transcription.audio import decode_call
from qa_pipeline.transcription.batched_output import is_loop
from qa_pipeline.transcription.guard import is_known_hallucination, normalise
from qa_pipeline.transcription.ingest import CallSource, probe_call
from qa_pipeline.transcription.transcribe import TranscribeOptions, Transcriber, auto_batch_size
from qa_pipeline.transcription.wer import word_error_rate


def transcribe_file(transcriber: Transcriber, path: Path) -> Transcript:
    return transcriber.transcribe(probe_call(CallSource(path.stem, path)))


@pytest.fixture(scope="module")
def exemplary_call(base_transcriber: Transcriber, seeds: Path) -> Transcript:
    return transcribe_file(base_transcriber, seeds / "audio" / "en01_billing_exemplary.ogg")


def test_stereo_call_becomes_agent_and_customer_turns(exemplary_call: Transcript, seeds: Path) -> None:
    script = load_script(seeds / "scripts" / "en01_billing_exemplary.yaml")
    assert exemplary_call.channel_layout == "stereo"
    assert exemplary_call.language == "en"
    assert exemplary_call.segments[0].speaker == "agent"
    assert "northwind" in exemplary_call.segments[0].text.lower().replace(" ", "")
    assert [s.start for s in exemplary_call.segments] == sorted(s.start for s in exemplary_call.segments)
    # Numbers are spoken as words in the script and written as digits by Whisper ("four four seven" vs
    # "447"), which alone costs this call's customer side about 10 points of WER.
    agent_wer = word_error_rate(script.reference_text("agent"), exemplary_call.text_by_speaker("agent"))
    customer_wer = word_error_rate(
        script.reference_text("customer"), exemplary_call.text_by_speaker("customer")
    )
    assert agent_wer < 0.2
    assert customer_wer < 0.25


def test_segments_keep_words_and_asr_confidence(exemplary_call: Transcript) -> None:
    for segment in exemplary_call.segments:
        assert segment.words, segment.text
        assert segment.start - 0.05 <= segment.words[0].start <= segment.words[-1].end <= segment.end + 0.05
        assert segment.avg_logprob < 0 and 0 <= segment.no_speech_prob <= 1
    assert exemplary_call.model.startswith("bundled:base@")
    assert exemplary_call.options["condition_on_previous_text"] is False


def test_hold_shows_up_as_a_long_silence(exemplary_call: Transcript) -> None:
    # The script holds for 6 s after the customer agrees to wait, about 37 s into the call.
    holds = [s for s in exemplary_call.timings.silences if s.end - s.start >= 5]
    assert len(holds) == 1
    assert 30 < holds[0].start < 45
    assert exemplary_call.timings.talk_time["agent"] > exemplary_call.timings.talk_time["customer"]


def test_agent_channel_option_swaps_the_speakers(seeds: Path) -> None:
    swapped = Transcriber(
        TranscribeOptions(whisper_model="bundled:tiny.en", device="cpu", language="en", agent_channel=1)
    )
    transcript = transcribe_file(swapped, seeds / "audio" / "en08_prompt_injection.ogg")
    assert transcript.segments[0].speaker == "customer"
    assert "mobile" in transcript.segments[0].text.lower()  # "Hi, Bluebird Mobile sales, Dan here."


def test_telephone_band_8khz_call_is_transcribed(base_transcriber: Transcriber, seeds: Path) -> None:
    script = load_script(seeds / "scripts" / "en02_no_greeting.yaml")
    transcript = transcribe_file(base_transcriber, seeds / "audio" / "en02_no_greeting.ogg")
    assert script.sample_rate == 8000
    assert transcript.language == "en"
    # Band-limited synthetic speech is hard for the small base model; the bound guards against
    # regressions (a broken resampler or a channel mix-up gives a WER near 1).
    both = script.reference_text("agent") + " " + script.reference_text("customer")
    heard = transcript.text_by_speaker("agent") + " " + transcript.text_by_speaker("customer")
    assert word_error_rate(both, heard) < 0.6


def test_overtalk_in_the_rude_call_is_measured(base_transcriber: Transcriber, seeds: Path) -> None:
    # The agent starts 1.8 s before the customer finishes her sentence.
    transcript = transcribe_file(base_transcriber, seeds / "audio" / "en04_rude_agent.ogg")
    assert len(transcript.timings.overtalks) == 1
    assert 1.0 < transcript.timings.overtalk_total < 2.5


def test_silence_produces_no_invented_text(base_transcriber: Transcriber, tmp_path: Path) -> None:
    noise = np.random.default_rng(7).normal(0, 0.003, 16000 * 20).astype(np.float32)
    path = write_wav(tmp_path / "dead_air.wav", np.stack([noise, noise * 0.5], axis=1), 16000)
    transcript = transcribe_file(base_transcriber, path)
    assert all(s.flags for s in transcript.segments), [s.text for s in transcript.segments]
    assert transcript.timings.silence_total == pytest.approx(transcript.duration, abs=0.1)


def test_identical_channels_are_treated_as_mono(tmp_path: Path) -> None:
    jfk = shared_audio("jfk.flac")
    mono = decode_call(jfk, 1).channels[0]
    path = write_wav(tmp_path / "fake_stereo.wav", np.stack([mono, mono], axis=1), 16000)
    decoded = decode_call(path, 2)
    assert decoded.layout == "mono" and len(decoded.channels) == 1


def test_real_english_speech_with_tiny_en(tiny_transcriber: Transcriber) -> None:
    transcript = transcribe_file(tiny_transcriber, shared_audio("jfk.flac"))
    reference = (
        "And so my fellow Americans, ask not what your country can do for you, "
        "ask what you can do for your country."
    )
    assert transcript.channel_layout == "mono"
    assert word_error_rate(reference, " ".join(s.text for s in transcript.segments)) < 0.15


def test_real_stereo_recording_keeps_speakers_apart(base_transcriber: Transcriber) -> None:
    transcript = transcribe_file(base_transcriber, shared_audio("stereo_diarization.wav"))
    left = (
        "He began a confused complaint against the wizard, who had vanished behind the curtain on the left."
    )
    right = "The horizon seems extremely distant."
    assert word_error_rate(left, transcript.text_by_speaker("agent")) < 0.25
    assert word_error_rate(right, transcript.text_by_speaker("customer")) < 0.25


def test_real_russian_telephone_speech_8khz_mono(base_transcriber: Transcriber) -> None:
    transcript = transcribe_file(base_transcriber, shared_audio("ru_tone_long.flac"))
    assert transcript.language == "ru"
    assert transcript.channel_layout == "mono"
    text = " ".join(s.text for s in transcript.segments).lower()
    assert "кредит" in text and "платеж" in text.replace("ё", "е")
    for segment in transcript.segments:
        if is_known_hallucination(normalise(segment.text)):
            assert "known_hallucination" in segment.flags


def test_unreachable_hub_model_gives_an_actionable_error(seeds: Path) -> None:
    transcriber = Transcriber(TranscribeOptions(whisper_model="large-v3", device="cpu"))
    with pytest.raises(ModelError, match="bundled:base"):
        transcribe_file(transcriber, seeds / "audio" / "en08_prompt_injection.ogg")


def test_batched_and_sequential_decoding_agree_on_real_speech(base_transcriber: Transcriber) -> None:
    """Batched inference is the default (it is faster on CPU too); it keeps word times like sequential."""
    sequential = Transcriber(TranscribeOptions(whisper_model="bundled:base", device="cpu", batch_size=1))
    path = shared_audio("stereo_diarization.wav")
    left = (
        "He began a confused complaint against the wizard, who had vanished behind the curtain on the left."
    )
    assert base_transcriber.batch_size > 1
    for transcriber in (base_transcriber, sequential):
        transcript = transcribe_file(transcriber, path)
        assert transcript.options["batched"] is (transcriber.batch_size > 1)
        assert word_error_rate(left, transcript.text_by_speaker("agent")) < 0.25
        for segment in transcript.segments:
            assert segment.words
            assert segment.start - 0.5 <= segment.words[0].start <= segment.words[-1].end <= segment.end + 0.5


def test_batch_size_follows_device_cores_and_free_memory() -> None:
    gib = 1024**3
    assert auto_batch_size("cuda") == 16
    assert auto_batch_size("cpu", cores=2, free_bytes=20 * gib) == 4
    assert auto_batch_size("cpu", cores=6, free_bytes=20 * gib) == 12
    assert auto_batch_size("cpu", cores=64, free_bytes=20 * gib) == 16
    assert auto_batch_size("cpu", cores=8, free_bytes=gib) == 2  # 512 MiB a chunk
    assert auto_batch_size("cpu", cores=8, free_bytes=gib // 10) == 1  # sequential when memory is short


def test_a_looped_stretch_from_batched_decoding_is_decoded_again(base_transcriber: Transcriber) -> None:
    """Batched inference has no temperature fallback; a looped chunk is decoded again sequentially."""
    path = shared_audio("jfk.flac")
    audio = decode_call(path, 1).channels[0]
    looped = Segment(
        speaker="unknown", start=0.2, end=10.5, text="12" + ",000" * 40,
        avg_logprob=-0.2, no_speech_prob=0.01, compression_ratio=7.5,
    )  # fmt: skip
    fine = looped.model_copy(update={"start": 10.6, "end": 11.0, "text": "country", "compression_ratio": 1.1})
    redone = base_transcriber._redecode_loops(audio, [looped, fine], "unknown", "en")
    assert redone[-1] == fine
    text = " ".join(s.text for s in redone[:-1])
    reference = (
        "And so my fellow Americans, ask not what your country can do for you, "
        "ask what you can do for your country."
    )
    assert word_error_rate(reference, text) < 0.15
    assert all(s.start >= 0.0 and s.end <= 10.5 + 0.31 for s in redone[:-1])
    assert not any(is_loop(s) for s in redone)
