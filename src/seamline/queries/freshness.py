"""The freshness page: lag percentiles per source over time, the SLO per
source, latency regressions with the lag histogram around one, and the
slowest events of the period."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Mapping

from seamline.queries import Ctx, _frame, _utc, _with_wilson, dataset, memo, page_sql
from seamline.urlstate import State

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SLOWEST_N = 50  # rows of the slowest-events table
LAG_BINS_PER_DECADE = 10


def bucket_seconds(state: State) -> int:
    days = state.span.days
    return 3600 if days <= 14 else (6 * 3600 if days <= 62 else 86400)


@dataset("freshness.series")
def freshness_series(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import Period, sql

    p = state.params() | {"bucket": bucket_seconds(state)}
    name = "series_hours"
    if p["bucket"] == 86400:  # day buckets: whole days come merged from freshness_daily
        name = "series_days"
        p |= Period.of(state.start, state.end).full_days()
    return _frame(ctx.wh, sql("freshness", name), p,
                  ["bucket", "source", "events", "q", "p50", "p95", "p99"]).drop(columns=["q"])


@dataset("freshness.slo")
def freshness_slo(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import sql
    from seamline.kpis.freshness import target_params

    df = _frame(ctx.wh, sql("freshness", "by_source"), state.params() | target_params(ctx.settings),
                ["source", "target_s", "source_hours", "met", "events", "worst_hour_p95_s"])
    return _with_wilson(df, "met", "source_hours", "slo_met_rate")


@memo
def regressions(ctx: Ctx) -> list[dict[str, Any]]:
    """Latency regressions from ``seamline.regressions`` (empty, and logged,
    when the detection fails: the page shows the rest)."""
    import logging

    from seamline.regressions import find_regressions

    try:
        rows = find_regressions(ctx.wh, ctx.settings, ctx.md) or []
    except Exception:
        logging.getLogger("seamline.dashboard").exception("find_regressions failed")
        return []
    out = []
    for r in rows:
        r = dict(r) if isinstance(r, Mapping) else dict(getattr(r, "__dict__", {}))
        onset = r.get("onset")
        if isinstance(onset, str):
            try:
                onset = datetime.fromisoformat(onset.replace("Z", "+00:00"))
            except ValueError:
                onset = None
        r["onset"] = _utc(onset)
        if r.get("source") and r["onset"] is not None:
            out.append(r)
    return out


def regression_key(r: Mapping[str, Any]) -> str:
    return f"{r['source']}@{r['onset'].strftime('%Y%m%dT%H')}"


@dataset("freshness.regressions")
def regressions_frame(ctx: Ctx, state: State) -> "pd.DataFrame":
    import pandas as pd

    cols = ["key", "source", "onset", "baseline_p95_s", "after_p95_s", "ratio", "p_value", "recovered", "annotation"]
    rows = [{c: (regression_key(r) if c == "key" else r.get(c)) for c in cols} for r in regressions(ctx)
            if not state.sources or r["source"] in state.sources]
    return pd.DataFrame(rows, columns=cols)


@dataset("freshness.lagdist")
def lag_distribution(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Lag histogram (log bins) for the selected regression: the week before
    the onset vs the week after (capped at recovery), computed in ClickHouse."""
    import pandas as pd

    cols = ["phase", "bin_low_s", "bin_high_s", "events", "share"]
    sel = state.extra.get("regression")
    match = next((r for r in regressions(ctx) if regression_key(r) == sel), None) if sel else None
    if match is None:
        return pd.DataFrame(columns=cols)
    onset = match["onset"]
    p = {"source": match["source"], "b0": onset - timedelta(days=7), "onset": onset,
         "a1": onset + timedelta(days=7), "k": LAG_BINS_PER_DECADE}
    df = _frame(ctx.wh, page_sql("freshness", "lag_histogram"), p, ["phase", "b", "events"])
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["bin_low_s"] = 10 ** (df["b"] / LAG_BINS_PER_DECADE)
    df["bin_high_s"] = 10 ** ((df["b"] + 1) / LAG_BINS_PER_DECADE)
    df["share"] = df["events"] / df.groupby("phase")["events"].transform("sum")
    return df[cols]


@dataset("freshness.slowest")
def slowest_events(ctx: Ctx, state: State) -> "pd.DataFrame":
    """The 50 slowest events of the period.  The scan of ``events`` keeps only
    rows at or above a lower bound of the 50th-largest lag (cheap columns
    first) instead of sorting the whole period.  The bound is the 50th-largest
    per-row maximum of the hourly rollup: those 50 rows hold 50 distinct events
    at least that slow.  With fewer rows, the rows' sorted lags give the
    50th-largest lag itself."""
    cols = ["event_id", "source", "channel", "type", "occurred_at", "ingested_at", "lag_s"]
    params = state.params() | {"n": SLOWEST_N}
    rows, threshold = ctx.wh.rows(page_sql("freshness", "slowest_bound"), params)[0]
    if not rows:  # no events in the period
        import pandas as pd

        return pd.DataFrame(columns=cols)
    if rows < SLOWEST_N:  # a short period: read the few rows' lags (the bound needs N rows)
        threshold = ctx.wh.scalar(page_sql("freshness", "slowest_bound_few"), params)
    return _frame(ctx.wh, page_sql("freshness", "slowest_events"), params | {"t_ms": float(threshold) * 1000 - 0.5},
                  cols)
