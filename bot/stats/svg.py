"""Bar charts as inline SVG, drawn on the server (the console works without internet or scripts).

Only presentation attributes are used (no ``style``), so the console's Content-Security-Policy holds.
Every bar carries ``data-label`` / ``data-value`` and a ``<title>`` (a tooltip and a screen-reader text).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2f6f9f", "#3f9f6f", "#c0392b", "#d4a017")
TEXT = "#333333"
GRID = "#dddddd"
FONT = 'font-family="sans-serif" font-size="12"'


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (at least 1)."""
    if value <= 5:
        return max(1, value)
    step = 1
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if value <= step * factor:
            return step * factor
    return value


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]


def column_chart(title: str, rows: Sequence[tuple[str, int]], *, width: int = 640, height: int = 240) -> str:
    """Vertical bars, one per row in the given order (e.g. months), value above each bar."""
    left, right, top, bottom = 36, 8, 16, 40
    parts = _open(width, height, title)
    top_value = _nice_max(max((v for _k, v in rows), default=0))
    plot_w, plot_h = width - left - right, height - top - bottom
    for tick in (0, top_value // 2, top_value) if top_value > 1 else (0, top_value):
        y = top + plot_h - plot_h * tick / top_value
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}" {FONT}>{tick}</text>')
    slot = plot_w / max(1, len(rows))
    bar = min(48.0, max(2.0, slot * 0.7))
    label_every = max(1, round(len(rows) / 12))
    for index, (label, value) in enumerate(rows):
        x = left + slot * index + (slot - bar) / 2
        h = plot_h * value / top_value
        y = top + plot_h - h
        parts.append(f'<g class="bar" data-label="{escape(label)}" data-value="{value}">')
        parts.append(f"<title>{escape(label)}：{value}</title>")
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{PALETTE[0]}"/>')
        if value:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" fill="{TEXT}" {FONT}>{value}</text>'
            )
        parts.append("</g>")
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="{TEXT}" '
                f"{FONT}>{escape(label)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, rows: Sequence[tuple[str, int]], *, width: int = 640, label_width: int = 150) -> str:
    """Horizontal bars, one row each, label on the left and value at the bar's end."""
    row_h, top = 24, 8
    height = top * 2 + row_h * max(1, len(rows))
    parts = _open(width, height, title)
    top_value = _nice_max(max((v for _k, v in rows), default=0))
    plot_w = width - label_width - 48
    for index, (label, value) in enumerate(rows):
        y = top + row_h * index
        w = plot_w * value / top_value
        parts.append(f'<g class="bar" data-label="{escape(label)}" data-value="{value}">')
        parts.append(f"<title>{escape(label)}：{value}</title>")
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end" fill="{TEXT}" {FONT}>{escape(label)}</text>'
        )
        parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{label_width + w + 4:.1f}" y="{y + 16}" fill="{TEXT}" {FONT}>{value}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[str],
    *,
    width: int = 640,
    label_width: int = 170,
    colours: Sequence[str] = ("#3f9f6f", "#2f6f9f", "#c0392b"),
) -> str:
    """Horizontal stacked bars (e.g. tasks done / open / overdue per department) with a legend."""
    row_h, top = 24, 28
    height = top + 8 + row_h * max(1, len(rows))
    parts = _open(width, height, title)
    x = label_width
    for index, name in enumerate(series):
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colours[index % len(colours)]}"/>')
        parts.append(f'<text x="{x + 16}" y="16" fill="{TEXT}" {FONT}>{escape(name)}</text>')
        x += 16 + 14 * len(name) + 16
    top_value = _nice_max(max((sum(values) for _k, values in rows), default=0))
    plot_w = width - label_width - 48
    for index, (label, values) in enumerate(rows):
        y = top + row_h * index
        joined = ",".join(str(v) for v in values)
        parts.append(f'<g class="bar" data-label="{escape(label)}" data-value="{joined}">')
        described = "，".join(f"{name}{value}" for name, value in zip(series, values, strict=True))
        parts.append(f"<title>{escape(label)}：{escape(described)}</title>")
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end" fill="{TEXT}" {FONT}>{escape(label)}</text>'
        )
        start = float(label_width)
        for series_index, value in enumerate(values):
            w = plot_w * value / top_value
            if w:
                colour = colours[series_index % len(colours)]
                parts.append(
                    f'<rect x="{start:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}"/>'
                )
            start += w
        parts.append(f'<text x="{start + 4:.1f}" y="{y + 16}" fill="{TEXT}" {FONT}>{sum(values)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)
