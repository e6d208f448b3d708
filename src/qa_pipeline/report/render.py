"""Fill the report template and write one HTML file.

Autoescaping is on for every value, so a transcript that says `<script>` is shown as text. Recordings are
linked by a path relative to the report (they stay where they are and out of the file, which a supervisor
may forward), so the player works when the report sits beside the project's audio.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape

from qa_pipeline.report import charts
from qa_pipeline.report.data import ReportData
from qa_pipeline.report.text import interface_text
from qa_pipeline.transcription.batch import write_text_atomic


def render_report(data: ReportData, out: Path) -> str:
    env = Environment(
        loader=PackageLoader("qa_pipeline.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    add_filters(env)
    template = env.get_template("report.html.j2")
    return template.render(
        data=data,
        t=interface_text(data.language),
        charts=charts,
        audio_url=lambda path: _audio_url(path, out.parent),
        trend_points=lambda group: [(p.period, p.mean_total) for p in group.trend],
        scatter_points=[(pair.human, pair.ai, pair.call_id) for pair in data.totals],
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def add_filters(env: Environment) -> None:
    """The report's ways of writing shares, clocks and numbers, for any template that shows them."""
    env.filters["pct"] = _pct
    env.filters["clock"] = _clock
    env.filters["number"] = _number


def write_html_report(data: ReportData, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, render_report(data, out))
    return out


def _audio_url(path: str | None, base: Path) -> str | None:
    if path is None:
        return None
    try:
        relative = os.path.relpath(path, base.resolve())
    except ValueError:  # another drive on Windows
        return Path(path).as_uri()
    return quote(Path(relative).as_posix())


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
