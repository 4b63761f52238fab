"""Effort: how hard is it for customers, and do they have to reach out again?"""

from datetime import timedelta

import dash
from dash import html

from seamline import queries, views
from seamline.app import graph, no_data, page, table


def render(ctx, state, known):
    dist = queries.ces_distribution(ctx, state)
    silence = queries.silence_daily(ctx, state)
    if dist.empty and silence.empty:
        return no_data()
    by_channel = queries.ces_by_channel(ctx, state)
    by_topic = queries.ces_by_topic(ctx, state)
    trend = queries.ces_trend(ctx, state)
    bucket = trend["bucket"].iloc[0] if len(trend) else "day"
    trend_fig = views.band_figure(trend, "period", "ces_mean", "ces_low", "ces_high", f"Mean CES per {bucket}",
                                  target=views.kpi_targets(ctx.settings).get("ces_mean"), name="CES mean")
    silence_fig = views.multi_line_figure(
        silence, "day", {"repeat_contact_rate": "repeat-contact rate", "silence_rate": "silence rate",
                         "contacts_per_100_customers": "contacts per 100 active customers"},
        "Silence and repeat contacts per day", pct_columns=("repeat_contact_rate", "silence_rate"))
    if state.compare:
        prev = queries.silence_daily(ctx, state.previous())
        views.add_previous(silence_fig, prev, "day", "repeat_contact_rate", timedelta(days=state.span.days),
                           "repeat-contact rate, previous period")
    try:
        calib = queries.effort_calibration(ctx, state)
    except Exception:
        calib = None
    calib_note = ("Effort model unavailable for this selection: showing observed CES only."
                  if calib is None or calib.empty else
                  f"Ridge model on the period's friction counts per customer; cross-validated MAE "
                  f"{views.fmt_num(calib.attrs.get('cv_mae'), 2)}."
                  + (f" Observed CES {views.fmt_num(calib.attrs['observed_mean'], 2)}, adjusted for non-response "
                     f"{views.fmt_num(calib.attrs['adjusted_mean'], 2)}." if calib.attrs.get("adjusted_mean") else ""))
    rep = queries.repeat_by_topic(ctx, state)
    return [
        html.Div(className="grid2", children=[
            graph("effort.distribution", views.ces_distribution_figure(dist), "CES distribution"),
            graph("effort.trend", trend_fig, "CES trend", note="Band: 95 % t-interval."),
        ]),
        html.Div(className="grid2", children=[
            graph("effort.by_channel", views.ci_bars(by_channel, "channel", "ces_mean", "ces_low", "ces_high",
                                                     "Mean CES by channel (95 % t-interval)"), "CES by channel"),
            graph("effort.by_topic", views.ci_bars(by_topic, "topic", "ces_mean", "ces_low", "ces_high",
                                                   "Mean CES by topic (95 % t-interval)"), "CES by topic"),
        ]),
        graph("effort.silence", silence_fig, "Repeat contacts, contacts per 100 customers, silence",
              note="Daily, UTC days (channel and topic filters do not apply to this chart)."),
        graph("effort.repeat_by_topic", views.ci_bars(rep, "topic", "repeat_contact_rate", "repeat_contact_rate_low",
                                                      "repeat_contact_rate_high", "Repeat-contact rate by topic",
                                                      pct=True), "Repeat contacts by topic"),
        graph("effort.calibration", views.calibration_figure(calib), "Predicted vs answered effort", note=calib_note),
        table("effort.by_channel", views.table_records(by_channel), title="CES by channel", page_size=10),
    ]


dash.register_page(__name__, path="/effort", name="Effort", title="Seamline · Effort", order=3)
layout = page(render, filters=("channel", "topic"), title="Effort, silence and repeat contacts")
