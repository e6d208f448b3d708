from qa_pipeline.checklist import Scope, Window
from qa_pipeline.judging.evidence import locate_quote
from qa_pipeline.models import CallTimings, Segment, Transcript, Word


def call() -> Transcript:
    words = [("Good", 0.2, 0.5), (" morning,", 0.5, 0.9), (" Northwind", 1.0, 1.5), (" Energy,", 1.5, 1.9)]
    words += [(" my", 2.0, 2.2), (" name", 2.2, 2.4), (" is", 2.4, 2.5), (" Anna.", 2.5, 2.9)]
    greeting = Segment(
        speaker="agent",
        start=0.2,
        end=2.9,
        text="Good morning, Northwind Energy, my name is Anna.",
        words=[Word(start=s, end=e, word=w, probability=0.9) for w, s, e in words],
        avg_logprob=-0.2,
        no_speech_prob=0.01,
        compression_ratio=1.1,
    )
    complaint = greeting.model_copy(
        update={
            "speaker": "customer",
            "start": 3.5,
            "end": 6.0,
            "text": "I was charged twice this month.",
            "words": [],
        }
    )
    return Transcript(
        call_id="c",
        duration=7,
        language="en",
        language_probability=1,
        channel_layout="stereo",
        segments=[greeting, complaint],
        timings=CallTimings(talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]),
        model="m",
        options={},
        audio_sha256="0" * 64,
    )


def test_quote_gets_speaker_and_word_times() -> None:
    evidence = locate_quote("northwind energy, my name is Anna", call())
    assert evidence.matched and evidence.speaker == "agent"
    assert (evidence.start, evidence.end) == (1.0, 2.9)


def test_small_differences_still_match_and_fall_back_to_segment_times() -> None:
    evidence = locate_quote("I was charged twice this month", call())
    assert evidence.matched and evidence.speaker == "customer"
    assert (evidence.start, evidence.end) == (3.5, 6.0)


def test_invented_quote_is_not_evidence() -> None:
    evidence = locate_quote("I will give you a full refund today", call())
    assert not evidence.matched and evidence.start is None
    assert not locate_quote("yes", call()).matched  # too short to tell


def test_a_short_line_inside_a_longer_invented_quote_is_not_evidence() -> None:
    transcript = call()
    short = transcript.segments[1].model_copy(update={"text": "Yes.", "start": 6.2, "end": 6.6})
    transcript = transcript.model_copy(update={"segments": [*transcript.segments, short]})
    evidence = locate_quote("yes I have verified your identity fully", transcript)
    assert not evidence.matched and evidence.match_score is not None and evidence.match_score < 50


def test_a_quote_from_outside_the_item_scope_is_not_evidence() -> None:
    quote = "I was charged twice this month"
    assert locate_quote(quote, call(), Scope(speaker="customer")).matched
    assert not locate_quote(quote, call(), Scope(speaker="agent")).matched  # the customer said it
    greeting = "northwind energy, my name is Anna"
    assert locate_quote(greeting, call(), Scope(window=Window(first_seconds=2))).matched
    assert not locate_quote(greeting, call(), Scope(window=Window(last_seconds=3))).matched


def test_a_one_word_quote_matches_a_whole_word_with_its_times() -> None:
    evidence = locate_quote("Anna", call())
    assert evidence.matched and evidence.speaker == "agent"
    assert (evidence.start, evidence.end) == (2.5, 2.9)
    assert not locate_quote("Ann", call()).matched  # part of a word is not the word
