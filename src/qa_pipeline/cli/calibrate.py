"""`qa-pipeline calibrate`: AI against people, per item and on totals, and the trust map."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qa_pipeline.agreement import CategoricalAgreement, Interval
from qa_pipeline.batch import write_json_atomic
from qa_pipeline.calibration import AgreementReport, ItemReport, TrustRule
from qa_pipeline.cli._options import (
    DEFAULT_STORE_TEXT,
    ChecklistOption,
    JsonOption,
    MinReviewsOption,
    PeriodOption,
    PoolItemsOption,
    StoreOption,
    ThresholdOption,
    checklists_by_id,
)
from qa_pipeline.cli._output import stdout
from qa_pipeline.errors import ConfigError
from qa_pipeline.human_control import agreement_report
from qa_pipeline.store import Store

STATUS_TEXT = {
    "ai_may_score_alone": "[green]AI may score alone[/green]",
    "human_control_required": "[red]human control required[/red]",
    "too_few_reviews": "[yellow]too few reviews[/yellow]",
}


def calibrate(
    threshold: ThresholdOption = 0.85,
    min_reviews: MinReviewsOption = 30,
    min_class_agreement: Annotated[
        float, typer.Option(help="Agreement needed on every answer people gave, e.g. on their 'no's.")
    ] = 0.5,
    drift_tolerance: Annotated[
        float, typer.Option(help="Report items whose agreement fell by this much between periods.")
    ] = 0.10,
    pool_items: PoolItemsOption = False,
    baseline_only: Annotated[
        bool, typer.Option("--baseline-only", help="Only calls picked by the random baseline (unbiased).")
    ] = False,
    period: PeriodOption = None,
    confusion: Annotated[
        bool, typer.Option("--confusion", help="Also print each item's confusion matrix (AI x controller).")
    ] = False,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed for the bootstrap.")] = 0,
    out: Annotated[Path, typer.Option(help="Report data: JSON here, per-item CSV beside it.")] = Path(
        "qa-work/agreement.json"
    ),
    store: StoreOption = DEFAULT_STORE_TEXT,
    checklist: ChecklistOption = None,
    as_json: JsonOption = False,
) -> None:
    """Agreement per item (raw, kappa, AC1, per answer, confusion) and on totals; which items AI may score."""
    rule = TrustRule(
        threshold=threshold,
        min_reviews=min_reviews,
        min_class_agreement=min_class_agreement,
        drift_tolerance=drift_tolerance,
    )
    report = agreement_report(
        Store(store),
        checklists_by_id(checklist),
        rule=rule,
        period=period,
        pool_items=pool_items,
        baseline_only=baseline_only,
        reps=bootstrap,
        seed=seed,
    )
    if not report.items:
        raise ConfigError(f"no human reviews of scored calls in {store}: import review sheets first")
    write_report(report, out)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    print_report(report)
    if confusion:
        print_confusion(report)
    typer.echo(f"Report data: {out} and {out.with_suffix('.csv')}")


def write_report(report: AgreementReport, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, report)
    with out.with_suffix(".csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "group",
                "item_id",
                "method",
                "n",
                "agreement",
                "agreement_low",
                "agreement_high",
                "kappa",
                "ac1",
                "ac1_low",
                "ac1_high",
                "alignment",
                "human_human_n",
                "human_human_agreement",
                "overrides",
                "trust",
                "reason",
            ]
        )
        for item in report.items:
            a, hh = item.ai_human, item.human_human
            writer.writerow(
                [
                    item.group,
                    item.item_id,
                    item.method,
                    a.n,
                    a.agreement.value,
                    a.agreement.low,
                    a.agreement.high,
                    a.kappa.value,
                    a.ac1.value,
                    a.ac1.low,
                    a.ac1.high,
                    a.alignment,
                    hh.n if hh else 0,
                    hh.agreement.value if hh else None,
                    item.overrides,
                    item.trust.status,
                    item.trust.reason,
                ]
            )


def _num(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _ci(interval: Interval, spec: str = ".2f") -> str:
    if interval.value is None:
        return "-"
    if interval.low is None or interval.high is None:
        return format(interval.value, spec)
    return f"{format(interval.value, spec)} ({format(interval.low, spec)}–{format(interval.high, spec)})"


def _per_answer(stats: CategoricalAgreement) -> str:
    """Agreement on each answer people gave, with how many of them the AI matched."""
    return "  ".join(f"{c.answer} {_num(c.agreement)} ({c.both}/{c.by_b})" for c in stats.per_class if c.by_b)


def print_report(report: AgreementReport) -> None:
    pct = ".0%"
    table = Table(
        title=f"AI vs controllers per item ({report.calls_reviewed} calls reviewed, "
        f"{report.calls_double_scored} by two controllers; {report.confidence:.0%} intervals)"
    )
    for name in (
        "item",
        "decided by",
        "n",
        "agreement",
        "kappa",
        "AC1",
        "per answer (AI matched/people)",
        "human-human",
        "alignment",
        "overrides",
    ):
        table.add_column(
            name, justify="left" if name in ("item", "per answer (AI matched/people)") else "right"
        )
    for item in by_method(report.items):
        hh = item.human_human
        label = (
            item.item_id
            if item.group in ("all",) or len({i.group for i in report.items}) == 1
            else (f"{item.group}:{item.item_id}")
        )
        table.add_row(
            label,
            METHOD_TEXT[item.method],
            str(item.ai_human.n),
            _ci(item.ai_human.agreement, pct),
            _num(item.ai_human.kappa.value),
            _ci(item.ai_human.ac1),
            _per_answer(item.ai_human),
            f"{_num(hh.agreement.value, pct)} (n={hh.n})" if hh else "-",
            _num(item.ai_human.alignment, pct),
            str(item.overrides),
        )
    stdout.print(table)
    if report.stale_scorecards or report.stale_answers:
        typer.echo(
            f"Left out: {report.stale_scorecards} scorecards scored against another version of their "
            f"checklist (run qa-pipeline score to rescore them) and {report.stale_answers} controllers' "
            "answers the current checklist no longer allows."
        )
    picks = report.calls_by_pick
    typer.echo(
        f"Reviewed calls by how they were picked: {picks['random']} random baseline, "
        f"{picks['risk']} risk-based, {picks['unplanned']} outside any sample"
        + (
            "; only the random baseline is counted."
            if report.baseline_only
            else ". Risk-based picks are harder calls: --baseline-only gives the unbiased estimate."
        )
    )

    totals = Table(title="Call totals (0-100)")
    for name in ("pair", "n", "MAE", "bias", "Bland-Altman limits", "ICC(A,1)", "Spearman"):
        totals.add_column(name, justify="left" if name == "pair" else "right")
    for label, stats in (
        ("AI vs controller", report.totals_ai_human),
        ("controller vs controller", report.totals_human_human),
    ):
        limits = stats.limits_of_agreement
        totals.add_row(
            label,
            str(stats.n),
            _ci(stats.mae, ".1f"),
            _ci(stats.bias, "+.1f"),
            f"{limits[0]:+.1f} to {limits[1]:+.1f}" if limits else "-",
            _ci(stats.icc),
            _ci(stats.spearman),
        )
    stdout.print(totals)
    typer.echo(
        f"Per-criterion alignment (1 - |AI - human| / item maximum, weighted by points): AI-human "
        f"{_num(report.alignment_ai_human, pct)}, human-human {_num(report.alignment_human_human, pct)}"
    )
    print_trust_map(report)


METHOD_TEXT = {"llm": "LLM", "phrases": "rule: phrases", "timing": "rule: timing", "mixed": "mixed"}


def by_method(items: list[ItemReport]) -> list[ItemReport]:
    """Rule items first, then LLM items: the two are trusted item by item, but never mixed up."""
    return sorted(items, key=lambda i: (i.method == "llm", i.method, i.group, i.item_id))


def print_trust_map(report: AgreementReport) -> None:
    rule = report.rule
    table = Table(
        title=f"Trust map: AI alone only when the agreement's lower bound >= {rule.threshold:.0%} "
        f"on >= {rule.min_reviews} reviewed calls and agreement on every answer people gave "
        f">= {rule.min_class_agreement:.0%}"
    )
    for name in ("item", "decided by", "status", "why", "human-human"):
        table.add_column(name)
    for item in by_method(report.items):
        hh = item.human_human
        table.add_row(
            item.item_id if item.group == "all" else f"{item.group}:{item.item_id}",
            METHOD_TEXT[item.method],
            STATUS_TEXT[item.trust.status],
            item.trust.reason,
            f"{hh.agreement.value:.0%} of {hh.n}" if hh and hh.agreement.value is not None else "-",
        )
    stdout.print(table)
    counts = {status: sum(i.trust.status == status for i in report.items) for status in STATUS_TEXT}
    typer.echo(
        f"{counts['ai_may_score_alone']} items AI may score alone, {counts['human_control_required']} need "
        f"human control, {counts['too_few_reviews']} have too few reviews."
    )
    for kind, methods in (("rule", ("phrases", "timing")), ("LLM", ("llm",))):
        group = [i for i in report.items if i.method in methods]
        if group:
            alone = sum(i.trust.status == "ai_may_score_alone" for i in group)
            typer.echo(f"  {kind} items: {alone} of {len(group)} may score alone")
    for finding in report.drift:
        typer.echo(
            f"Drift: {finding.group}:{finding.item_id} agreement fell from {finding.before.agreement:.0%} "
            f"({finding.before.period}, n={finding.before.n}) to {finding.after.agreement:.0%} "
            f"({finding.after.period}, n={finding.after.n}); p = {finding.p_value:.3f}"
        )
    corrected = sorted(report.items, key=lambda i: -i.overrides)
    if corrected and corrected[0].overrides:
        typer.echo(
            "Most corrected by supervisors: "
            + ", ".join(f"{i.item_id} ({i.overrides})" for i in corrected if i.overrides)
        )


def print_confusion(report: AgreementReport) -> None:
    """Rows: the AI's answer; columns: the controller's. The off-diagonal cells are the disagreements."""
    for item in report.items:
        stats = item.ai_human
        stdout.print(f"{item.item_id}: AI (rows) x controller (columns), n={stats.n}", soft_wrap=True)
        table = Table()
        table.add_column("AI \\ controller")
        for label in stats.categories:
            table.add_column(label, justify="right")
        for label, row in zip(stats.categories, stats.confusion, strict=True):
            table.add_row(label, *(str(count) for count in row))
        stdout.print(table)
