"""The effort page: CES answers (distribution, per channel and topic, the
trend), repeat contact and silence per day, repeat contact per topic, and the
predicted-effort calibration.  Surveys and contacts are in the view's
channels and topics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from seamline.queries import Ctx, _fill_days, _frame, _with_wilson, dataset
from seamline.urlstate import State

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# The effort page fits its model on a uniform sample of at most about this many
# customers: ~10 k respondents for 8 features, and at 10 M events 0.21 s
# instead of 0.27 s for 40 k (most of the rest is reading the period).
EFFORT_SAMPLE_CUSTOMERS = 20_000


@dataset("effort.distribution")
def ces_distribution(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import sql

    return _frame(ctx.wh, sql("effort", "by_answer"), state.params(), ["ces", "responses"])


def _ces_by(ctx: Ctx, state: State, col: str) -> "pd.DataFrame":
    """CES per ``col`` (channel or topic: statement ``by_<col>`` of
    ``kpis/effort.sql``) with the mean's t interval and the easy rate's."""
    from seamline.kpis import sql
    from seamline.stats.intervals import t_interval_from_moments

    df = _frame(ctx.wh, sql("effort", f"by_{col}"), state.params() | {"easy": ctx.settings.windows.ces_easy_min},
                [col, "responses", "sum", "sum_sq", "easy"])
    ivs = [t_interval_from_moments(int(n), float(s), float(q)) for n, s, q in zip(df["responses"], df["sum"], df["sum_sq"])]
    df["ces_mean"] = [i.mean for i in ivs]
    df["ces_low"] = [i.low for i in ivs]
    df["ces_high"] = [i.high for i in ivs]
    df = _with_wilson(df, "easy", "responses", "easy_rate")
    return df.drop(columns=["sum", "sum_sq"])


@dataset("effort.by_channel")
def ces_by_channel(ctx: Ctx, state: State) -> "pd.DataFrame":
    return _ces_by(ctx, state, "channel")


@dataset("effort.by_topic")
def ces_by_topic(ctx: Ctx, state: State) -> "pd.DataFrame":
    return _ces_by(ctx, state, "topic")


@dataset("effort.trend")
def ces_trend(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import sql
    from seamline.stats.intervals import t_interval_from_moments

    weekly = state.span.days > 21
    df = _frame(ctx.wh, sql("effort", "trend_weekly" if weekly else "trend_daily"), state.params(),
                ["period", "responses", "sum", "sum_sq"])
    ivs = [t_interval_from_moments(int(n), float(s), float(q)) for n, s, q in zip(df["responses"], df["sum"], df["sum_sq"])]
    df["ces_mean"] = [i.mean for i in ivs]
    df["ces_low"] = [i.low for i in ivs]
    df["ces_high"] = [i.high for i in ivs]
    df["bucket"] = "week" if weekly else "day"
    return df.drop(columns=["sum", "sum_sq"])


@dataset("effort.silence")
def silence_daily(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Each day's contacts and active customers, and the silence and
    repeat-contact rates of the period so far (the tiles' definitions: the
    last day holds the tiles' numbers; ``seamline.kpis.silence.daily``)."""
    from seamline.kpis import Period
    from seamline.kpis.silence import daily

    df = daily(ctx.wh, ctx.settings, Period.of(state.start, state.end))
    if df.empty:
        return df
    df = _fill_days(df, state)
    days = ["active_customers", "contacts", "repeat_contacts"]
    df[days] = df[days].fillna(0)
    so_far = [c for c in df.columns if c.endswith("_to_date") or c.endswith("_rate")]
    df[so_far] = df[so_far].ffill()  # a day without rows changes nothing so far
    df["contacts_per_100_customers"] = 100.0 * df["contacts"] / df["active_customers"].where(df["active_customers"] > 0)
    return df


@dataset("effort.repeat_by_topic")
def repeat_by_topic(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import sql

    df = _frame(ctx.wh, sql("silence", "repeat_by_topic"), state.params(), ["topic", "contacts", "repeat_contacts"])
    return _with_wilson(df, "repeat_contacts", "contacts", "repeat_contact_rate")


@dataset("effort.calibration")
def effort_calibration(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Predicted vs answered CES by prediction quintile (``seamline.effort``)."""
    import pandas as pd

    from seamline.effort import predicted_effort

    cols = ["bin", "predicted_ces", "observed_ces", "responses"]
    res = predicted_effort(ctx.wh, state.start, state.end, channels=tuple(state.channels), topics=tuple(state.topics),
                           max_customers=EFFORT_SAMPLE_CUSTOMERS)
    if not res.get("available"):
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame([{"bin": i + 1, "predicted_ces": b["predicted"], "observed_ces": b["observed"],
                         "responses": b["n"]} for i, b in enumerate(res["calibration"])], columns=cols)
    out.attrs.update(cv_mae=res.get("cv_mae"), adjusted_mean=res.get("adjusted_mean"),
                     observed_mean=res.get("observed_mean"))
    return out
