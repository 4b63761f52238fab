"""Retention: does connection quality move retention?"""

import dash
from dash import dcc, html

from seamline import queries, views
from seamline.app import graph, guarded, no_data, nothing_to_show, page, table


def _logrank_p(ctx, state):
    return queries.retention_summary(ctx, state)["logrank_p"].iloc[0]


def _summary(ctx, state):
    summary = queries.retention_summary(ctx, state)
    shown = summary.copy()
    for d in (30, 60, 90):
        shown[f"survival_{d}"] = [views.survival_text(r, d, interval=True) for r in summary.to_dict("records")]
    return views.table_records(shown[["segment", "customers", "churned", "survival_30", "survival_60", "survival_90"]])


def _comparison(ctx, state):
    """Compare: the cohort of the period's first events against the previous
    period's; all cohorts have no previous period, so it says how to compare."""
    if state.extra.get("cohort") != "period":
        return html.Div(className="stat-line", children=(
            "Comparison: all cohorts have no previous period; choose \"first event in the selected period\" "
            "to compare this period's cohort with the previous period's."))
    return table("retention.compare", lambda: views.table_records(queries.retention_compare(ctx, state)),
                 title="Survival: this period's cohort vs the previous period's")


def render(ctx, state, known):
    cohort = state.extra.get("cohort", "all")
    radio = html.Div(className="inline-controls", children=[
        html.Label("Customers"),
        dcc.RadioItems(id={"type": "param", "name": "cohort"}, value=cohort, inline=True, options=[
            {"label": " all cohorts", "value": "all"},
            {"label": " first event in the selected period", "value": "period"}]),
    ])
    if nothing_to_show(lambda: queries.retention_summary(ctx, state).empty):
        return [radio, no_data()]
    return [
        radio,
        graph("retention.curves", lambda: views.retention_figure(queries.retention_curve_points(ctx, state),
                                                                 _logrank_p(ctx, state), "Kaplan–Meier survival"),
              "Survival by segment",
              note="Landmark analysis: time runs from 30 days after the first event; frictioned = any "
                   "non-frictionless transition, repeat contact or repeat-info in the first 30 days. "
                   "Bands: 95 % log(−log) intervals."),
        guarded(lambda: html.Div(className="stat-line", children="Log-rank test seamless vs frictioned: "
                                                                 + views.p_text(_logrank_p(ctx, state)))),
        table("retention.summary", lambda: _summary(ctx, state), title="Survival at 30 / 60 / 90 days (95 % interval)"),
        guarded(lambda: _comparison(ctx, state), "The comparison could not be computed") if state.compare else None,
        table("retention.cohorts", lambda: views.table_records(queries.retention_cohorts(ctx, state)),
              title="Cohorts by first-event month"),
    ]


dash.register_page(__name__, path="/retention", name="Retention", title="Seamline · Retention", order=4)
layout = page(render, filters=("channel",), title="Retention")
