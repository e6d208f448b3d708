from qa_pipeline.models import Segment, Word
from qa_pipeline.transcription.timings import call_timings, gaps, intersect, merge


def seg(speaker: str, start: float, end: float, flags: list[str] | None = None) -> Segment:
    return Segment(
        speaker=speaker,  # type: ignore[arg-type]
        start=start,
        end=end,
        text="x",
        avg_logprob=-0.2,
        no_speech_prob=0.1,
        compression_ratio=1.0,
        flags=flags or [],
    )


def test_interval_helpers() -> None:
    assert merge([(5, 6), (0, 1), (1.2, 2)], join_gap=0.3) == [(0, 2), (5, 6)]
    assert gaps([(1, 2), (4, 5)], 0, 6) == [(0, 1), (2, 4), (5, 6)]
    assert intersect([(0, 3), (5, 8)], [(2, 6), (7, 9)]) == [(2, 3), (5, 6), (7, 8)]


def test_hand_computed_call() -> None:
    # agent 0-4, customer 3.5-6 (0.5 s overlap: too short to count), silence 6-10 (4 s),
    # agent 10-14 and customer 12.5-15 (1.5 s overtalk), end of call at 16 (1 s: not a silence).
    segments = [seg("agent", 0, 4), seg("customer", 3.5, 6), seg("agent", 10, 14), seg("customer", 12.5, 15)]
    timings = call_timings(segments, duration=16)
    assert timings.talk_time == {"agent": 8.0, "customer": 5.0}
    assert [(s.start, s.end) for s in timings.silences] == [(6, 10)]
    assert timings.silence_total == 4.0
    assert [(o.start, o.end) for o in timings.overtalks] == [(12.5, 14)]
    assert timings.overtalk_total == 1.5


def test_words_give_talk_time_more_precisely_than_segments() -> None:
    segment = seg("agent", 0, 10)
    segment.words = [
        Word(start=0, end=1, word="a", probability=1),
        Word(start=6, end=7, word="b", probability=1),
    ]
    timings = call_timings([segment], duration=10)
    assert timings.talk_time == {"agent": 2.0}
    assert [(s.start, s.end) for s in timings.silences] == [(1, 6)]


def test_hallucinated_text_cannot_hide_a_silence() -> None:
    segments = [seg("agent", 0, 2), seg("agent", 3, 9, ["known_hallucination"]), seg("customer", 10, 12)]
    timings = call_timings(segments, duration=12)
    assert [(s.start, s.end) for s in timings.silences] == [(2, 10)]


def test_mono_calls_report_no_overtalk() -> None:
    timings = call_timings([seg("unknown", 0, 5), seg("unknown", 4, 8)], duration=8)
    assert timings.overtalks == []
    assert timings.talk_time == {"unknown": 8.0}
