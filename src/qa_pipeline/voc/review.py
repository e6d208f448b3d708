"""Human control of the voice of the customer: each VoC field is an item of a checklist that gives no
total, and each conversation's record is a scorecard of it, so sampling, review sheets, the review
page, agreement and the trust map treat the fields exactly as they treat checklist items.

The checklist is made from the taxonomy (`voc.<taxonomy id>`, version = the taxonomy's), so the reasons
a controller may choose are the taxonomy's own; nothing of it counts in an agent's score."""

from __future__ import annotations

from qa_pipeline.checklist import Checklist, Item, Scope, Section
from qa_pipeline.models import Evidence, ItemVerdict, Scorecard
from qa_pipeline.scoring import score_call
from qa_pipeline.voc.extract import VocField, VocRecord
from qa_pipeline.voc.taxonomy import OTHER, Taxonomy

CHECKLIST_PREFIX = "voc."
CUSTOMER = Scope(speaker="customer")


def voc_checklist_id(taxonomy: Taxonomy) -> str:
    return f"{CHECKLIST_PREFIX}{taxonomy.id}"


def voc_checklist(taxonomy: Taxonomy) -> Checklist:
    reasons = [reason.id for reason, _ in taxonomy.walk()] + [OTHER]
    labels = "; ".join(f"{reason.id}: {reason.label}" for reason, _ in taxonomy.walk())
    sentiments = ["negative", "neutral", "positive"]
    items = [
        Item(
            id="reason",
            question="Why did the customer get in touch? The most specific reason that fits.",
            guidance=f"{labels}; {OTHER}: none of these",
            answer="choice",
            choices=reasons,
            scope=CUSTOMER,
        ),
        Item(
            id="resolved",
            question="Was the customer's matter resolved in this contact, by the end of it?",
            answer="choice",
            choices=["yes", "no", "partial"],
        ),
        Item(
            id="repeat_contact",
            question="Had the customer contacted the company before about this same matter?",
            scope=CUSTOMER,
        ),
        Item(
            id="effort",
            question="How much effort did the contact cost the customer, from 1 (none) to 5 (a great deal)?",
            guidance="transfers, repeating information, long holds and being told to call back add effort",
            answer="scale",
            scale_max=5,
        ),
        Item(
            id="sentiment_start",
            question="How did the customer feel at the start of the contact?",
            answer="choice",
            choices=sentiments,
            scope=CUSTOMER,
        ),
        Item(
            id="sentiment_end",
            question="How did the customer feel at the end of the contact?",
            answer="choice",
            choices=sentiments,
            scope=CUSTOMER,
        ),
        Item(
            id="churn_risk",
            question="Did the customer threaten to leave, cancel, complain further or escalate?",
            scope=CUSTOMER,
        ),
    ]
    return Checklist(
        id=voc_checklist_id(taxonomy),
        version=taxonomy.version,
        language=taxonomy.language,
        title=f"Voice of the customer ({taxonomy.id})",
        description="The customer's side of the conversation, checked by people like checklist items; "
        "it gives no total and counts in no agent's score.",
        sections=[Section(id="customer", title="Voice of the customer", items=items)],
        scored=False,
    )


def voc_checklists(taxonomies: list[Taxonomy]) -> dict[str, Checklist]:
    return {checklist.id: checklist for checklist in map(voc_checklist, taxonomies)}


def voc_scorecard(record: VocRecord, checklist: Checklist) -> Scorecard:
    """The record's fields as the checklist's verdicts: a field a person should check keeps its best
    guess as its answer, marked `needs_human`, as an item a person must confirm."""
    fields: dict[str, VocField] = {
        "reason": record.reason,
        "resolved": record.resolved,
        "repeat_contact": record.repeat_contact,
        "effort": record.effort,
        "sentiment_start": record.sentiment_start,
        "sentiment_end": record.sentiment_end,
        "churn_risk": record.churn_risk,
    }
    verdicts = []
    for item in checklist.items:
        field = fields[item.id]
        answer = field.value if field.value in item.answers else None
        verdicts.append(
            ItemVerdict(
                item_id=item.id,
                answer=answer,
                confidence=field.confidence,
                source=field.source,
                needs_human=field.needs_human or answer is None,
                evidence=[Evidence(quote=field.evidence)] if field.evidence else [],
                rationale="path " + "/".join(record.reason_path) if item.id == "reason" else "",
            )
        )
    judge = {"backend": "voc", "model": record.model, "prompt": record.prompt, "taxonomy": record.taxonomy}
    return score_call(checklist, record.call_id, verdicts, judge=judge)
