"""The one chart-geometry module: scaled and stacked bars, columns and sparklines."""

from __future__ import annotations

from core import charts


def test_scaled_bars_fill_the_length_with_the_largest_value():
    bars = charts.scaled_bars(
        [("a", 1), ("b", 4), ("c", 0)],
        length=360,
        row_height=30,
        top=8,
        colours={"b": "#123456"},
    )
    assert [(b["label"], b["value"], b["y"], b["width"]) for b in bars] == [
        ("a", 1, 8, 90.0),
        ("b", 4, 38, 360.0),
        ("c", 0, 68, 0.0),
    ]
    assert [b["colour"] for b in bars] == [charts.DEFAULT_COLOUR, "#123456", charts.DEFAULT_COLOUR]


def test_scaled_bars_keep_small_values_visible_and_round_to_whole_units():
    bars = charts.scaled_bars(
        [("few", 1), ("many", 1000)], length=380, row_height=30, min_length=2, digits=None
    )
    assert [b["width"] for b in bars] == [2, 380]
    assert charts.scaled_bars([], length=10, row_height=1) == []
    assert charts.scaled_bars([("zero", 0)], length=10, row_height=1)[0]["width"] == 0


def test_stacked_bars_lay_segments_end_to_end_and_leave_out_zeros():
    bars = charts.stacked_bars(
        [("team b", [("x", 1), ("y", 0), ("z", 3)]), ("team a", [("x", 2)]), ("empty", [])],
        length=400,
        row_height=30,
        colours={"x": "#111111"},
    )
    first, second, empty = bars
    assert (first["label"], first["total"], first["y"], first["end"]) == ("team b", 4, 0, 400.0)
    assert [(s["label"], s["x"], s["width"], s["colour"]) for s in first["segments"]] == [
        ("x", 0, 100.0, "#111111"),
        ("z", 100.0, 300.0, charts.DEFAULT_COLOUR),
    ]
    assert (second["y"], second["total"], second["end"]) == (30, 2, 200.0)
    assert (empty["segments"], empty["total"], empty["end"]) == ([], 0, 0)


def test_columns_take_their_colours_from_the_caller():
    chart = charts.column_chart([("A", 2), ("Z", 1)], colours={"A": "#15803d"})
    assert [c["colour"] for c in chart["columns"]] == ["#15803d", charts.DEFAULT_COLOUR]


def test_count_sparkline_scales_to_its_own_peak():
    line = charts.count_sparkline([0, 5, 10], width=100, height=32)
    assert line["points"] == "0.0,30.0 50.0,16.0 100.0,2.0" and line["max"] == 10
    assert charts.count_sparkline([], width=100, height=32)["points"] == ""
