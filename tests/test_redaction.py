"""Personal data out of transcripts, with times kept for muting; on text and on real ASR output."""

from pathlib import Path

import pytest

from qa_pipeline.ingest import CallSource, probe_call
from qa_pipeline.models import CallTimings, Segment, Transcript, Word
from qa_pipeline.redaction import find_personal_data, redact_transcript
from qa_pipeline.transcribe import TranscribeOptions, Transcriber

PHONE_RU = "8 (916) 123 45 67"
SPOKEN_PHONE = "Zero seven seven zero zero, nine zero zero one two three"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("my card is 4276 3800 1234 5679 thanks", [("card", "4276 3800 1234 5679")]),
        ("+7 916 123-45-67 or 8 (916) 123 45 67", [("phone", "+7 916 123-45-67"), ("phone", PHONE_RU)]),
        ("that is 07700 900123", [("phone", "07700 900123")]),
        ("серия и номер паспорта 4510 123456", [("passport", "4510 123456")]),
        ("write to anna.petrova@mail.ru please", [("email", "anna.petrova@mail.ru")]),
        (f"{SPOKEN_PHONE}, and the password", [("phone", SPOKEN_PHONE)]),
        ("account four four seven two one nine", [("number", "four four seven two one nine")]),
        ("077, 00, 9, 00, 01, 2, 3, and the password", [("number", "077, 00, 9, 00, 01, 2, 3")]),  # ASR
        ("flat, 0, 7, 7, 0, 0, 9, 0, 0, 0, 1, 2, 3 and", [("number", "0, 7, 7, 0, 0, 9, 0, 0, 0, 1, 2, 3")]),
        ("лицевой счёт четыре пять один ноль два три", [("number", "четыре пять один ноль два три")]),
        ("it costs 45.50 at 10:30 on the 14th, one two three", []),  # amounts, times, short runs stay
    ],
)  # fmt: skip
def test_personal_data_is_found_in_digits_and_in_spoken_digits(
    text: str, found: list[tuple[str, str]]
) -> None:
    assert [(span.kind, text[span.start : span.end]) for span in find_personal_data(text)] == found


def test_redaction_replaces_words_and_keeps_their_times() -> None:
    spoken = [("My", 1.0), (" card", 1.2), (" is", 1.5), (" 4276", 1.7), (" 3800", 2.1), (" 1234", 2.5)]
    spoken += [(" 5679.", 2.9), (" Thanks.", 3.4)]
    words = [Word(start=t, end=t + 0.3, word=w, probability=0.9) for w, t in spoken]
    segment = Segment(
        speaker="customer",
        start=1.0,
        end=3.7,
        text="My card is 4276 3800 1234 5679. Thanks.",
        words=words,
        avg_logprob=-0.2,
        no_speech_prob=0.01,
        compression_ratio=1.1,
    )
    transcript = Transcript(
        call_id="c",
        duration=4,
        language="en",
        language_probability=1,
        channel_layout="stereo",
        segments=[segment],
        timings=CallTimings(talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]),
        model="m",
        options={},
        audio_sha256="0" * 64,
    )
    redacted = redact_transcript(transcript)
    [line] = redacted.segments
    assert line.text == "My card is [card]. Thanks."
    assert [w.word for w in line.words] == ["My", " card", " is", " [card]", " Thanks."]
    [where] = redacted.redactions
    assert (where.kind, where.speaker) == ("card", "customer")
    assert (where.start, where.end) == pytest.approx((1.7, 3.2))


@pytest.mark.slow
def test_a_phone_number_read_out_in_a_real_call_is_redacted_before_storing(seeds: Path) -> None:
    options = TranscribeOptions(whisper_model="bundled:tiny.en", device="cpu", language="en", redact_pii=True)
    call = probe_call(CallSource("en04_rude_agent", seeds / "audio" / "en04_rude_agent.ogg"))
    transcript = Transcriber(options).transcribe(call)
    assert transcript.options["redact_pii"] is True  # part of the cache key
    assert transcript.redactions and transcript.redactions[0].speaker == "customer"
    text = " ".join(segment.text for segment in transcript.segments)
    assert not find_personal_data(text)  # nothing left to find: "07700 900123" or its spoken digits
    assert "[phone]" in text or "[number]" in text
    mute = transcript.redactions[0]
    assert 0 < mute.start < mute.end < transcript.duration
