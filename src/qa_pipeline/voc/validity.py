"""Checklist validity and EX-CX from the store: outcomes joined to the scorecards people stand behind,
item effects adjusted for reason and queue, and team eNPS against team CSAT, NPS and QA scores."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from statistics import mean

import numpy as np
from pydantic import BaseModel, Field
from scipy.stats import spearmanr

from qa_pipeline.checklist import Checklist
from qa_pipeline.control.calibration import period_of
from qa_pipeline.control.overrides import apply_overrides
from qa_pipeline.control.workflow import overrides_by_card
from qa_pipeline.models import CallMetadata, Scorecard
from qa_pipeline.store.database import Store
from qa_pipeline.voc.effects import CONFIDENCE, EffectsReport, Outcome, call_outcomes, item_effects
from qa_pipeline.voc.outcomes import TeamEnps
from qa_pipeline.voc.repeats import DEFAULT_REPEAT_DAYS, contact_histories
from qa_pipeline.voc.summary import VocSummary, voc_summary

MIN_TEAMS = 8  # team-periods needed before a correlation across them says anything


class TeamRow(BaseModel):
    team: str
    period: str
    enps: float
    calls: int
    csat: float | None
    nps: float | None
    qa_score: float | None


class Correlation(BaseModel):
    against: str
    n: int
    spearman: float | None
    low: float | None
    high: float | None
    warning: str | None


class ExCx(BaseModel):
    rows: list[TeamRow]
    correlations: list[Correlation]


class Validity(BaseModel):
    voc: VocSummary
    effects: EffectsReport
    ex_cx: ExCx
    sources: list[str] = Field(default=[], description="the outcome files the figures come from")

    @property
    def synthetic(self) -> bool:
        """Outcomes from a file whose name says "synthetic" (the demo's) are labelled so wherever shown."""
        return any("synthetic" in source.lower() for source in self.sources)


def checklist_validity(
    store: Store,
    checklists: dict[str, Checklist],
    *,
    repeat_days: int = DEFAULT_REPEAT_DAYS,
    stage_order: list[str] | None = None,
    reps: int = 2000,
    seed: int = 0,
) -> Validity:
    records = {r.call_id: r for r in store.calls()}
    metadata = {call_id: r.metadata for call_id, r in records.items()}
    histories = contact_histories(metadata, repeat_days)  # once, for the outcomes and the summary
    surveys = list(store.survey_answers())
    outcomes = call_outcomes(surveys, metadata, repeat_days, histories)
    overrides = overrides_by_card(store.overrides())
    cards = []
    for card in store.scorecards(sorted(outcomes)):
        checklist = checklists.get(card.checklist_id)
        if checklist is not None:
            cards.append(
                apply_overrides(card, checklist, overrides.get((card.call_id, card.checklist_id), []))
            )
    # The reason a customer called is the confounder that matters most: hard reasons fail items and
    # leave customers unhappy whatever the agent does. Calls without a VoC record share one stratum.
    reasons = {r["call_id"]: r["reason_path"][0] for r in store.voc_records(sorted(outcomes))}
    strata = {
        call_id: (reasons.get(call_id, "(reason not extracted)"), meta.queue or "(no queue)")
        for call_id, meta in metadata.items()
    }
    effects = item_effects(cards, outcomes, strata, adjusted_for=["reason", "queue"], reps=reps, seed=seed)
    enps = store.team_enps()
    return Validity(
        voc=voc_summary(store, stage_order, repeat_days, metadata=metadata, histories=histories),
        effects=effects,
        ex_cx=ex_cx(enps, cards, outcomes, metadata, reps=reps, seed=seed),
        sources=sorted({s.source for s in surveys if s.source} | {e.source for e in enps if e.source}),
    )


def ex_cx(
    enps_rows: list[TeamEnps],
    cards: list[Scorecard],
    outcomes: Mapping[str, Mapping[Outcome, float]],
    metadata: Mapping[str, CallMetadata],
    *,
    reps: int,
    seed: int,
) -> ExCx:
    """Team eNPS per period beside the team's customers' CSAT and NPS and its mean QA score."""
    per_team: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    totals = {c.call_id: c.total for c in cards if c.total is not None}
    for call_id, meta in metadata.items():
        if not meta.team:
            continue
        key = (meta.team, period_of(meta))
        values = per_team[key]
        values["calls"].append(1.0)
        for name in ("csat", "nps"):
            if name in outcomes.get(call_id, {}):
                values[name].append(outcomes[call_id][name])
        if call_id in totals:
            values["qa_score"].append(float(totals[call_id]))
    rows = []
    for enps in enps_rows:
        values = per_team.get((enps.team, enps.period), {})
        nps = values.get("nps") or []
        rows.append(
            TeamRow(
                team=enps.team,
                period=enps.period,
                enps=enps.enps,
                calls=len(values.get("calls") or []),
                csat=mean(values["csat"]) if values.get("csat") else None,
                nps=100.0 * (sum(v >= 9 for v in nps) - sum(v <= 6 for v in nps)) / len(nps) if nps else None,
                qa_score=mean(values["qa_score"]) if values.get("qa_score") else None,
            )
        )
    rng = np.random.default_rng(seed)
    correlations = [_correlation(rows, name, reps, rng) for name in ("csat", "nps", "qa_score")]
    return ExCx(rows=sorted(rows, key=lambda r: (r.period, r.team)), correlations=correlations)


def _correlation(rows: list[TeamRow], name: str, reps: int, rng: np.random.Generator) -> Correlation:
    pairs = [(r.enps, getattr(r, name)) for r in rows if getattr(r, name) is not None]
    n = len(pairs)
    warning = (
        f"only {n} team-periods: too few to say anything (at least {MIN_TEAMS} needed)"
        if n < MIN_TEAMS
        else None
    )
    if n < 3:
        return Correlation(against=name, n=n, spearman=None, low=None, high=None, warning=warning)
    x, y = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    value = float(spearmanr(x, y).statistic)
    draws = []
    for _ in range(reps):
        pick = rng.integers(0, n, n)
        if len(set(x[pick])) > 1 and len(set(y[pick])) > 1:
            draws.append(float(spearmanr(x[pick], y[pick]).statistic))
    low, high = (
        (float(q) for q in np.quantile(draws, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2]))
        if draws
        else (None, None)
    )
    return Correlation(against=name, n=n, spearman=value, low=low, high=high, warning=warning)
