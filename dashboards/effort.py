"""Effort: how hard is it for customers, and do they have to reach out again?"""

from datetime import timedelta

import dash
from dash import html

from seamline import queries, views
from seamline.alerts import overlay
from seamline.app import graph, no_data, nothing_to_show, page, table


def _trend(ctx, state):
    trend = queries.ces_trend(ctx, state)
    bucket = trend["bucket"].iloc[0] if len(trend) else "day"
    fig = views.band_figure(trend, "period", "ces_mean", "ces_low", "ces_high", f"Mean CES per {bucket}",
                            target=views.kpi_targets(ctx.settings).get("ces_mean"), name="CES mean")
    return overlay.on_chart(fig, ctx, state, "/effort", kpis=("effort.",))


SILENCE_RATES = {"silence_rate": "silence rate", "repeat_contact_rate": "repeat-contact rate"}
SILENCE_HOVER = {"active_customers": "active customers that day", "contacts": "contacts that day",
                 "repeat_contacts": "repeat contacts that day", "contacts_per_100_customers": "contacts per 100 active"}


def _silence(ctx, state):
    # the tiles' rates for the period so far: the last day shows the tiles' numbers
    fig = views.rates_figure(queries.silence_daily(ctx, state), "day", SILENCE_RATES,
                             "Silence and repeat contacts, period to date", hover=SILENCE_HOVER)
    if state.compare:
        views.add_previous(fig, queries.silence_daily(ctx, state.previous()), "day", "silence_rate",
                           timedelta(days=state.span.days), "silence rate, previous period")
    return overlay.on_chart(fig, ctx, state, "/effort", kpis=("silence.",))


def _calibration(ctx, state):
    try:
        return queries.effort_calibration(ctx, state)
    except Exception:  # the model is optional: the chart says it is unavailable
        return None


def _calibration_note(ctx, state):
    calib = _calibration(ctx, state)
    if calib is None or calib.empty:
        return "Effort model unavailable for this selection: showing observed CES only."
    note = (f"Ridge model on the period's friction counts per customer; cross-validated MAE "
            f"{views.fmt_num(calib.attrs.get('cv_mae'), 2)}.")
    if calib.attrs.get("adjusted_mean"):
        note += (f" Observed CES {views.fmt_num(calib.attrs['observed_mean'], 2)}, adjusted for non-response "
                 f"{views.fmt_num(calib.attrs['adjusted_mean'], 2)}.")
    return note


def render(ctx, state, known):
    if nothing_to_show(lambda: queries.ces_distribution(ctx, state).empty and queries.silence_daily(ctx, state).empty):
        return no_data()
    return [
        html.Div(className="grid2", children=[
            graph("effort.distribution", lambda: views.ces_distribution_figure(queries.ces_distribution(ctx, state)),
                  "CES distribution"),
            graph("effort.trend", lambda: _trend(ctx, state), "CES trend", note="Band: 95 % t-interval."),
        ]),
        html.Div(className="grid2", children=[
            graph("effort.by_channel", lambda: views.ci_bars(queries.ces_by_channel(ctx, state), "channel", "ces_mean",
                                                             "ces_low", "ces_high",
                                                             "Mean CES by channel (95 % t-interval)"),
                  "CES by channel"),
            graph("effort.by_topic", lambda: views.ci_bars(queries.ces_by_topic(ctx, state), "topic", "ces_mean",
                                                           "ces_low", "ces_high", "Mean CES by topic (95 % t-interval)"),
                  "CES by topic"),
        ]),
        graph("effort.silence", lambda: _silence(ctx, state), "Silence and repeat contacts",
              note="Each day: the rate from the period's first day through that day, as the tiles count it "
                   "(a customer is silent until they repeat a contact or information), so the last day shows "
                   "the tiles' numbers; the day's volumes are in the hover. Days are UTC days (the silence "
                   "rollup's); the channel and topic filters do not apply to this chart."),
        graph("effort.repeat_by_topic", lambda: views.ci_bars(queries.repeat_by_topic(ctx, state), "topic",
                                                              "repeat_contact_rate", "repeat_contact_rate_low",
                                                              "repeat_contact_rate_high", "Repeat-contact rate by topic",
                                                              pct=True), "Repeat contacts by topic"),
        graph("effort.calibration", lambda: views.calibration_figure(_calibration(ctx, state)),
              "Predicted vs answered effort", note=lambda: _calibration_note(ctx, state)),
        table("effort.by_channel", lambda: views.table_records(queries.ces_by_channel(ctx, state)),
              title="CES by channel", page_size=10),
    ]


dash.register_page(__name__, path="/effort", name="Effort", title="Seamline · Effort", order=3)
layout = page(render, filters=("channel", "topic"), title="Effort, silence and repeat contacts")
