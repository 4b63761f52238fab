"""Alert periods on the charts they concern: each firing period of an
instance whose dashboard view is the chart's page (a burn-rate, regression
or no-data alert about a source shown on the freshness chart) is a shaded
band over the time axis, labelled with its rule and source."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Iterable

from seamline.alerts.board import Period, clip, firing_periods, instances

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    import plotly.graph_objects as go

log = logging.getLogger("seamline.dashboard")

FIRING = "#e03131"
NAME_PREFIX = "alert: "   # the shapes' names: a test (or a reader of the figure) finds them by it


def shade(fig: "go.Figure", periods: Iterable[Period], tz: str, start: "datetime", end: "datetime") -> "go.Figure":
    """``fig`` with a band per period (cut to [start, end)) on its time axis,
    in the display zone ``tz``; a figure without traces (no data) is left alone."""
    from seamline.formatting import to_local
    from seamline.safe_output import clip as clip_text, plain

    if not fig.data:
        return fig
    # a figure of small multiples (a panel per source: layout.meta["rows"]) shades a source's panel
    meta = fig.layout.meta
    rows = dict(meta.get("rows") or {}) if isinstance(meta, dict) else {}
    panels = len(rows) > 1
    stacked: dict[object, int] = {}  # labels per panel so far: each next one a line higher, not on top
    for p in clip(periods, start, end):
        label = f"{p.rule} ({p.source})" if p.source else p.rule
        state = "firing" if p.firing else "resolved"
        row = rows.get(p.source) if panels else None
        where = {"row": row, "col": 1} if row else ({"row": "all", "col": 1} if panels else {})
        fig.add_vrect(x0=to_local(p.start, tz), x1=to_local(p.end, tz), fillcolor=FIRING,
                      opacity=0.14 if p.firing else 0.08, line_width=0, layer="below", name=NAME_PREFIX + label,
                      **where)
        yref = (f"y{row if row > 1 else ''} domain" if row else "paper")
        k = stacked[row] = stacked.get(row, -1) + 1
        fig.add_annotation(x=to_local(p.start, tz), y=min(0.9, k * (0.24 if row else 0.06)), yref=yref,
                           xanchor="left", yanchor="bottom",
                           text=clip_text(plain(f"alert {label}"), 32),
                           hovertext=clip_text(plain(f"{state}: {p.summary}"), 200),
                           showarrow=False, font=dict(color=FIRING, size=10))
    return fig


def on_chart(fig: "go.Figure", ctx, state, page: str, kpis: Iterable[str] = ()) -> "go.Figure":
    """``fig`` with the firing periods of ``page``'s alerts for the view's
    sources (and, of its KPI alerts, those on ``kpis``: key prefixes such as
    ``"silence."``).  The bands are an aside: if the alert state cannot be
    read the chart is drawn without them (and the failure logged)."""
    if not ctx.settings.alerts:
        return fig
    try:
        periods = firing_periods(instances(ctx.md), page, state.sources, kpis)
        return shade(fig, periods, state.tz, state.start, state.end)
    except Exception:
        log.exception("alert periods not drawn on %s", page)
        return fig
