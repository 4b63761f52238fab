"""The journeys page: continuity per day and per channel pair, in the view's
channels (a transition counts when either of its channels is selected)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from seamline.queries import Ctx, _fill_days, _frame, _with_wilson, dataset
from seamline.urlstate import State

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataset("journeys.daily")
def continuity_daily(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import sql

    df = _frame(ctx.wh, sql("continuity", "daily_in_channels"), state.params(), ["day", "transitions", "frictionless"])
    return _with_wilson(_fill_days(df, state).fillna({"transitions": 0, "frictionless": 0}),
                        "frictionless", "transitions", "rate")


@dataset("journeys.pairs")
def continuity_pairs(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import sql

    df = _frame(ctx.wh, sql("continuity", "by_pair"), state.params(),
                ["from_channel", "to_channel", "transitions", "frictionless", "repeat_info", "reauth", "transfers",
                 "frictioned"])
    return _with_wilson(df, "frictionless", "transitions", "rate")


@dataset("journeys.worst")
def worst_pairs(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline import views

    return views.worst_pairs(continuity_pairs(ctx, state))
