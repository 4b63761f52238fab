"""Drill-down and cross-filtering from the charts: a click on a bar, a cell
or a link, or a drag across a time axis, becomes the URL of the view behind
it (the URL is the view's whole state, so the result can be shared and the
browser's back button undoes it).

Pure functions of (chart, event, current URL): the Dash callback in
``seamline.app`` only wires them to ``dcc.Location``.
"""

from __future__ import annotations

import re

from datetime import date, timedelta
from typing import Any, Mapping
from urllib.parse import urlencode

from seamline.urlstate import parse_search

# Charts whose x axis is time: dragging across one sets the period.
TIME_CHARTS = {"journeys.daily", "continuity", "freshness.series", "overview.incidents", "incidents.daily",
               "effort.trend", "effort.silence"}

# What stays when a click leads to another page: the view, not the page's own choices.
CARRIED = ("period", "from", "to", "compare", "tz", "ids", "channel", "source", "topic")


def _query(search: str | None) -> dict[str, str]:
    return {k: v for k, v in parse_search(search).items() if isinstance(v, str)}


def _href(path: str, q: Mapping[str, str]) -> str:
    return path + ("?" + urlencode(dict(q), safe=",:/") if q else "")


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


_X_RANGE = re.compile(r"^(xaxis\d*)\.range(\[0\])?$")


def zoom(relayout: Mapping[str, Any] | None) -> tuple[date, date] | None:
    """The days a drag across a time axis selected (inclusive), or None for
    any other relayout (autorange, a y-axis zoom, a legend click)."""
    if not relayout:
        return None
    # the time axis of any panel: small multiples share it (xaxis, xaxis2, …)
    axis = next((m.group(1) for k in relayout if (m := _X_RANGE.match(str(k)))), "xaxis")
    lo, hi = relayout.get(f"{axis}.range[0]"), relayout.get(f"{axis}.range[1]")
    if lo is None and isinstance(relayout.get(f"{axis}.range"), (list, tuple)) and len(relayout[f"{axis}.range"]) == 2:
        lo, hi = relayout[f"{axis}.range"]
    d0, d1 = _day(lo), _day(hi)
    if d0 is None or d1 is None:
        return None
    if str(hi) < str(lo):
        d0, d1, lo, hi = d1, d0, hi, lo
    # a range ending at midnight ends the day before
    if str(hi)[10:].strip(" T:0.") == "" and d1 > d0:
        d1 -= timedelta(days=1)
    return d0, d1


def _point(click: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    points = (click or {}).get("points") or []
    return points[0] if points else None


def target(chart: str, path: str, search: str | None, click: Mapping[str, Any] | None = None,
           relayout: Mapping[str, Any] | None = None) -> str | None:
    """The URL (path and query) a chart event leads to, or None for no change."""
    q = _query(search)
    if relayout is not None:
        if chart not in TIME_CHARTS:
            return None
        days = zoom(relayout)
        if days is None:
            return None
        q.update(period="custom", **{"from": days[0].isoformat(), "to": days[1].isoformat()})
        return _href(path, q)
    point = _point(click)
    if point is None:
        return None
    carried = {k: v for k, v in q.items() if k in CARRIED}
    if chart in ("overview.incidents", "incidents.daily"):  # a day's bar: that day's incidents of that rule
        day = _day(point.get("x"))
        if day is None:
            return None
        carried.update(period="custom", **{"from": day.isoformat(), "to": day.isoformat()})
        if point.get("customdata"):
            carried["rule"] = str(point["customdata"])
        return _href("/incidents", carried)
    if chart == "incidents.by_channel" and point.get("x") is not None:
        carried["channel"] = str(point["x"])
        if point.get("customdata"):
            carried["rule"] = str(point["customdata"])
        return _href("/incidents", carried)
    if chart == "journeys.pairs" and point.get("x") is not None and point.get("y") is not None:
        # a heatmap cell (from = y, to = x): the journeys among those two channels
        carried["channel"] = ",".join(sorted({str(point["y"]), str(point["x"])}))
        return _href("/journeys", carried)
    if chart == "journeys.sankey":
        # a link's label is its pair ("chat → phone"); a point from Plotly itself also has its ends
        pair = str(point.get("label") or "").split(" → ")
        ends = (pair if len(pair) == 2 and all(p.strip() for p in pair)
                else [(point.get(side) or {}).get("label") for side in ("source", "target")])
        if all(ends):
            carried["channel"] = ",".join(sorted({str(e).replace("→", "").strip() for e in ends}))
            return _href("/journeys", carried)
        return None
    if chart == "freshness.slo" and point.get("y") is not None:  # a source's bar
        carried["source"] = str(point["y"])
        return _href("/freshness", carried)
    return None


# The page a KPI tile opens (its family's page), with the view carried over.
FAMILY_PAGES = {"freshness": "/freshness", "continuity": "/journeys", "silence": "/effort", "effort": "/effort",
                "retention": "/retention", "incidents": "/incidents"}


def tile_href(family: str, search: str | None) -> str:
    carried = {k: v for k, v in _query(search).items() if k in CARRIED}
    return _href(FAMILY_PAGES.get(family, "/"), carried)
