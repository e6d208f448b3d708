"""Contextual calibration of VoC answers: a model that says "resolved" about everything, even about a
conversation of "N/A" lines, has that leaning divided out, measured on content-free conversations."""

from __future__ import annotations

from test_voc import _transcript

from qa_pipeline.judging.item_prompt import ItemConversation
from qa_pipeline.voc.answer_bias import FILLERS, calibrated
from qa_pipeline.voc.extract import extract_voc, voc_method
from qa_pipeline.voc.taxonomy import shipped_taxonomies, taxonomy_for

EN = taxonomy_for("en", shipped_taxonomies())


class LeansResolved:
    """Says "yes" to "resolved" with 0.93 about nothing and 0.6 about a real unresolved call."""

    name = "leans"

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.content_free = 0

    def answer_items(self, conversation: ItemConversation) -> list[dict[str | int, float]]:
        empty = (
            any(
                f"{filler}\n" in conversation.shared or conversation.shared.rstrip().endswith(filler)
                for filler in FILLERS
            )
            and "charged twice" not in conversation.shared
        )
        self.content_free += empty
        answers: list[dict[str | int, float]] = []
        for question in conversation.questions:
            if question.key == "resolved":
                answers.append(
                    {"yes": 0.93, "no": 0.05, "partial": 0.02}
                    if empty
                    else {"yes": 0.6, "no": 0.35, "partial": 0.05}
                )
            else:
                answers.append(dict.fromkeys(question.options, 1.0))
        return answers


def test_a_leaning_towards_resolved_is_divided_out() -> None:
    leaning = {"yes": 0.93, "no": 0.05, "partial": 0.02}
    shifted = calibrated({"yes": 0.6, "no": 0.35, "partial": 0.05}, leaning)
    assert max(shifted, key=shifted.__getitem__) == "no"
    assert abs(sum(shifted.values()) - 1) < 1e-9
    assert calibrated({"yes": 0.5, "no": 0.5}, {"yes": 0.5, "no": 0.5}) == {"yes": 0.5, "no": 0.5}


def test_the_leaning_is_measured_once_on_content_free_conversations_and_changes_the_answer() -> None:
    backend = LeansResolved("leans-once")
    raw = extract_voc(_transcript(), EN, backend, calibrate=())
    assert raw.resolved.value == "yes" and backend.content_free == 0
    first = extract_voc(_transcript(), EN, backend, calibrate=("resolved",))
    assert first.resolved.value == "no"
    assert backend.content_free == len(FILLERS)  # one content-free conversation per filler ...
    extract_voc(_transcript("voc-2"), EN, backend, calibrate=("resolved",))
    assert backend.content_free == len(FILLERS)  # ... and only once for this model and language
    assert voc_method(calibrate=("resolved",)) != voc_method(calibrate=())  # the cache key knows
