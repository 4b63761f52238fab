"""Freshness (engineers): which source's data got slower, since when, by how much?"""

import dash
from dash import dcc, html

from seamline import queries, views
from seamline.app import graph, no_data, page, table


def render(ctx, state, known):
    q = state.extra.get("q", "p95")
    series = queries.freshness_series(ctx, state)
    if series.empty:
        return no_data()
    target = (ctx.settings.target_for(state.sources[0]) if len(state.sources) == 1
              else ctx.settings.freshness_target_s)
    regs = [r for r in queries.regressions(ctx) if not state.sources or r["source"] in state.sources]
    annotations = [a for a in ctx.md.annotations() if not state.sources or not a.get("source")
                   or a["source"] in state.sources]
    slo = queries.freshness_slo(ctx, state)
    reg_frame = queries.regressions_frame(ctx, state)
    selected = state.extra.get("regression")
    options = [{"label": f"{r['source']} since {views.fmt_time(r['onset'], state.tz)} "
                         f"(p95 ×{views.fmt_num(r.get('ratio'), 1)})", "value": queries.regression_key(r)}
               for r in regs]
    if selected not in {o["value"] for o in options}:
        selected = None
    lagdist = queries.lag_distribution(ctx, state) if selected else None
    slowest = queries.slowest_events(ctx, state)
    return [
        html.Div(className="inline-controls", children=[
            html.Label("Quantile"),
            dcc.RadioItems(id={"type": "param", "name": "q"}, value=q, inline=True,
                           options=[{"label": f" {x}", "value": x} for x in ("p50", "p95", "p99")]),
        ]),
        graph("freshness.series", views.freshness_figure(series, q, target, regs, annotations, state.tz,
                                                         state.start, state.end),
              "Lag per source over time",
              note=f"Merged per-{views.fmt_duration(queries.bucket_seconds(state))} sketches; dashed: SLO target; "
                   "red dotted: detected regressions; purple: deploy annotations."),
        graph("freshness.slo", views.ci_bars(slo, "source", "slo_met_rate", "slo_met_rate_low", "slo_met_rate_high",
                                             "Share of source-hours meeting the p95 target", pct=True, horizontal=True),
              "SLO attainment by source"),
        html.Div(className="card", children=[
            html.Div(className="card-head", children=[html.H3("Latency regressions")]),
            html.Div("no regressions detected", className="no-data") if not regs else dcc.Dropdown(
                id={"type": "param", "name": "regression"}, options=options, value=selected,
                placeholder="Select a regression to compare its lag distribution"),
        ]),
        table("freshness.regressions", views.table_records(reg_frame.drop(columns=["key"]), state.tz),
              title="Detected regressions") if regs else None,
        graph("freshness.lagdist", views.lagdist_figure(lagdist), "Lag distribution before vs after")
        if regs else None,
        table("freshness.slowest", views.table_records(slowest, state.tz), title="Slowest events in the period",
              page_size=10),
    ]


dash.register_page(__name__, path="/freshness", name="Freshness", title="Seamline · Freshness", order=2)
layout = page(render, filters=("source", "channel"), title="Freshness and latency")
