"""The voice of the customer and checklist validity as the terminal shows them (`validity`, `demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from qa_pipeline.control.agreement import Interval
    from qa_pipeline.voc.validity import Validity


def print_validity(found: Validity) -> None:
    if found.sources:
        typer.echo(
            f"Outcomes from {', '.join(found.sources)}"
            + (" (SYNTHETIC: made up for the demo, no real customer behind them)" if found.synthetic else "")
        )
    if found.voc.groups:
        typer.echo(
            "Voice of the customer by reason, queue and period (95% intervals; repeat by history: the "
            f"same customer_id within {found.voc.repeat_days} days before)"
        )
        for g in found.voc.groups:
            typer.echo(
                f"  {g.reason:<14} {g.queue:<10} {g.period:<8} {g.contacts:>5} contacts  resolved "
                f"{_share(g.resolved)}"
                + (f" ({g.resolved_unsure} unsure)" if g.resolved_unsure else "")
                + f"  repeat said {_share(g.repeat)}, by history {_share(g.repeat_by_customer)}"
                f"  effort {_mean(g.mean_effort)}"
                f"  better {_share(g.sentiment_better)}  worse {_share(g.sentiment_worse)}"
            )
        causes = ", ".join(f"{reason} ({n})" for reason, n in found.voc.repeat_causes[:5])
        typer.echo(f"  repeat contacts are about: {causes or 'none found'}")
        typer.echo("Reasons along the customer journey")
        for j in found.voc.journey:
            typer.echo(
                f"  {j.stage:<10} {'/'.join(j.reason_path):<32} {j.contacts:>5} contacts  resolved "
                f"{_share(j.resolved)}  repeat said {_share(j.repeat)}, by history "
                f"{_share(j.repeat_by_customer)}  effort {_mean(j.mean_effort)}  "
                f"churn risk {_share(j.churn_risk)}"
            )
    effects = found.effects
    typer.echo(
        f"Item effects (fail minus pass), adjusted for {', '.join(effects.adjusted_for)}; "
        f"{effects.comparisons} comparisons, intervals widened for all of them"
    )
    for e in effects.effects:
        shown = "–" if e.difference is None else f"{e.difference:+.2f} [{e.low:+.2f}, {e.high:+.2f}]"
        typer.echo(
            f"  {e.item_id:<26} {e.outcome:<7} pass {e.n_pass:>4} fail {e.n_fail:>4}  {shown:<24} {e.verdict}"
        )
    typer.echo("EX and CX (team eNPS per period)")
    for c in found.ex_cx.correlations:
        shown = "–" if c.spearman is None else f"Spearman {c.spearman:+.2f} [{c.low:+.2f}, {c.high:+.2f}]"
        typer.echo(
            f"  eNPS vs {c.against:<9} n {c.n:>3}  {shown}" + (f"  ({c.warning})" if c.warning else "")
        )


def _share(interval: Interval) -> str:
    if interval.value is None:
        return "–"
    return f"{interval.value:.0%} [{interval.low or 0:.0%}-{interval.high or 0:.0%}]"


def _mean(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
