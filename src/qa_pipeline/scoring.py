"""Scoring maths: a checklist's verdicts in, a 0-100 total out.

- A yes/no item earns its weight for "yes" and nothing for "no"; a scale item earns weight * value / max.
- N/A items leave the denominator: where the checklist allows them, and where a conversation has no times
  for an item that rests on them (flag `no_times`: a timing rule or time window on a chat or e-mail).
- A fatal critical item answered "no" sets the total to 0; a flag critical item answered "no" leaves the
  total as it is and lists the call for follow-up.
- Items that need a person are left out and the scorecard is marked incomplete (a provisional total),
  because a guessed answer would be worse than a visible gap. An item that needs a person but keeps an
  answer (the less favourable one, where a manipulation attempt changed it) counts until a person confirms.
- A choice item (a category) and every item of a checklist with `scored: false` (the voice of the
  customer) earn no points: they describe the conversation, they do not score the agent.
- A call with speech addressed to the evaluator (a manipulation attempt) shows no AI total until a person
  has reviewed it (a certain fatal fail still shows 0): the attempt can never show a higher score.
- A total that rests on less than half of the checklist's applicable points is not the call's score: it is
  left out (`total` None) and `points_share` says how much was decided.
"""

from __future__ import annotations

from collections.abc import Mapping

from qa_pipeline.checklist import Checklist, Item
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import ItemVerdict, ManipulationAttempt, Scorecard

NO_TIMES = "no_times"  # an N/A the conversation decided (it has no times), not the checklist
SPEAKERS_UNCERTAIN = "speakers_uncertain"  # a mono call whose speakers are not sure enough to judge one side
# A total decided on fewer of the checklist's points than this share says more about what was left to
# people than about the call.
MIN_POINTS_SHARE = 0.5


def item_points(item: Item, answer: str | int) -> float:
    """Share of the item's weight earned by an answer, 0..1."""
    if item.answer == "yes_no":
        if answer not in ("yes", "no"):
            raise ConfigError(f"item {item.id}: answer {answer!r} is not yes or no")
        return 1.0 if answer == "yes" else 0.0
    if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer <= item.max_points:
        raise ConfigError(f"item {item.id}: answer {answer!r} is not an integer 0..{item.max_points}")
    return answer / item.max_points


def score_call(
    checklist: Checklist,
    call_id: str,
    verdicts: list[ItemVerdict],
    judge: dict[str, str] | None = None,
    manipulation: list[ManipulationAttempt] | None = None,
    reviewed: bool = False,
) -> Scorecard:
    """`reviewed`: a person has corrected this scorecard, so a total held back for them may show."""
    by_id = {v.item_id: v for v in verdicts}
    unknown = set(by_id) - {item.id for item in checklist.items}
    if unknown:
        raise ConfigError(f"verdicts for items not in checklist {checklist.id}: {', '.join(sorted(unknown))}")
    earned = possible = 0.0
    failed: list[str] = []
    flagged: list[str] = []
    undecided = 0.0  # weight of items left to people: they may count once a person answers
    complete = True
    for item in checklist.items:
        verdict = by_id.get(item.id)
        if verdict is None or verdict.answer is None:
            complete = False
            undecided += item.weight
            continue
        if verdict.needs_human:  # an answer that counts until a person confirms it
            complete = False
        if verdict.answer == "na":
            if not item.allow_na and NO_TIMES not in verdict.flags:
                raise ConfigError(f"item {item.id}: N/A is not allowed by checklist {checklist.id}")
            continue
        if not checklist.scored or item.answer == "choice":  # a category, not points
            continue
        points = item_points(item, verdict.answer)
        earned += item.weight * points
        possible += item.weight
        if item.critical and verdict.answer == "no":
            (failed if item.critical == "fatal" else flagged).append(item.id)
    share = possible / (possible + undecided) if possible + undecided > 0 else None
    total = None if possible == 0 else round(100.0 * earned / possible, 2)
    provisional = [] if complete else ["items_need_human"]
    if any(v.needs_human and "uncertain_fatal" in v.flags for v in verdicts):
        provisional.append("uncertain_fatal")
    if manipulation:
        provisional.append("manipulation_attempt")
    if share is not None and share < MIN_POINTS_SHARE and total is not None:
        provisional.append("minority_of_points")
        total = None
    if manipulation and not reviewed:
        # Speech addressed to the evaluator may have moved answers the guard could not restore (a
        # borderline item read differently once the attempt is cut out): no AI total is shown until a
        # person has reviewed the call, so talking to the evaluator can never show a higher score.
        total = None
    if failed:  # a fatal fail decided with certainty zeroes the call whatever was left to people
        total = 0.0
    return Scorecard(
        call_id=call_id,
        checklist_id=checklist.id,
        checklist_version=checklist.version,
        verdicts=[by_id[item.id] for item in checklist.items if item.id in by_id],
        total=total,
        complete=complete and not manipulation,
        failed_critical=failed,
        flagged_critical=flagged,
        judge=judge or {},
        manipulation=manipulation or [],
        provisional=provisional,
        points_share=round(share, 4) if share is not None else None,
    )


def score_answers(checklist: Checklist, call_id: str, answers: Mapping[str, str | int]) -> Scorecard:
    """A person's answers (a controller's sheet, a script's intent) scored by the same maths as the AI's."""
    verdicts = [
        ItemVerdict(item_id=item.id, answer=answers[item.id], source="human")
        for item in checklist.items
        if item.id in answers
    ]
    return score_call(checklist, call_id, verdicts)
