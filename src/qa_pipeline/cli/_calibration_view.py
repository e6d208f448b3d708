"""How calibration reads in a terminal: agreement per item with intervals, the trust map, confusion."""

from __future__ import annotations

import typer
from rich.table import Table

from qa_pipeline.cli._output import stdout
from qa_pipeline.control.agreement import CategoricalAgreement, Interval
from qa_pipeline.control.calibration import AgreementReport, ItemReport

STATUS_TEXT = {
    "ai_may_score_alone": "[green]AI may score alone[/green]",
    "human_control_required": "[red]human control required[/red]",
    "too_few_reviews": "[yellow]too few reviews[/yellow]",
}


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
