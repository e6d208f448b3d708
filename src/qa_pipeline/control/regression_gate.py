"""The regression gate: before a changed checklist, prompt, threshold file or judge model goes live, the
calls people have reviewed are scored again with the change, and per item the AI's agreement with
people is compared, old against new, on the same calls.

The comparison is paired, so the test is McNemar's exact test: of the calls where exactly one of the two
versions agrees with the person, are the new version's wins more than chance (b against c, binomial with
p = 1/2)? Each item gets its p-value; the decision over all items uses Holm's correction, so twenty
items do not give twenty chances to find a difference by luck. A change is accepted when some item got
significantly better and none significantly worse, rejected when any got significantly worse, and
otherwise there is no evidence either way, which is said as such rather than read as "no change".

Rescored cards are appended to a JSONL file as each call finishes, so a killed evaluation resumes; the
report is kept in the store for the workspace's page."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from scipy.stats import binomtest

from qa_pipeline.checklist import Checklist
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.score_batch import scorecard_cache_key
from qa_pipeline.models import Answer, HumanReview, Scorecard
from qa_pipeline.store.database import Store

SIGNIFICANCE = 0.05
ItemVerdict = Literal["better", "worse", "no evidence", "same"]


class ItemChange(BaseModel):
    checklist_id: str
    item_id: str
    calls: int = Field(description="reviewed calls where both versions could be compared with a person")
    old_agreement: float | None
    new_agreement: float | None
    old_only: int = Field(description="b: the old version agreed with the person, the new did not")
    new_only: int = Field(description="c: the new version agreed with the person, the old did not")
    p_value: float = Field(description="McNemar's exact test, two-sided")
    p_holm: float = Field(description="after Holm's correction over all items")
    verdict: ItemVerdict


class GateReport(BaseModel):
    calls: int
    rescored: int
    reused: int
    significance: float
    items: list[ItemChange]
    decision: Literal["accept", "reject", "no evidence"]
    reason: str
    skipped_answers: int = Field(
        default=0, description="people's answers the changed item no longer allows (left out)"
    )


def mcnemar_exact(old_only: int, new_only: int) -> float:
    """Two-sided exact McNemar p-value for the discordant pairs b and c."""
    discordant = old_only + new_only
    if discordant == 0:
        return 1.0
    return float(binomtest(min(old_only, new_only), discordant, 0.5).pvalue)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def compare_versions(
    reviews: list[HumanReview],
    old_cards: dict[tuple[str, str], Scorecard],
    new_cards: dict[tuple[str, str], Scorecard],
    candidate: dict[str, Checklist],
    significance: float = SIGNIFICANCE,
) -> tuple[list[ItemChange], int]:
    """Per item of the changed checklists: agreement of each version with the person (the first reviewer
    by name, as the trust map takes), on the calls both versions scored."""
    people: dict[tuple[str, str], dict[str, dict[str, Answer]]] = defaultdict(lambda: defaultdict(dict))
    for review in reviews:
        people[(review.call_id, review.checklist_id)][review.item_id][review.reviewer] = review.answer
    tallies: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # n, old, new, b, c
    skipped = 0
    for key, by_item in people.items():
        old, new = old_cards.get(key), new_cards.get(key)
        checklist = candidate.get(key[1])
        if old is None or new is None or checklist is None:
            continue
        old_answers = {v.item_id: v.answer for v in old.verdicts}
        new_answers = {v.item_id: v.answer for v in new.verdicts}
        for item in checklist.items:
            if item.id not in by_item or item.id not in old_answers:
                continue
            person = by_item[item.id][sorted(by_item[item.id])[0]]
            if person not in item.answers:
                skipped += 1
                continue
            old_right = old_answers[item.id] == person
            new_right = new_answers.get(item.id) == person
            tally = tallies[(key[1], item.id)]
            tally[0] += 1
            tally[1] += old_right
            tally[2] += new_right
            tally[3] += old_right and not new_right
            tally[4] += new_right and not old_right
    keys = sorted(tallies)
    p_values = [mcnemar_exact(tallies[k][3], tallies[k][4]) for k in keys]
    adjusted = holm(p_values)
    changes = []
    for key, p_value, p_holm in zip(keys, p_values, adjusted, strict=True):
        n, agreed_old, agreed_new, b, c = tallies[key]
        verdict: ItemVerdict
        if b == c == 0:
            verdict = "same"
        elif p_holm <= significance:
            verdict = "better" if c > b else "worse"
        else:
            verdict = "no evidence"
        changes.append(
            ItemChange(
                checklist_id=key[0],
                item_id=key[1],
                calls=n,
                old_agreement=agreed_old / n if n else None,
                new_agreement=agreed_new / n if n else None,
                old_only=b,
                new_only=c,
                p_value=p_value,
                p_holm=p_holm,
                verdict=verdict,
            )
        )
    return changes, skipped


def evaluate_change(
    store: Store,
    candidate: list[Checklist],
    judge: Judge,
    cache: Path,
    *,
    significance: float = SIGNIFICANCE,
    limit: int | None = None,
    track: Callable[[str], None] | None = None,
) -> GateReport:
    """Rescore the reviewed calls of each candidate checklist's id with `judge` and compare with the
    scorecards in the store (what is live now)."""
    by_id = {c.id: c for c in candidate}
    reviews = [r for r in store.human_reviews() if r.checklist_id in by_id]
    reviewed = sorted({(r.call_id, r.checklist_id) for r in reviews})[:limit]
    if not reviewed:
        raise ConfigError(
            f"no reviewed calls for {', '.join(sorted(by_id))} in {store.url}: the gate compares against "
            "people's answers (import review sheets first)"
        )
    calls = sorted({call for call, _ in reviewed})
    old_cards = {(c.call_id, c.checklist_id): c for c in store.scorecards(calls) if c.checklist_id in by_id}
    transcripts = {t.call_id: t for t in store.transcripts(calls)}
    done = _read_cache(cache)
    new_cards: dict[tuple[str, str], Scorecard] = {}
    rescored = reused = 0
    cache.parent.mkdir(parents=True, exist_ok=True)
    for call_id, checklist_id in reviewed:
        transcript = transcripts.get(call_id)
        if transcript is None or (call_id, checklist_id) not in old_cards:
            continue
        checklist = by_id[checklist_id]
        key = scorecard_cache_key(transcript, checklist, judge)
        card = done.get(key)
        if card is None:
            card, _ = judge.score(checklist, transcript)
            with cache.open("a", encoding="utf-8") as out:
                out.write(
                    json.dumps({"key": key, "scorecard": card.model_dump(mode="json")}, ensure_ascii=False)
                    + "\n"
                )
            rescored += 1
        else:
            reused += 1
        new_cards[(call_id, checklist_id)] = card
        if track:
            track(call_id)
    items, skipped = compare_versions(reviews, old_cards, new_cards, by_id, significance)
    worse = [i.item_id for i in items if i.verdict == "worse"]
    better = [i.item_id for i in items if i.verdict == "better"]
    decision: Literal["accept", "reject", "no evidence"]
    if worse:
        decision, reason = "reject", f"significantly worse on {', '.join(worse)}"
    elif better:
        decision, reason = "accept", f"significantly better on {', '.join(better)}, worse on none"
    else:
        changed = [i.item_id for i in items if i.verdict == "no evidence"]
        decision = "no evidence"
        reason = (
            f"differences on {', '.join(changed)} could be chance on {len(new_cards)} reviewed calls: "
            "review more calls"
            if changed
            else "the change answers every reviewed item as before"
        )
    report = GateReport(
        calls=len(new_cards),
        rescored=rescored,
        reused=reused,
        significance=significance,
        items=items,
        decision=decision,
        reason=reason,
        skipped_answers=skipped,
    )
    judged = {"backend": judge.backend.name, "model": judge.backend.model_id}
    store.add_gate_report([f"{c.id} v{c.version}" for c in candidate], judged, report.model_dump(mode="json"))
    return report


def _read_cache(path: Path) -> dict[str, Scorecard]:
    """Cards rescored by an earlier, perhaps killed, run; a line cut short by the kill is ignored."""
    cards: dict[str, Scorecard] = {}
    if not path.is_file():
        return cards
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            cards[row["key"]] = Scorecard.model_validate(row["scorecard"])
        except (ValueError, KeyError):
            continue
    return cards
