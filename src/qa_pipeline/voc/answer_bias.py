"""A small model's leaning on a question, measured on a conversation with nothing in it, and divided out.

Asked "was the customer's matter resolved?" about a conversation whose every line is "N/A", the bundled
1.5B model answers "yes" with 0.93 of its probability; asked how the customer felt, "negative" with 0.8.
Whatever a real conversation says is read through that leaning, so most calls come out resolved and
most customers negative. Contextual calibration (Zhao et al., 2021, "Calibrate before use") measures the
leaning once per model, language and prompt on content-free conversations and divides each answer's
probability by it. No labels are involved; which fields it is applied to was chosen on the development
set (seeds/voc/dev): see `extract.CALIBRATED`.
"""

from __future__ import annotations

from collections import defaultdict

from qa_pipeline.judging.backends import ItemBackend
from qa_pipeline.judging.item_prompt import ItemQuestion, build_conversation
from qa_pipeline.models import CallMetadata, CallTimings, Segment, Transcript

FILLERS = ("N/A", "...", "[inaudible]")
FLOOR = 1e-3  # a prior this small would blow an answer up: kept from dividing by almost nothing

Distribution = dict[str | int, float]
_leanings: dict[tuple[str, str, str, tuple[str, ...]], dict[str, Distribution]] = {}


def content_free(language: str, filler: str) -> Transcript:
    segments = [
        Segment(
            speaker="agent" if i % 2 == 0 else "customer",
            start=5.0 * i,
            end=5.0 * i + 4,
            text=filler,
            avg_logprob=0.0,
            no_speech_prob=0.0,
            compression_ratio=1.0,
        )
        for i in range(4)
    ]
    return Transcript(
        call_id="content-free",
        duration=20.0,
        language=language,
        language_probability=1.0,
        channel_layout="stereo",
        segments=segments,
        timings=CallTimings(talk_time={}, silence_total=0, silences=[], overtalk_total=0, overtalks=[]),
        model="none",
        options={},
        audio_sha256="",
        metadata=CallMetadata(language=language),
    )


def leanings(
    backend: ItemBackend, language: str, questions: list[ItemQuestion], prompt: str
) -> dict[str, Distribution]:
    """Per question key, the model's mean answer distribution over the content-free conversations;
    measured once per process for a model, language, prompt and set of questions."""
    key = (str(getattr(backend, "model_id", "?")), language, prompt, tuple(q.text for q in questions))
    if key not in _leanings:
        sums: dict[str, Distribution] = defaultdict(lambda: defaultdict(float))
        for filler in FILLERS:
            conversation = build_conversation(content_free(language, filler), questions, prompt)
            for question, answers in zip(questions, backend.answer_items(conversation), strict=True):
                total = sum(answers.values()) or 1.0
                for answer, p in answers.items():
                    sums[question.key][answer] += p / total / len(FILLERS)
        _leanings[key] = {k: dict(v) for k, v in sums.items()}
    return _leanings[key]


def calibrated(answers: Distribution, leaning: Distribution) -> Distribution:
    """Each answer's probability divided by the model's leaning towards it, renormalised."""
    total = sum(answers.values()) or 1.0
    divided = {a: (p / total) / max(leaning.get(a, FLOOR), FLOOR) for a, p in answers.items()}
    norm = sum(divided.values()) or 1.0
    return {a: v / norm for a, v in divided.items()}
