"""Charts as inline SVG, drawn on the server: no script, no library, readable without a browser's
help. Each returns markup (numbers and escaped labels only)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bars", "columns"]

PALETTE = {
    "succeeded": "#1f8a4c", "processing": "#2f6fb5", "authorized": "#6b5fc7", "requires_action": "#b8860b",
    "failed": "#c0392b", "canceled": "#7f8c8d", "expired": "#95a5a6", "pending": "#b8860b", "skipped": "#95a5a6",
}  # fmt: skip


def columns(points: Sequence[tuple[str, int, str]], *, title: str, height: int = 140) -> Markup:
    """Vertical bars, one per (label, value, caption); e.g. the volume of each day."""
    width, gap = 360, 3
    top = max((v for _, v, _ in points), default=0) or 1
    step = width / max(len(points), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 24}" role="img" aria-label="{escape(title)}" '
        'preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value, caption) in enumerate(points):
        h = round(value / top * height, 1)
        x = round(i * step + gap / 2, 1)
        parts.append(
            f'<rect x="{x}" y="{height - h}" width="{round(step - gap, 1)}" height="{h}" fill="#2f6fb5" rx="2">'
            f"<title>{escape(label)}: {escape(caption)}</title></rect>"
        )
        if len(points) <= 7 or (len(points) - 1 - i) % 2 == 0:  # every other day, ending today
            parts.append(
                f'<text x="{round(x + (step - gap) / 2, 1)}" y="{height + 16}" text-anchor="middle" '
                f'font-size="10" fill="#555">{escape(label[-5:])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(items: Sequence[tuple[str, int]], *, title: str) -> Markup:
    """Horizontal bars with their counts; e.g. payments per state, deliveries per outcome."""
    width, row = 360, 24
    top = max((v for _, v in items), default=0) or 1
    height = max(len(items), 1) * row
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not items:
        parts.append('<text x="0" y="18" font-size="13" fill="#777">nothing yet</text>')
    for i, (label, value) in enumerate(items):
        y = i * row
        w = round(value / top * (width - 260), 1)
        colour = PALETTE.get(label, "#2f6fb5")
        parts.append(
            f'<text x="0" y="{y + 17}" font-size="13" fill="#333">{escape(label)}</text>'
            f'<rect x="150" y="{y + 5}" width="{max(w, 1)}" height="16" fill="{colour}" rx="2"/>'
            f'<text x="{150 + max(w, 1) + 6}" y="{y + 17}" font-size="13" fill="#333">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
