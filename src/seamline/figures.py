"""Figures: data frames (from ``seamline.queries``) → plotly figures.  No
Dash, no warehouse: tested without a browser.

Every figure builder returns the "no data" figure for an empty frame, and is
decorated with ``plain_inputs``: the text of the frames it draws (channels,
sources, topics, attrs — event data) is escaped, so Plotly shows it as text.
Plotly is imported where a figure is built (STYLE 11).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from seamline.formatting import fmt_duration, local_series, p_text, to_local
from seamline.safe_output import clip, plain_inputs

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

NO_DATA = "No data for this selection"
COLORS = {"seamless": "#2a9d8f", "frictioned": "#e76f51", "before": "#577590", "after": "#e76f51",
          "target": "#9a9a9a", "main": "#264653", "band": "rgba(38,70,83,0.15)",
          "previous": "#a8b8c0", "muted": "#7a868d"}
PALETTE = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#577590", "#8ab17d", "#b5838d", "#6d597a"]


# --------------------------------------------------------------------------
# The common layout and the no-data figure
# --------------------------------------------------------------------------
def _fig(**layout: Any) -> "go.Figure":
    import plotly.graph_objects as go

    fig = go.Figure()
    base = dict(template="plotly_white", margin=dict(l=50, r=20, t=40, b=40), height=340,
                font=dict(family="system-ui, -apple-system, Segoe UI, sans-serif", size=12),
                legend=dict(orientation="h", y=-0.18))
    fig.update_layout(**(base | layout))
    return fig


def no_data_figure(message: str = NO_DATA, height: int = 340) -> "go.Figure":
    fig = _fig(height=height)
    fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False))
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=16, color="#777"))
    return fig


def is_no_data(fig: "go.Figure") -> bool:
    return not fig.data and any(a.text == NO_DATA for a in fig.layout.annotations)


@plain_inputs
def sparkline(df: "pd.DataFrame", column: str, kind: str = "pct") -> "go.Figure":
    import plotly.graph_objects as go

    if df is None or df.empty or column not in df or df[column].notna().sum() == 0:
        return no_data_figure("no daily data", height=60)
    fig = go.Figure(go.Scatter(x=list(df["day"]), y=list(df[column]), mode="lines", connectgaps=True,
                               line=dict(color=COLORS["main"], width=1.5), hoverinfo="x+y"))
    fig.update_layout(height=60, margin=dict(l=0, r=0, t=0, b=0), template="plotly_white", showlegend=False,
                      xaxis=dict(visible=False), yaxis=dict(visible=False, tickformat=".0%" if kind == "pct" else None))
    return fig


@plain_inputs
def band_figure(df: "pd.DataFrame", x: str, y: str, low: str | None = None, high: str | None = None,
                title: str = "", target: float | None = None, pct: bool = False, name: str | None = None,
                ytitle: str = "") -> "go.Figure":
    """A line with an optional confidence band and target line."""
    import plotly.graph_objects as go

    if df is None or df.empty or y not in df or df[y].notna().sum() == 0:
        return no_data_figure()
    fig = _fig(title=title)
    xs = list(df[x])
    if low and high and low in df and high in df:
        fig.add_trace(go.Scatter(x=xs + xs[::-1], y=list(df[high]) + list(df[low])[::-1], fill="toself",
                                 fillcolor=COLORS["band"], line=dict(width=0), hoverinfo="skip",
                                 name="95 % interval", showlegend=True))
    fig.add_trace(go.Scatter(x=xs, y=list(df[y]), mode="lines+markers", name=name or y,
                             line=dict(color=COLORS["main"], width=2), marker=dict(size=4), connectgaps=False))
    if target is not None:
        fig.add_hline(y=target, line=dict(color=COLORS["target"], dash="dash"), annotation_text="target")
    fig.update_yaxes(title=ytitle, tickformat=".0%" if pct else None)
    return fig


@plain_inputs
def add_previous(fig: "go.Figure", prev: "pd.DataFrame", x: str, y: str, shift: Any,
                 name: str = "previous period") -> "go.Figure":
    """Overlay the previous period's series, shifted onto the current one."""
    import pandas as pd
    import plotly.graph_objects as go

    if prev is None or prev.empty or y not in prev or prev[y].notna().sum() == 0 or not fig.data:
        return fig
    xs = pd.to_datetime(prev[x]) + pd.Timedelta(shift)
    fig.add_trace(go.Scatter(x=list(xs), y=list(prev[y]), name=name, mode="lines",
                             line=dict(color=COLORS["target"], dash="dot", width=1.5)))
    return fig


@plain_inputs
def rates_figure(df: "pd.DataFrame", x: str, columns: Mapping[str, str], title: str = "",
                 hover: Mapping[str, str] | None = None, xtitle: str = "") -> "go.Figure":
    """Rates (shares of 1) on one percent axis from 0 to 100 %; ``hover``
    (column -> label) adds each day's volumes to every point's hover, so
    counts need no second axis."""
    import plotly.graph_objects as go

    if df is None or df.empty or all(df[c].notna().sum() == 0 for c in columns if c in df):
        return no_data_figure()
    fig = _fig(title=title)
    extra = [c for c in (hover or {}) if c in df]
    custom = [[_count(v) for v in row] for row in df[extra].itertuples(index=False)] if extra else None
    tail = "".join(f"<br>{hover[c]}: %{{customdata[{i}]}}" for i, c in enumerate(extra))
    for i, (col, label) in enumerate(columns.items()):
        if col not in df:
            continue
        fig.add_trace(go.Scatter(x=list(df[x]), y=list(df[col]), name=label, mode="lines",
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2), customdata=custom,
                                 hovertemplate=f"{label}: %{{y:.1%}}{tail}<extra>%{{x|%b %d}}</extra>"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], title="share")
    if xtitle:
        fig.update_xaxes(title=xtitle)
    return fig


def _count(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


@plain_inputs
def retention_figure(points: "pd.DataFrame", logrank_p: float | None = None, title: str = "") -> "go.Figure":
    import plotly.graph_objects as go

    if points is None or points.empty:
        return no_data_figure()
    ptxt = f"log-rank {p_text(logrank_p)}" if logrank_p is not None else "log-rank p: n/a"
    fig = _fig(title=f"{title} ({ptxt})" if title else ptxt)
    for seg in ("seamless", "frictioned"):
        part = points[points["segment"] == seg]
        if part.empty:
            continue
        color = COLORS[seg]
        xs = list(part["days"])
        rgba = "rgba(42,157,143,0.15)" if seg == "seamless" else "rgba(231,111,81,0.15)"
        fig.add_trace(go.Scatter(x=xs + xs[::-1], y=list(part["high"]) + list(part["low"])[::-1], fill="toself",
                                 fillcolor=rgba, line=dict(width=0, shape="hv"), hoverinfo="skip",
                                 name=f"{seg} 95 % band", showlegend=False))
        fig.add_trace(go.Scatter(x=xs, y=list(part["survival"]), name=seg, mode="lines",
                                 line=dict(color=color, width=2, shape="hv")))
    fig.update_xaxes(title="days since landmark (30 days after first event)")
    fig.update_yaxes(title="share still a customer", tickformat=".0%", range=[0, 1.02])
    return fig


@plain_inputs
def stacked_bars(df: "pd.DataFrame", x: str, color: str, y: str, title: str = "", horizontal: bool = False,
                 days: tuple[Any, Any] | None = None) -> "go.Figure":
    """Stacked bars per ``color``.  ``days`` = (first, last) day: x holds days,
    drawn over that whole period with one tick per day when it is short
    (Plotly's own axis turned two days of data into hours)."""
    import plotly.graph_objects as go

    if df is None or df.empty or df[y].sum() == 0:
        return no_data_figure()
    fig = _fig(title=title, barmode="stack")
    if days is not None and not horizontal:
        import pandas as pd

        first, last = (pd.Timestamp(d).tz_localize(None) if pd.Timestamp(d).tzinfo else pd.Timestamp(d) for d in days)
        span = (last - first).days + 1
        fig.update_xaxes(type="date", range=[first - pd.Timedelta(hours=12), last + pd.Timedelta(hours=12)],
                         tickformat="%b %d", dtick=86_400_000 * max(1, -(-span // 14)))
    for i, (key, part) in enumerate(df.groupby(color, sort=True)):
        kw = dict(y=list(part[x]), x=list(part[y]), orientation="h") if horizontal else dict(x=list(part[x]), y=list(part[y]))
        if days is not None and not horizontal:
            kw["width"] = 0.8 * 86_400_000  # a day's bar is most of a day wide (one bar alone was 1 ms, invisible)
        # customdata carries the series a clicked bar belongs to (drill-down: seamline.drill)
        fig.add_trace(go.Bar(name=str(key), marker_color=PALETTE[i % len(PALETTE)], customdata=[str(key)] * len(part),
                             **kw))
    return fig


@plain_inputs
def heatmap_figure(pairs: "pd.DataFrame", title: str = "Continuity by channel pair (from → to)") -> "go.Figure":
    import plotly.graph_objects as go

    if pairs is None or pairs.empty:
        return no_data_figure()
    froms = sorted(pairs["from_channel"].unique())
    tos = sorted(pairs["to_channel"].unique())
    idx = {(r.from_channel, r.to_channel): r for r in pairs.itertuples()}
    z, text = [], []
    for f in froms:
        zr, tr = [], []
        for t in tos:
            r = idx.get((f, t))
            zr.append(None if r is None else r.rate)
            tr.append("" if r is None else f"{100 * r.rate:.0f} %<br>n={r.transitions}")
        z.append(zr)
        text.append(tr)
    fig = _fig(title=title, height=420)
    fig.add_trace(go.Heatmap(z=z, x=tos, y=froms, text=text, texttemplate="%{text}", zmin=0, zmax=1,
                             colorscale="RdYlGn", colorbar=dict(title="continuity", tickformat=".0%"),
                             hovertemplate="%{y} → %{x}<br>%{text}<extra></extra>"))
    fig.update_xaxes(title="to channel")
    fig.update_yaxes(title="from channel", autorange="reversed")
    return fig


@plain_inputs
def sankey_figure(pairs: "pd.DataFrame", title: str = "Transitions between channels") -> "go.Figure":
    import plotly.graph_objects as go

    if pairs is None or pairs.empty:
        return no_data_figure()
    froms = sorted(pairs["from_channel"].unique())
    tos = sorted(pairs["to_channel"].unique())
    labels = [f"{c} →" for c in froms] + [f"→ {c}" for c in tos]
    fi = {c: i for i, c in enumerate(froms)}
    ti = {c: len(froms) + i for i, c in enumerate(tos)}
    colors = [f"rgba({int(230 - 190 * r)},{int(80 + 100 * r)},{int(80 + 40 * r)},0.45)" for r in pairs["rate"].fillna(0)]
    fig = _fig(title=title, height=460)
    fig.add_trace(go.Sankey(
        node=dict(label=labels, pad=12, thickness=14, color="#264653"),
        link=dict(source=[fi[f] for f in pairs["from_channel"]], target=[ti[t] for t in pairs["to_channel"]],
                  value=list(pairs["transitions"]), color=colors,
                  # the pair is the link's label: a click's point reaches the app without its source and
                  # target (dcc.Graph keeps only a point's plain values, and a trace's own customdata)
                  label=[f"{f} → {t}" for f, t in zip(pairs["from_channel"], pairs["to_channel"])],
                  customdata=[f"{100 * r:.0f} % frictionless" for r in pairs["rate"].fillna(0)],
                  hovertemplate="%{source.label} %{target.label}: %{value} (%{customdata})<extra></extra>")))
    return fig


@plain_inputs
def friction_figure(pairs: "pd.DataFrame", title: str = "Friction mix by destination channel") -> "go.Figure":
    import plotly.graph_objects as go

    if pairs is None or pairs.empty or pairs[["repeat_info", "reauth", "transfers"]].sum().sum() == 0:
        return no_data_figure()
    g = pairs.groupby("to_channel")[["repeat_info", "reauth", "transfers"]].sum().reset_index()
    fig = _fig(title=title, barmode="stack")
    for i, col in enumerate(("repeat_info", "reauth", "transfers")):
        fig.add_trace(go.Bar(x=list(g["to_channel"]), y=list(g[col]), name=col.replace("_", " "),
                             marker_color=PALETTE[(i + 2) % len(PALETTE)]))
    fig.update_yaxes(title="events within 30 min of the second touch")
    return fig


@plain_inputs
def freshness_figure(series: "pd.DataFrame", quantile: str = "p95", target: float | None = None,
                     regressions: Iterable[Mapping[str, Any]] = (), annotations: Iterable[Mapping[str, Any]] = (),
                     tz: str = "UTC", start: datetime | None = None, end: datetime | None = None,
                     targets: Mapping[str, float] | None = None, previous: "pd.DataFrame | None" = None,
                     shift: Any = None) -> "go.Figure":
    """The lag quantile per source over time.  One source is one panel; more
    are small multiples, a panel per source with its own log axis and its own
    SLO target (``targets``, else ``target``), so a source's step shows
    beside the others' scale.  With ``previous`` (the previous period's
    series), each panel overlays its source's previous period, shifted by
    ``shift``.  ``layout.meta["rows"]`` maps each source to its panel."""
    import pandas as pd
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if series is None or series.empty:
        return no_data_figure()
    sources = sorted(series["source"].astype(str).unique())
    many = len(sources) > 1
    title = f"Lag {quantile} per source (display zone {tz})"
    if many:
        fig = make_subplots(rows=len(sources), cols=1, shared_xaxes=True, vertical_spacing=0.1 / len(sources),
                            subplot_titles=sources)
        base = _fig().layout
        fig.update_layout(template=base.template, margin=base.margin, font=base.font, title=title, showlegend=False,
                          height=max(420, 100 * len(sources) + 90))
        for a in fig.layout.annotations:  # the panels' titles, inside each panel's top left
            a.update(x=0, xanchor="left", font=dict(size=11, color="#555"))
    else:
        fig = _fig(title=title, height=420)
    rows = {src: i + 1 for i, src in enumerate(sources)}
    where = (lambda src: dict(row=rows[src], col=1)) if many else (lambda src: {})
    prev = None
    if previous is not None and not previous.empty:
        prev = previous.assign(bucket=local_series(previous["bucket"], tz) + pd.Timedelta(shift or 0))
    for i, src in enumerate(sources):
        part = series[series["source"].astype(str) == src]
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=list(local_series(part["bucket"], tz)), y=list(part[quantile]), name=src,
                                 mode="lines", line=dict(color=color, width=1.5)), **where(src))
        if prev is not None:
            before = prev[prev["source"].astype(str) == src]
            if len(before):
                fig.add_trace(go.Scatter(x=list(before["bucket"]), y=list(before[quantile]),
                                         name=f"{src}, previous period", mode="lines",
                                         line=dict(color=COLORS["target"], dash="dot", width=1.2)), **where(src))
        goal = (targets or {}).get(src, target)
        if goal is not None and goal > 0:
            fig.add_hline(y=goal, line=dict(color=COLORS["target"], dash="dash"), **where(src))
            # annotations on a log axis take log10 coordinates
            fig.add_annotation(x=1, xref="paper", xanchor="right", y=math.log10(goal), yanchor="bottom",
                               yref=_yref(rows[src]),
                               text=f"SLO target {fmt_duration(goal)}", showarrow=False,
                               font=dict(color="#555", size=11 if not many else 10))
    if previous is not None and prev is None:
        fig.add_annotation(text="no data for the previous period", xref="paper", yref="paper", x=0, y=1.06,
                           xanchor="left", showarrow=False, font=dict(color=COLORS["muted"]))

    def inside(t):
        return t is not None and (start is None or t >= start) and (end is None or t < end)

    for r in regressions:
        if inside(r.get("onset")) and str(r.get("source")) in rows:
            x = to_local(r["onset"], tz)
            fig.add_vline(x=x, line=dict(color="#d62828", dash="dot"), **where(str(r["source"])))
            fig.add_annotation(x=x, y=1, yref=_yref(rows[str(r["source"])], " domain") if many else "paper",
                               text=f"regression: {r['source']}", showarrow=False,
                               font=dict(color="#d62828", size=11), yanchor="bottom" if not many else "top",
                               xanchor="left" if many else "center")
    for a in annotations:
        if inside(a.get("at")):
            x = to_local(a["at"], tz)
            fig.add_vline(x=x, line=dict(color="#6d597a", dash="dash"), **({"row": "all", "col": 1} if many else {}))
            # left-aligned at its line, so a label near the right edge is not cut; the full text on hover
            fig.add_annotation(x=x, y=0.92 if not many else 1, yref="paper", text=clip(str(a.get("text", "")), 28),
                               showarrow=False, hovertext=clip(str(a.get("text", "")), 200), xanchor="left",
                               font=dict(color="#6d597a", size=10), yanchor="bottom")
    # Ticks in the units the target is given in: minor log ticks "2 … 9" read as seconds they are not.
    fig.update_yaxes(type="log", tickvals=[t for t, _ in _LAG_TICKS], ticktext=[x for _, x in _LAG_TICKS],
                     minor=dict(ticks="", showgrid=False))
    if not many:
        fig.update_yaxes(title="lag")
    fig.update_layout(meta={"rows": rows})
    return fig


def _yref(row: int, suffix: str = "") -> str:
    """The y axis of a subplot row ("y", "y2", …), or its domain."""
    return f"y{row if row > 1 else ''}{suffix}"


_LAG_TICKS = [(0.1, "0.1 s"), (1, "1 s"), (10, "10 s"), (60, "1 min"), (600, "10 min"), (3600, "1 h"),
             (6 * 3600, "6 h"), (86400, "1 d"), (7 * 86400, "7 d")]


@plain_inputs
def ci_bars(df: "pd.DataFrame", x: str, y: str, low: str, high: str, title: str = "", pct: bool = False,
            target: float | None = None, horizontal: bool = False,
            previous: "pd.DataFrame | None" = None) -> "go.Figure":
    """Bars with their intervals; with ``previous`` (the previous period's
    rows, same columns) a lighter bar of the previous period beside each, or
    a note that the previous period has no data."""
    import plotly.graph_objects as go

    if df is None or df.empty or df[y].notna().sum() == 0:
        return no_data_figure()
    vals = df[y].astype(float)
    plus = (df[high].astype(float) - vals).fillna(0).clip(lower=0)
    minus = (vals - df[low].astype(float)).fillna(0).clip(lower=0)
    fig = _fig(title=title)
    err = dict(type="data", array=list(plus), arrayminus=list(minus), color="#555")
    if horizontal:
        # every bar says its value: a single bar alone is otherwise a shape without a number
        fig.add_trace(go.Bar(y=list(df[x]), x=list(vals), orientation="h", error_x=err, marker_color=COLORS["main"], name=y,
                             text=[_bar_label(v, pct) for v in vals], textposition=_label_positions(vals),
                             insidetextanchor="end"))
        fig.update_xaxes(tickformat=".0%" if pct else None)
    else:
        fig.add_trace(go.Bar(x=list(df[x]), y=list(vals), error_y=err, marker_color=COLORS["main"], name=y,
                             text=[_bar_label(v, pct) for v in vals], textposition=_label_positions(vals),
                             insidetextanchor="end"))
        fig.update_yaxes(tickformat=".0%" if pct else None)
    if previous is not None:
        _previous_bars(fig, df, previous, x, y, pct, horizontal)
    if target is not None:
        (fig.add_vline if horizontal else fig.add_hline)(target, line=dict(color=COLORS["target"], dash="dash"))
    return fig


def _previous_bars(fig, df, previous, x: str, y: str, pct: bool, horizontal: bool) -> None:
    import plotly.graph_objects as go

    fig.data[0].name = "this period"
    if previous.empty or previous[y].notna().sum() == 0:
        fig.add_annotation(text="no data for the previous period", xref="paper", yref="paper", x=1, y=1.08,
                           showarrow=False, font=dict(color=COLORS["muted"]))
        return
    prev = dict(zip(previous[x], previous[y].astype(float)))
    vals = [prev.get(k, float("nan")) for k in df[x]]
    labels = [_bar_label(v, pct) for v in vals]
    bar = (dict(y=list(df[x]), x=vals, orientation="h") if horizontal else dict(x=list(df[x]), y=vals))
    fig.add_trace(go.Bar(**bar, name="previous period", marker_color=COLORS["previous"], text=labels,
                         textposition="outside"))
    fig.update_layout(barmode="group", showlegend=True)


def _label_positions(vals: "pd.Series") -> list[str]:
    """Inside a bar long enough to hold its label, else beside it (a 0 % bar has no inside)."""
    top = max([abs(v) for v in vals if not math.isnan(v)] or [0])
    return ["inside" if top and abs(v) >= 0.15 * top else "outside" for v in vals.fillna(0)]


def _bar_label(value: float, pct: bool) -> str:
    if value is None or math.isnan(value):
        return ""
    return f"{100 * value:.1f} %" if pct else f"{value:,.2f}"


@plain_inputs
def lagdist_figure(df: "pd.DataFrame", title: str = "Lag distribution before vs after the onset") -> "go.Figure":
    import plotly.graph_objects as go

    if df is None or df.empty:
        return no_data_figure("Select a regression to compare its lag distribution" if df is None else NO_DATA)
    fig = _fig(title=title, barmode="overlay")
    for phase in ("before", "after"):
        part = df[df["phase"] == phase]
        if part.empty:
            continue
        fig.add_trace(go.Bar(x=list(part["bin_low_s"]), y=list(part["share"]), name=f"{phase} onset",
                             marker_color=COLORS[phase], opacity=0.6,
                             width=list(part["bin_high_s"] - part["bin_low_s"]), offset=0))
    fig.update_xaxes(title="lag (s, log scale)", type="log")
    fig.update_yaxes(title="share of events", tickformat=".0%")
    return fig


@plain_inputs
def ces_distribution_figure(df: "pd.DataFrame") -> "go.Figure":
    import plotly.graph_objects as go

    if df is None or df.empty or df["responses"].sum() == 0:
        return no_data_figure()
    total = df["responses"].sum()
    fig = _fig(title=f"CES answers (n = {int(total):,}; 7 = very easy)")
    fig.add_trace(go.Bar(x=list(df["ces"]), y=list(df["responses"] / total), marker_color=COLORS["main"],
                         text=[f"{int(n)}" for n in df["responses"]], textposition="outside", name="share"))
    fig.update_yaxes(tickformat=".0%", title="share of answers")
    fig.update_xaxes(dtick=1, title="CES")
    return fig


@plain_inputs
def calibration_figure(df: "pd.DataFrame") -> "go.Figure":
    import plotly.graph_objects as go

    if df is None or df.empty:
        return no_data_figure("Effort model unavailable: observed CES only")
    fig = _fig(title="Predicted vs answered CES (by prediction quintile)")
    fig.add_trace(go.Scatter(x=[1, 7], y=[1, 7], mode="lines", line=dict(dash="dash", color=COLORS["target"]),
                             name="perfect calibration"))
    fig.add_trace(go.Scatter(x=list(df["predicted_ces"]), y=list(df["observed_ces"]), mode="markers+lines",
                             marker=dict(size=[max(6, min(24, n ** 0.5)) for n in df["responses"]], color=COLORS["main"]),
                             name="quintiles", text=[f"n={n}" for n in df["responses"]]))
    fig.update_xaxes(title="predicted CES", range=[1, 7])
    fig.update_yaxes(title="answered CES", range=[1, 7])
    return fig


@plain_inputs
def timeline_figure(df: "pd.DataFrame", tz: str = "UTC", at: datetime | None = None) -> "go.Figure":
    """A customer's events across channels; the incident's events highlighted."""
    import plotly.graph_objects as go

    if df is None or df.empty:
        return no_data_figure("Select an incident to see the customer's timeline")
    fig = _fig(title=f"Customer timeline ±7 days (display zone {tz})", height=380)
    xs = local_series(df["occurred_at"], tz)
    involved = df["involved"].astype(bool)
    # what the customer saw: the message's kind, campaign, product, subject and status
    def col(name):
        return df[name] if name in df else [""] * len(df)

    hover = [f"{t} · {d}<br>{ty}" + "".join(f" · {v}" for v in (k, c, pr, s, st) if v)
             for t, d, ty, k, c, pr, s, st in zip(df["type"], df["direction"], df["event_id"], col("kind"),
                                                   col("campaign"), col("product"), col("subject"), col("status"))]
    for flag, name, color, size in ((False, "events", "#8d99ae", 8), (True, "incident events", "#d62828", 14)):
        m = involved == flag
        if not m.any():
            continue
        fig.add_trace(go.Scatter(
            x=list(xs[m]), y=list(df.loc[m, "channel"]), mode="markers", name=name,
            marker=dict(size=size, color=color, symbol=["triangle-right" if d == "outbound" else "circle"
                                                        for d in df.loc[m, "direction"]],
                        line=dict(width=1, color="#333")),
            text=[h for h, keep in zip(hover, m) if keep], hoverinfo="text+x"))
    if at is not None:
        fig.add_vline(x=to_local(at, tz), line=dict(color="#d62828", dash="dot"))
    fig.update_yaxes(title="channel", categoryorder="category ascending")
    return fig
