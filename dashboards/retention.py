"""Retention: does connection quality move retention?"""

import dash
from dash import dcc, html

from seamline import queries, views
from seamline.app import graph, no_data, page, table


def render(ctx, state, known):
    cohort = state.extra.get("cohort", "all")
    curves = queries.retention_curve_points(ctx, state)
    summary = queries.retention_summary(ctx, state)
    cohorts = queries.retention_cohorts(ctx, state)
    radio = html.Div(className="inline-controls", children=[
        html.Label("Customers"),
        dcc.RadioItems(id={"type": "param", "name": "cohort"}, value=cohort, inline=True, options=[
            {"label": " all cohorts", "value": "all"},
            {"label": " first event in the selected period", "value": "period"}]),
    ])
    if summary.empty:
        return [radio, no_data()]
    p = summary["logrank_p"].iloc[0]
    shown = summary.copy()
    for d in (30, 60, 90):
        shown[f"survival_{d}"] = [f"{views.fmt_pct(s)} ({views.fmt_pct(lo)}–{views.fmt_pct(hi)})"
                                  for s, lo, hi in zip(summary[f"survival_{d}"], summary[f"survival_{d}_low"],
                                                       summary[f"survival_{d}_high"])]
    shown = shown[["segment", "customers", "churned", "survival_30", "survival_60", "survival_90"]]
    return [
        radio,
        graph("retention.curves", views.retention_figure(curves, p, "Kaplan–Meier survival"), "Survival by segment",
              note="Landmark analysis: time runs from 30 days after the first event; frictioned = any "
                   "non-frictionless transition, repeat contact or repeat-info in the first 30 days. "
                   "Bands: 95 % log(−log) intervals."),
        html.Div(className="stat-line", children=f"Log-rank test seamless vs frictioned: p = {views.fmt_p(p)}"),
        table("retention.summary", views.table_records(shown), title="Survival at 30 / 60 / 90 days (95 % interval)"),
        table("retention.cohorts", views.table_records(cohorts), title="Cohorts by first-event month"),
    ]


dash.register_page(__name__, path="/retention", name="Retention", title="Seamline · Retention", order=4)
layout = page(render, filters=("channel",), title="Retention")
