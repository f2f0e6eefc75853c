"""Inline-SVG chart geometry: the views compute the shapes, templates only draw them, and
every chart is paired with a table or text so it is never the only way to read a number."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

DEFAULT_COLOUR = "#2563eb"


def _rounded(value: float, digits: int | None) -> float:
    return round(value) if digits is None else round(value, digits)


def scaled_bars(
    items: Sequence[tuple[str, int | float]],
    *,
    length: float,
    row_height: float,
    top: float = 0,
    min_length: float = 0,
    digits: int | None = 1,
    colours: Mapping[str, str] | None = None,
) -> list[dict]:
    """Horizontal bars, one row per ``(label, value)``, the largest value filling ``length``.

    Each bar has its row's ``y`` (``top`` + one ``row_height`` per row before it), its
    ``width`` rounded to ``digits`` (None: whole units) and at least ``min_length`` when the
    value is not zero (so a small count stays visible), and its ``colour`` by label.
    """
    peak = max((value for _, value in items), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(items):
        width = _rounded(length * value / peak, digits)
        if value and width < min_length:
            width = min_length
        bars.append(
            {
                "label": label,
                "value": value,
                "y": top + index * row_height,
                "width": width,
                "colour": (colours or {}).get(label, DEFAULT_COLOUR),
            }
        )
    return bars


def stacked_bars(
    rows: Sequence[tuple[str, Iterable[tuple[str, int | float]]]],
    *,
    length: float,
    row_height: float,
    top: float = 0,
    digits: int = 1,
    colours: Mapping[str, str] | None = None,
) -> list[dict]:
    """Horizontal bars made of segments: ``rows`` is ``(label, [(segment label, value)])``
    and the largest row total fills ``length``. Zero segments are left out; each segment
    has its ``x`` within the bar and its ``width``, each row its ``total``, its ``y`` and
    the ``end`` of its last segment (where a value label goes)."""
    rows = [(label, [(s, v) for s, v in segments if v]) for label, segments in rows]
    peak = max((sum(v for _, v in segments) for _, segments in rows), default=0) or 1
    bars = []
    for index, (label, segments) in enumerate(rows):
        # The int 0 until a segment is added: an empty bar ends at "0", as it always did.
        x: float = 0
        parts = []
        for segment, value in segments:
            width = length * value / peak
            parts.append(
                {
                    "label": segment,
                    "value": value,
                    "x": round(x, digits),
                    "width": round(width, digits),
                    "colour": (colours or {}).get(segment, DEFAULT_COLOUR),
                }
            )
            x += width
        bars.append(
            {
                "label": label,
                "total": sum(v for _, v in segments),
                "y": top + index * row_height,
                "segments": parts,
                "end": round(x, digits),
            }
        )
    return bars


def bar_chart(
    items: list[tuple[str, Decimal | int]],
    *,
    width: int = 640,
    bar_height: int = 22,
    gap: int = 8,
    label_width: int = 160,
    colours: dict[str, str] | None = None,
) -> dict:
    """Horizontal bars, one per ``(label, value)``, scaled to the largest value."""
    peak = max((v for _, v in items), default=0) or 1
    track = width - label_width - 110
    bars = []
    for index, (label, value) in enumerate(items):
        y = index * (bar_height + gap)
        length = float(Decimal(value) / Decimal(peak)) * track if value else 0.0
        bars.append(
            {
                "label": label,
                "value": value,
                "x": label_width,
                "y": y,
                "width": round(max(length, 1.0 if value else 0.0), 1),
                "height": bar_height,
                "text_y": y + bar_height * 0.7,
                "value_x": round(label_width + length + 6, 1),
                "colour": (colours or {}).get(label, DEFAULT_COLOUR),
            }
        )
    return {
        "width": width,
        "height": max(len(items) * (bar_height + gap) - gap, bar_height),
        "label_width": label_width,
        "bars": bars,
    }


def column_chart(
    items: list[tuple[str, int]],
    *,
    width: int = 320,
    height: int = 160,
    colours: Mapping[str, str] | None = None,
) -> dict:
    """Vertical columns (the grade distribution), labels under the columns."""
    peak = max((v for _, v in items), default=0) or 1
    slot = width / max(len(items), 1)
    plot = height - 36
    columns = []
    for index, (label, value) in enumerate(items):
        h = plot * value / peak
        columns.append(
            {
                "label": label,
                "value": value,
                "x": round(index * slot + slot * 0.2, 1),
                "y": round(16 + plot - h, 1),
                "width": round(slot * 0.6, 1),
                "height": round(h, 1),
                "centre": round(index * slot + slot / 2, 1),
                "value_y": round(12 + plot - h, 1),
                "colour": (colours or {}).get(label, DEFAULT_COLOUR),
            }
        )
    return {"width": width, "height": height, "columns": columns, "label_y": height - 6}


def sparkline(values: list[float], *, width: int = 240, height: int = 48) -> dict:
    """A polyline over 0–100 scores (the app's trend across quarters)."""
    if not values:
        return {"width": width, "height": height, "points": "", "dots": []}
    step = width / max(len(values) - 1, 1)
    dots = [
        {
            "x": round(i * step if len(values) > 1 else width / 2, 1),
            "y": round(4 + (height - 8) * (1 - float(v) / 100), 1),
            "value": v,
        }
        for i, v in enumerate(values)
    ]
    return {
        "width": width,
        "height": height,
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
    }


def count_sparkline(values: list[int], *, width: int = 180, height: int = 32) -> dict:
    """A polyline of counts scaled to their own peak (an app's daily requests)."""
    if not values:
        return {"points": "", "width": width, "height": height, "max": 0}
    peak = max(values) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / peak) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return {"points": points, "width": width, "height": height, "max": max(values)}
