"""Inline SVG charts: the report stays one file that opens offline, with no script library to ship.

Every label passes through `escape`; the functions return `Markup` so the template inserts them as drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from qa_pipeline.control.agreement import Interval

AXIS = "#888"
INK = "#2c5d8f"
WARN = "#c0392b"


def histogram(values: Sequence[float], bins: int = 10, width: int = 360, height: int = 140) -> Markup:
    """Distribution of call totals on 0-100, one bar per 100/bins points."""
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int(value // (100 / bins)))] += 1
    top = max(counts) or 1
    bar = (width - 40) / bins
    parts = [_svg_open(width, height, "histogram")]
    for i, count in enumerate(counts):
        h = (height - 30) * count / top
        x, y = 25 + i * bar, height - 20 - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="{INK}">'
            f"<title>{i * 100 // bins}-{(i + 1) * 100 // bins}: {count}</title></rect>"
        )
        if count:
            parts.append(_text(x + bar / 2, y - 3, str(count), anchor="middle"))
    for tick in range(0, 101, 20):
        parts.append(_text(25 + tick / 100 * bins * bar, height - 6, str(tick), anchor="middle"))
    parts.append(_line(25, height - 20, width - 5, height - 20))
    parts.append("</svg>")
    return Markup("".join(parts))


def trend(points: Sequence[tuple[str, float | None]], width: int = 180, height: int = 44) -> Markup:
    """Mean score per period as a small line on 0-100, labelled at both ends."""
    known = [(label, value) for label, value in points if value is not None]
    if not known:
        return Markup("")
    step = (width - 20) / max(1, len(known) - 1)
    coords = [
        (10 + i * step, height - 12 - (height - 20) * value / 100) for i, (_, value) in enumerate(known)
    ]
    parts = [_svg_open(width, height, "trend")]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="1.5"/>')
    for (x, y), (label, value) in zip(coords, known, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{INK}"><title>{escape(label)}: {value:.0f}'
            "</title></circle>"
        )
    parts.append(_text(10, height - 1, known[0][0]))
    if len(known) > 1:
        parts.append(_text(width - 10, height - 1, known[-1][0], anchor="end"))
    parts.append("</svg>")
    return Markup("".join(parts))


def interval_bar(interval: Interval | None, width: int = 120, height: int = 14) -> Markup:
    """A share on 0-1: the point as a dot, its confidence interval as a line."""
    if interval is None or interval.value is None:
        return Markup("")

    def at(v: float) -> float:
        return 4 + (width - 8) * v

    parts = [_svg_open(width, height, "interval"), _line(at(0), height / 2, at(1), height / 2, "#ddd")]
    if interval.low is not None and interval.high is not None:
        parts.append(_line(at(interval.low), height / 2, at(interval.high), height / 2, INK, 3))
    parts.append(f'<circle cx="{at(interval.value):.1f}" cy="{height / 2}" r="3.5" fill="{INK}"/></svg>')
    return Markup("".join(parts))


def scatter(
    points: Sequence[tuple[float, float, str]],
    width: int = 320,
    height: int = 320,
    x_label: str = "",
    y_label: str = "",
) -> Markup:
    """Human total (x) against AI total (y) on 0-100, with the line where they are equal."""
    left, bottom, right, top = 36, height - 30, width - 10, 10

    def px(v: float) -> float:
        return left + (right - left) * v / 100

    def py(v: float) -> float:
        return bottom - (bottom - top) * v / 100

    parts = [_svg_open(width, height, "scatter"), _line(px(0), py(0), px(100), py(100), "#bbb", 1)]
    parts += [_line(left, bottom, right, bottom), _line(left, bottom, left, top)]
    for tick in range(0, 101, 25):
        parts.append(_text(px(tick), bottom + 13, str(tick), anchor="middle"))
        parts.append(_text(left - 4, py(tick) + 4, str(tick), anchor="end"))
    for human, ai, label in points:
        colour = WARN if abs(ai - human) >= 20 else INK
        parts.append(
            f'<circle cx="{px(human):.1f}" cy="{py(ai):.1f}" r="4" fill="{colour}" fill-opacity="0.75">'
            f"<title>{escape(label)}: AI {ai:.0f}, human {human:.0f}</title></circle>"
        )
    parts.append(_text((left + right) / 2, height - 2, x_label, anchor="middle"))
    parts.append(
        f'<text x="10" y="{(top + bottom) / 2}" font-size="11" fill="#444" text-anchor="middle" '
        f'transform="rotate(-90 10 {(top + bottom) / 2})">{escape(y_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _svg_open(width: int, height: int, role: str) -> str:
    return (
        f'<svg class="chart {role}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str = AXIS, width: float = 1) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
        f'stroke-width="{width}"/>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="10" fill="#444" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )
