"""Freshness (engineers): which source's data got slower, since when, by how much?"""

import dash
from dash import dcc, html

from seamline import queries, views
from seamline.alerts import overlay
from seamline.app import graph, guarded, no_data, nothing_to_show, page, table


def _series(ctx, state, regs):
    q = state.extra.get("q", "p95")
    annotations = [a for a in ctx.md.annotations() if not state.sources or not a.get("source")
                   or a["source"] in state.sources]
    series = queries.freshness_series(ctx, state)
    # each source's panel its own target and, with compare, its previous period
    targets = {src: ctx.settings.target_for(src) for src in series["source"].unique()} if len(series) else {}
    previous = queries.freshness_series(ctx, state.previous()) if state.compare else None
    fig = views.freshness_figure(series, q, ctx.settings.freshness_target_s, regs, annotations, state.tz,
                                 state.start, state.end, targets=targets, previous=previous,
                                 shift=state.start - state.prev_start)
    return overlay.on_chart(fig, ctx, state, "/freshness")  # the firing periods of the sources' alerts


def _regression_picker(state, regs):
    options = [{"label": f"{r['source']} since {views.fmt_time(r['onset'], state.tz)} "
                         f"(p95 ×{views.fmt_num(r.get('ratio'), 1)})", "value": queries.regression_key(r)}
               for r in regs]
    selected = state.extra.get("regression")
    return html.Div(className="card", children=[
        html.Div(className="card-head", children=[html.H3("Latency regressions")]),
        html.Div("no regressions detected", className="no-data") if not regs else dcc.Dropdown(
            id={"type": "param", "name": "regression"}, options=options,
            value=selected if selected in {o["value"] for o in options} else None,
            placeholder="Select a regression to compare its lag distribution"),
    ])


def _lagdist(ctx, state, regs):
    # the distribution of the regression in the URL, if it is one of those listed
    selected = state.extra.get("regression") in {queries.regression_key(r) for r in regs}
    return views.lagdist_figure(queries.lag_distribution(ctx, state) if selected else None)


def render(ctx, state, known):
    q = state.extra.get("q", "p95")
    if nothing_to_show(lambda: queries.freshness_series(ctx, state).empty):
        return no_data()
    # find_regressions' failures are logged and give no regressions
    regs = [r for r in queries.regressions(ctx) if not state.sources or r["source"] in state.sources]
    return [
        html.Div(className="inline-controls", children=[
            html.Label("Quantile"),
            dcc.RadioItems(id={"type": "param", "name": "q"}, value=q, inline=True,
                           options=[{"label": f" {x}", "value": x} for x in ("p50", "p95", "p99")]),
        ]),
        graph("freshness.series", lambda: _series(ctx, state, regs), "Lag per source over time",
              note=f"A panel per source, each on its own scale. Merged per-"
                   f"{views.fmt_duration(queries.bucket_seconds(state))} sketches; dashed: the source's SLO target; "
                   "red dotted: detected regressions; purple: deploy annotations"
                   + ("; grey dotted: the previous period." if state.compare else ".")),
        graph("freshness.slo", lambda: views.ci_bars(queries.freshness_slo(ctx, state), "source", "slo_met_rate",
                                                     "slo_met_rate_low", "slo_met_rate_high",
                                                     "Share of source-hours meeting the p95 target", pct=True,
                                                     horizontal=True,
                                                     previous=queries.freshness_slo(ctx, state.previous())
                                                     if state.compare else None),
              "SLO attainment by source"),
        guarded(lambda: _regression_picker(state, regs), title="Latency regressions"),
        table("freshness.regressions",
              lambda: views.table_records(queries.regressions_frame(ctx, state).drop(columns=["key"]), state.tz),
              title="Detected regressions") if regs else None,
        graph("freshness.lagdist", lambda: _lagdist(ctx, state, regs), "Lag distribution before vs after")
        if regs else None,
        table("freshness.slowest", lambda: views.table_records(queries.slowest_events(ctx, state), state.tz),
              title="Slowest events in the period", page_size=10),
    ]


dash.register_page(__name__, path="/freshness", name="Freshness", title="Seamline · Freshness", order=2)
layout = page(render, filters=("source", "channel"), title="Freshness and latency")
