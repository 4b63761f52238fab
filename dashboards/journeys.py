"""Journeys: are customers carried across channels without friction?"""

from datetime import timedelta

import dash

from seamline import queries, views
from seamline.app import graph, no_data, page, table


def render(ctx, state, known):
    daily = queries.continuity_daily(ctx, state)
    pairs = queries.continuity_pairs(ctx, state)
    if pairs.empty:
        return no_data()
    trend = views.band_figure(daily, "day", "rate", "rate_low", "rate_high", "Continuity per day",
                              target=views.kpi_targets(ctx.settings).get("continuity_rate"), pct=True,
                              name="continuity")
    if state.compare:
        prev = queries.continuity_daily(ctx, state.previous())
        views.add_previous(trend, prev, "day", "rate", timedelta(days=state.span.days))
    worst = views.worst_pairs(pairs)
    return [
        graph("journeys.daily", trend, "Continuity trend",
              note="Share of channel transitions with no repeat-info, re-authentication or transfer in the 30 min "
                   "after the second touch; band: 95 % Wilson interval."),
        graph("journeys.pairs", views.heatmap_figure(pairs), "Continuity by channel pair"),
        graph("journeys.pairs", views.sankey_figure(pairs), "Transition flows", csv=False, name="journeys.sankey"),
        graph("journeys.pairs", views.friction_figure(pairs), "Friction mix", csv=False, name="journeys.friction"),
        table("journeys.worst", views.table_records(worst), title="Worst channel pairs (n ≥ 20, 95 % Wilson interval)"),
    ]


dash.register_page(__name__, path="/journeys", name="Journeys", title="Seamline · Journeys", order=1)
layout = page(render, filters=("channel",), title="Journeys and continuity")
