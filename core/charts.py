"""Inline-SVG chart geometry: the views compute the shapes, templates only draw them, and
every chart is paired with a table or text so it is never the only way to read a number."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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


# --- layered graphs (who calls whom) ----------------------------------------------------------


@dataclass
class GraphNode:
    """One app's box in a layered picture: ``layer`` is its column, ``x``/``y`` its corner."""

    pk: int
    slug: str
    state: str
    layer: int = 0
    x: float = 0
    y: float = 0
    name: str = ""


def longest_path_layers(nodes: dict[int, GraphNode], edges: list[tuple[int, int]]) -> None:
    """Put each node one column right of the furthest of its dependencies (``edges`` are
    ``(dependent, dependency)``), so every dependency sits left of its dependents. Cycles are
    broken by ignoring the back edges met during the depth-first walk."""
    deps: dict[int, list[int]] = defaultdict(list)
    for source, target in edges:
        deps[source].append(target)
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done

    for start in nodes:
        if start in state:
            continue
        stack = [(start, iter(deps[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            advanced = False
            for child in children:
                if child not in nodes or state.get(child) == 1:
                    continue  # outside the picture, or a back edge of a cycle
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(deps[child])))
                    advanced = True
                    break
            if advanced:
                continue
            stack.pop()
            state[node] = 2
            done = [nodes[c].layer for c in deps[node] if c in nodes and state.get(c) == 2]
            nodes[node].layer = 1 + max(done) if done else 0


def place_layers(
    nodes: dict[int, GraphNode], edges: list[tuple[int, int]], *, col: int = 190, row: int = 34
) -> tuple[int, int]:
    """Place nodes whose ``layer`` is set: one column per layer, each column ordered by the
    mean position of the nodes it depends on (a cheap barycentre pass that removes most
    crossings), the first column by slug. Returns the picture's width and height."""
    deps: dict[int, list[int]] = defaultdict(list)
    for source, target in edges:
        deps[source].append(target)
    columns: dict[int, list[GraphNode]] = defaultdict(list)
    for node in nodes.values():
        columns[node.layer].append(node)
    for layer in sorted(columns):
        column = columns[layer]
        if layer == 0:
            column.sort(key=lambda n: n.slug)
        else:
            column.sort(
                key=lambda n: (
                    sum(nodes[d].y for d in deps[n.pk] if d in nodes)
                    / max(1, sum(1 for d in deps[n.pk] if d in nodes)),
                    n.slug,
                )
            )
        for index, node in enumerate(column):
            node.x = 10 + layer * col
            node.y = 10 + index * row
    width = 10 + (max(columns) + 1 if columns else 1) * col
    height = 20 + max((len(c) for c in columns.values()), default=1) * row
    return width, height


def layered_layout(
    nodes: dict[int, GraphNode], edges: list[tuple[int, int]], *, col: int = 190, row: int = 34
) -> tuple[int, int]:
    """Columns by longest dependency path, then placed by :func:`place_layers`."""
    longest_path_layers(nodes, edges)
    return place_layers(nodes, edges, col=col, row=row)


def edge_path(source: GraphNode, target: GraphNode, *, box_w: float, box_h: float) -> str:
    """An SVG path from a dependent's box (right) to its dependency's box (left); an edge
    that does not point left (a cycle, or a call within one column) curves below."""
    x1, y1 = source.x, source.y + box_h / 2
    x2, y2 = target.x + box_w, target.y + box_h / 2
    if source.layer <= target.layer:
        return f"M{x1},{y1} C{x1 - 40},{y1 + 40} {x2 + 40},{y2 + 40} {x2},{y2}"
    mid = (x1 + x2) / 2
    return f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
