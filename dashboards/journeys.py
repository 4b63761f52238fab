"""Journeys: are customers carried across channels without friction?"""

from datetime import timedelta
from functools import partial

import dash

from seamline import queries, views
from seamline.alerts import overlay
from seamline.app import graph, no_data, nothing_to_show, page, table


def _trend(ctx, state):
    fig = views.band_figure(queries.continuity_daily(ctx, state), "day", "rate", "rate_low", "rate_high",
                            "Continuity per day", target=views.kpi_targets(ctx.settings).get("continuity_rate"),
                            pct=True, name="continuity")
    if state.compare:
        views.add_previous(fig, queries.continuity_daily(ctx, state.previous()), "day", "rate",
                           timedelta(days=state.span.days))
    return overlay.on_chart(fig, ctx, state, "/journeys")  # the firing periods of continuity alerts


def render(ctx, state, known):
    pairs = partial(queries.continuity_pairs, ctx, state)  # memoised: one query for the four cards
    if nothing_to_show(lambda: pairs().empty):
        return no_data()
    return [
        graph("journeys.daily", lambda: _trend(ctx, state), "Continuity trend",
              note="Share of channel transitions with no repeat-info, re-authentication or transfer in the 30 min "
                   "after the second touch; band: 95 % Wilson interval."),
        graph("journeys.pairs", lambda: views.heatmap_figure(pairs()), "Continuity by channel pair"),
        graph("journeys.pairs", lambda: views.sankey_figure(pairs()), "Transition flows", csv=False,
              name="journeys.sankey"),
        graph("journeys.pairs", lambda: views.friction_figure(pairs()), "Friction mix", csv=False,
              name="journeys.friction"),
        table("journeys.worst", lambda: views.table_records(views.worst_pairs(pairs())),
              title="Worst channel pairs (n ≥ 20, 95 % Wilson interval)"),
    ]


dash.register_page(__name__, path="/journeys", name="Journeys", title="Seamline · Journeys", order=1)
layout = page(render, filters=("channel",), title="Journeys and continuity")
