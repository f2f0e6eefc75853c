"""Inline-SVG chart geometry: the views compute the shapes, templates only draw them, and
every chart is paired with a table or text so it is never the only way to read a number."""

from __future__ import annotations

from decimal import Decimal

GRADE_COLOURS = {"A": "#15803d", "B": "#65a30d", "C": "#ca8a04", "D": "#ea580c", "F": "#dc2626"}


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
                "colour": (colours or {}).get(label, "#2563eb"),
            }
        )
    return {
        "width": width,
        "height": max(len(items) * (bar_height + gap) - gap, bar_height),
        "label_width": label_width,
        "bars": bars,
    }


def column_chart(items: list[tuple[str, int]], *, width: int = 320, height: int = 160) -> dict:
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
                "colour": GRADE_COLOURS.get(label, "#2563eb"),
            }
        )
    return {"width": width, "height": height, "columns": columns, "label_y": height - 6}


def sparkline(values: list[float], *, width: int = 240, height: int = 48) -> dict:
    """A polyline over 0–100 scores (the app's trend across quarters)."""
    if not values:
        return {"width": width, "height": height, "points": "", "dots": []}
    step = width / max(len(values) - 1, 1)
    dots = [
        {"x": round(i * step if len(values) > 1 else width / 2, 1),
         "y": round(4 + (height - 8) * (1 - float(v) / 100), 1), "value": v}
        for i, v in enumerate(values)
    ]  # fmt: skip
    return {
        "width": width,
        "height": height,
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
    }
