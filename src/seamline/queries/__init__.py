"""The one query module the dashboard pages use: *datasets*, small aggregated
frames read from the rollup tables (GROUP BY in ClickHouse), keyed by a
stable name so the same frame feeds a chart and its CSV download.  Only the
incident customer timeline and the slowest events read the ``events`` table,
always with bound parameters and a LIMIT.  The shared view state (parsed from
the URL) lives in ``seamline.urlstate`` and is re-exported here.

Values reach SQL only as bound ``{name:Type}`` parameters.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Mapping

from seamline.urlstate import State, _utc, clear_known, to_search

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.warehouse import Warehouse


# --------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------
DATASETS: dict[str, Callable[..., "pd.DataFrame"]] = {}


def dataset(key: str, cached: bool = True):
    """Register a page dataset ``fn(ctx, state) -> DataFrame`` under ``key``.
    Cached datasets (the default) are memoised per view and cache stamp (see
    ``memo``): only those that read nothing but the job rollups may be."""
    def deco(fn):
        if cached and not getattr(fn, "memoized", False):
            fn = memo(fn)
        DATASETS[key] = fn
        return fn
    return deco


@dataclass
class Ctx:
    """What a query needs: the warehouse, settings and metadata store."""

    wh: "Warehouse"
    settings: "Settings"
    md: "Metadata"


_memo: dict[tuple, tuple[float, Any]] = {}
_memo_lock = threading.Lock()
# Entries are keyed by the metadata's cache stamp (a new successful job run or
# annotation is a new key), so the TTL only bounds what else may drift.
MEMO_TTL_S = 3600.0
MEMO_MAX = 1024
PERIOD_WORKERS = 3  # KPI families computed at once per period (see period_pair)
SLOWEST_N = 50  # rows of the slowest-events table
# The effort page fits its model on a uniform sample of at most about this many
# customers: ~10 k respondents for 8 features, and at 10 M events 0.21 s
# instead of 0.27 s for 40 k (most of the rest is reading the period).
EFFORT_SAMPLE_CUSTOMERS = 20_000


def memo(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Cache a rollup query per (view state, ``Metadata.cache_stamp``): rollups
    only change when a job finishes, so a new run is a new key."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx: Ctx, state: State | None = None, *args: Any) -> Any:
        try:
            stamp = ctx.md.cache_stamp()
        except Exception:
            return fn(ctx, state, *args) if state is not None else fn(ctx)
        key = (fn.__name__, ctx.wh.dsn, ctx.wh.database, to_search(state) if state is not None else "", stamp, args)
        now = time.monotonic()
        with _memo_lock:
            hit = _memo.get(key)
        if hit is not None and now - hit[0] < MEMO_TTL_S:
            value = hit[1]
        else:
            busy = _runs_in_progress(ctx)
            value = fn(ctx, state, *args) if state is not None else fn(ctx)
            # A result read while a job run was writing may hold an increment's
            # rows between their delete and their insert: shown once, it is
            # not kept for the rest of the stamp (the next view reads again).
            if not busy and not _runs_in_progress(ctx):
                with _memo_lock:
                    if len(_memo) >= MEMO_MAX:
                        _memo.clear()
                    _memo[key] = (now, value)
        return value.copy() if hasattr(value, "copy") and not isinstance(value, (dict, tuple, list)) else value
    wrapper.memoized = True  # type: ignore[attr-defined]
    return wrapper


def _runs_in_progress(ctx: Ctx) -> bool:
    try:
        return ctx.md.runs_in_progress()
    except Exception:
        return True


def warm(ctx: Ctx, state: State | None = None, stop: Callable[[], bool] | None = None) -> dict[str, float]:
    """Compute every page's datasets for ``state`` (default: the view a user
    gets with no URL parameters), filling the cache; seconds per dataset.
    The server runs this after each job run so that first views are fast;
    ``stop`` is checked between datasets."""
    from seamline.urlstate import known_values, parse_state

    if state is None:
        state = parse_state({}, known_values(ctx.wh, ctx.settings, fresh=True), ctx.settings.display_timezone)
    took = {}
    for key, fn in DATASETS.items():
        if stop is not None and stop():
            break
        t0 = time.perf_counter()
        try:
            fn(ctx, state)
        except Exception:  # a page shows its own error; warming goes on
            continue
        took[key] = time.perf_counter() - t0
    return took


def clear_cache() -> None:
    """Forget cached known values and dataset results (tests; after a reload)."""
    clear_known()
    with _memo_lock:
        _memo.clear()


def get_dataset(key: str, ctx: Ctx, state: State) -> "pd.DataFrame":
    fn = DATASETS.get(key)
    if fn is None:
        raise KeyError(key)
    return fn(ctx, state)


_CH = "(length({channels:Array(String)}) = 0 OR %s IN {channels:Array(String)})"
_SRC = "(length({sources:Array(String)}) = 0 OR %s IN {sources:Array(String)})"
_TOP = "(length({topics:Array(String)}) = 0 OR %s IN {topics:Array(String)})"
_PERIOD = "%s >= {start:DateTime64(3, 'UTC')} AND %s < {end:DateTime64(3, 'UTC')}"


def _frame(wh: "Warehouse", sql: str, params: dict[str, Any], columns: list[str]) -> "pd.DataFrame":
    import pandas as pd

    rows = wh.rows(sql, params)
    return pd.DataFrame([list(r) for r in rows], columns=columns)


def _frames(wh: "Warehouse", queries: list[tuple[str, dict[str, Any], list[str]]]) -> list["pd.DataFrame"]:
    """``_frame`` of each (sql, params, columns), run concurrently on the
    warehouse's client pool (chDB and the HTTP client release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(4, len(queries)) or 1) as pool:
        return list(pool.map(lambda q: _frame(wh, *q), queries))


def days_frame(state: State) -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame({"day": pd.date_range(state.start.date(), state.end.date() - timedelta(days=1), freq="D").date})


def _fill_days(df: "pd.DataFrame", state: State) -> "pd.DataFrame":
    import pandas as pd

    if df.empty:
        return df
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return days_frame(state).merge(df, on="day", how="left")


# Overview -------------------------------------------------------------------
@memo
def period_pair(ctx: Ctx, state: State) -> tuple[dict[str, Any], dict[str, Any]]:
    """Period KPIs for the period and the previous one (in parallel: threads
    on the warehouse's client pool)."""
    from concurrent.futures import ThreadPoolExecutor

    from seamline.metrics import period_metrics

    with ThreadPoolExecutor(max_workers=2) as pool:
        cur = pool.submit(period_metrics, ctx.wh, ctx.settings, state.start, state.end, workers=PERIOD_WORKERS)
        prev = pool.submit(period_metrics, ctx.wh, ctx.settings, state.prev_start, state.prev_end,
                           workers=PERIOD_WORKERS)
        return cur.result(), prev.result()


@dataset("overview.kpis")
def kpi_table(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline import views

    cur, prev = period_pair(ctx, state)
    return views.kpi_frame(cur, prev, views.kpi_targets(ctx.settings))


@dataset("overview.daily")
def daily_kpis(ctx: Ctx, state: State) -> "pd.DataFrame":
    """One row per UTC day with every KPI that has a per-day value (the
    sparklines), from each registry family's ``daily`` (run concurrently)."""
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd

    from seamline.kpis import Period, families

    base = days_frame(state)
    if base.empty:
        return base
    p = Period.of(state.start, state.end)
    fams = [f for f in families() if f.daily is not None]
    with ThreadPoolExecutor(max_workers=min(4, len(fams))) as pool:
        parts = list(pool.map(lambda f: f.daily(ctx.wh, ctx.settings, p), fams))
    out = base
    for part in parts:
        if part.empty:
            out = out.assign(**{c: float("nan") for c in part.columns if c != "day"})
            continue
        part["day"] = pd.to_datetime(part["day"]).dt.date
        out = out.merge(part, on="day", how="left")
    out["incidents"] = out["incidents"].fillna(0)
    has_any = out[[f.daily_volume for f in fams]].fillna(0).to_numpy().sum() > 0
    return out if has_any else out.iloc[0:0]


@dataset("overview.incidents")
def incidents_daily(ctx: Ctx, state: State) -> "pd.DataFrame":
    p = state.params()
    return _frame(ctx.wh, "SELECT toDate(at) AS day, rule, count() AS incidents FROM incidents FINAL "
                  f"WHERE {_PERIOD % ('at', 'at')} AND (length({{channels:Array(String)}}) = 0 "
                  "OR hasAny(channels, {channels:Array(String)})) "
                  "AND (length({rules:Array(String)}) = 0 OR rule IN {rules:Array(String)}) "
                  "GROUP BY day, rule ORDER BY day, rule",
                  p | {"rules": [state.extra["rule"]] if state.extra.get("rule") else []},
                  ["day", "rule", "incidents"])


@dataset("overview.jobs", cached=False)  # job health: the metadata, any run
def job_health(ctx: Ctx, state: State) -> "pd.DataFrame":
    import pandas as pd

    rows = []
    for job, entry in sorted(ctx.md.last_runs().items()):
        last = entry.get("last", {})
        ok = entry.get("last_success", {})
        rows.append({"job": job, "status": last.get("status"), "started_at": last.get("started_at"),
                     "finished_at": last.get("finished_at"), "rows": last.get("rows"),
                     "last_success": ok.get("finished_at"), "error": (last.get("error") or "").split("\n")[0][:200]})
    return pd.DataFrame(rows, columns=["job", "status", "started_at", "finished_at", "rows", "last_success", "error"])


# Retention ------------------------------------------------------------------
def _cohort_in_period(state: State) -> bool:
    return state.extra.get("cohort") == "period"


@memo
def retention(ctx: Ctx, state: State, cohort_in_period: bool = False) -> dict[str, Any]:
    """Survival at the landmark days and the log-rank p from
    ``seamline.kpis.retention.retention`` (the one computation of these numbers), for
    every cohort or those whose first event is in the period, in the view's
    channels."""
    from seamline.kpis.retention import retention as landmark_retention

    start, end = (state.start, state.end) if cohort_in_period else (None, None)
    return landmark_retention(ctx.wh, ctx.settings, start, end, state.channels)


@memo
def retention_groups(ctx: Ctx, state: State, cohort_in_period: bool = False) -> "pd.DataFrame":
    """(segment, duration_days rounded up to 0.1 day, churned, n): the curves'
    points without raw rows. For drawing only: the numbers at the landmark days
    come from ``retention``."""
    from seamline.kpis import sql
    from seamline.kpis.retention import cohort_params, end_of_data

    eod = end_of_data(ctx.wh)
    cols = ["segment", "duration_days", "churned", "n"]
    if eod is None:
        import pandas as pd

        return pd.DataFrame(columns=cols)
    start, end = (state.start, state.end) if cohort_in_period else (None, None)
    return _frame(ctx.wh, sql("retention", "curve"), cohort_params(eod, start, end, state.channels), cols)


@dataset("retention.curves")
def retention_curve_points(ctx: Ctx, state: State) -> "pd.DataFrame":
    """The Kaplan–Meier curve per segment, for drawing (from ``retention_groups``)."""
    import numpy as np
    import pandas as pd

    from seamline.stats.survival import kaplan_meier

    groups = retention_groups(ctx, state, _cohort_in_period(state))
    rows = []
    for seg in ("seamless", "frictioned"):
        part = groups[groups["segment"] == seg]
        if part.empty:
            continue
        counts = part["n"].to_numpy(int)
        c = kaplan_meier(np.repeat(np.maximum(part["duration_days"].to_numpy(float), 0.0), counts),
                         np.repeat(part["churned"].to_numpy(bool), counts))
        rows.append({"segment": seg, "days": 0.0, "survival": 1.0, "low": 1.0, "high": 1.0, "at_risk": c.n})
        for t, s, lo, hi in zip(c.times, c.survival, c.low, c.high):
            rows.append({"segment": seg, "days": t, "survival": s, "low": lo, "high": hi, "at_risk": None})
    return pd.DataFrame(rows, columns=["segment", "days", "survival", "low", "high", "at_risk"])


@dataset("retention.summary")
def retention_summary(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Per segment: customers, churned, survival at the landmark days with its
    interval, and the log-rank p (all from ``retention``)."""
    import pandas as pd

    from seamline.kpis.retention import LANDMARKS

    r = retention(ctx, state, _cohort_in_period(state))
    rows = []
    for seg in ("seamless", "frictioned"):
        entry = r["segments"][seg]
        row: dict[str, Any] = {"segment": seg, "customers": entry["customers"], "churned": entry["churned"]}
        for day in LANDMARKS:
            lo, hi = entry[f"survival_{day}_ci"] or (None, None)
            row[f"survival_{day}"], row[f"survival_{day}_low"], row[f"survival_{day}_high"] = (
                entry[f"survival_{day}"], lo, hi)
        row["logrank_p"] = r["logrank_p"]
        rows.append(row)
    df = pd.DataFrame(rows)
    return df if df["customers"].sum() > 0 else df.iloc[0:0]


@dataset("retention.cohorts")
def retention_cohorts(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis.retention import end_of_data

    eod = end_of_data(ctx.wh)
    cols = ["cohort", "customers", "reached_landmark", "frictioned", "frictioned_share", "churned_after_landmark",
            "churn_rate"]
    if eod is None:
        import pandas as pd

        return pd.DataFrame(columns=cols)
    df = _frame(ctx.wh,
                "SELECT formatDateTime(first_at, '%Y-%m') AS cohort, count(), "
                "countIf(landmark_at <= {eod:DateTime64(3, 'UTC')} AND (churn_at IS NULL OR churn_at > landmark_at)) AS reached, "
                "countIf(frictioned = 1 AND landmark_at <= {eod:DateTime64(3, 'UTC')} "
                "        AND (churn_at IS NULL OR churn_at > landmark_at)) AS fr, "
                "countIf(churn_after_at IS NOT NULL) AS churned "
                "FROM retention_customers WHERE (length({channels:Array(String)}) = 0 "
                "  OR first_channel IN {channels:Array(String)}) GROUP BY cohort ORDER BY cohort",
                state.params() | {"eod": eod}, ["cohort", "customers", "reached_landmark", "frictioned",
                                                "churned_after_landmark"])
    df["frictioned_share"] = df["frictioned"] / df["reached_landmark"].where(df["reached_landmark"] > 0)
    df["churn_rate"] = df["churned_after_landmark"] / df["reached_landmark"].where(df["reached_landmark"] > 0)
    return df[cols]


# Journeys -------------------------------------------------------------------
_TR_FILTER = ("(length({channels:Array(String)}) = 0 OR from_channel IN {channels:Array(String)} "
              "OR to_channel IN {channels:Array(String)})")


@dataset("journeys.daily")
def continuity_daily(ctx: Ctx, state: State) -> "pd.DataFrame":
    df = _frame(ctx.wh, "SELECT toDate(at) AS day, count(), sum(frictionless) FROM transitions "
                f"WHERE {_PERIOD % ('at', 'at')} AND {_TR_FILTER} GROUP BY day ORDER BY day",
                state.params(), ["day", "transitions", "frictionless"])
    return _with_wilson(_fill_days(df, state).fillna({"transitions": 0, "frictionless": 0}),
                        "frictionless", "transitions", "rate")


@dataset("journeys.pairs")
def continuity_pairs(ctx: Ctx, state: State) -> "pd.DataFrame":
    df = _frame(ctx.wh, "SELECT from_channel, to_channel, count(), sum(frictionless), sum(repeat_info), "
                "sum(reauth), sum(transfers), countIf(frictionless = 0) FROM transitions "
                f"WHERE {_PERIOD % ('at', 'at')} AND {_TR_FILTER} GROUP BY from_channel, to_channel "
                "ORDER BY count() DESC LIMIT 1000", state.params(),
                ["from_channel", "to_channel", "transitions", "frictionless", "repeat_info", "reauth", "transfers",
                 "frictioned"])
    return _with_wilson(df, "frictionless", "transitions", "rate")


@dataset("journeys.worst")
def worst_pairs(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline import views

    return views.worst_pairs(continuity_pairs(ctx, state))


def _with_wilson(df: "pd.DataFrame", num: str, den: str, name: str) -> "pd.DataFrame":
    from seamline.stats.intervals import wilson

    if df.empty:
        for c in (name, f"{name}_low", f"{name}_high"):
            df[c] = []
        return df
    res = [wilson(int(s), int(n)) for s, n in zip(df[num].fillna(0), df[den].fillna(0))]
    df[name] = [r.rate for r in res]
    df[f"{name}_low"] = [r.low for r in res]
    df[f"{name}_high"] = [r.high for r in res]
    return df


# Freshness ------------------------------------------------------------------
def bucket_seconds(state: State) -> int:
    days = state.span.days
    return 3600 if days <= 14 else (6 * 3600 if days <= 62 else 86400)


@dataset("freshness.series")
def freshness_series(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import Period

    p = state.params() | {"bucket": bucket_seconds(state)}
    rows = "freshness_hourly"
    if p["bucket"] == 86400:  # day buckets: whole days come merged from freshness_daily
        rows = ("freshness_period(start = {start:DateTime64(3, 'UTC')}, end = {end:DateTime64(3, 'UTC')}, "
                "full_from = {full_from:Date}, full_to = {full_to:Date})")
        p |= Period.of(state.start, state.end).full_days()
    return _frame(ctx.wh,
                  "SELECT toStartOfInterval(hour, toIntervalSecond({bucket:UInt32})) AS bucket, source, sum(events), "
                  "quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch) AS q, q[1], q[2], q[3] "
                  f"FROM {rows} AS f WHERE {_PERIOD % ('hour', 'hour')} AND {_SRC % 'source'} "
                  f"AND {_CH % 'channel'} GROUP BY bucket, source ORDER BY source, bucket LIMIT 100000",
                  p, ["bucket", "source", "events", "q", "p50", "p95", "p99"]).drop(columns=["q"])


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


LAG_BINS_PER_DECADE = 10


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
    df = _frame(ctx.wh,
                "SELECT if(hour < {onset:DateTime64(3, 'UTC')}, 'before', 'after') AS phase, "
                "floor(log10(greatest(lag, 0.1)) * {k:UInt32}) AS b, count() "
                "FROM freshness_hourly ARRAY JOIN lags AS lag "
                "WHERE source = {source:String} AND hour >= {b0:DateTime64(3, 'UTC')} AND hour < {a1:DateTime64(3, 'UTC')} "
                "GROUP BY phase, b ORDER BY phase, b LIMIT 10000", p, ["phase", "b", "events"])
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
    where = f"{_PERIOD % ('hour', 'hour')} AND {_SRC % 'source'} AND {_CH % 'channel'}"
    rows, threshold = ctx.wh.rows(
        "SELECT count(), min(m) FROM (SELECT lag_max AS m FROM freshness_hourly "
        f"WHERE {where} ORDER BY m DESC LIMIT {{n:UInt64}})", params)[0]
    if not rows:  # no events in the period
        import pandas as pd

        return pd.DataFrame(columns=cols)
    if rows < SLOWEST_N:  # a short period: read the few rows' lags (the bound needs N rows)
        threshold = ctx.wh.scalar(
            f"SELECT min(l) FROM (SELECT arrayJoin(arraySlice(arrayReverse(lags), 1, {{n:UInt64}})) AS l "
            f"FROM freshness_hourly WHERE {where} ORDER BY l DESC LIMIT {{n:UInt64}})", params)
    return _frame(ctx.wh,
                  "SELECT event_id, source, channel, type, occurred_at, ingested_at, "
                  "(toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(occurred_at)) / 1000 AS lag_s "
                  f"FROM events WHERE {_PERIOD % ('occurred_at', 'occurred_at')} "
                  "AND toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(occurred_at) >= {t_ms:Float64} "
                  f"AND {_SRC % 'source'} AND {_CH % 'channel'} ORDER BY lag_s DESC, event_id LIMIT {{n:UInt64}}",
                  params | {"t_ms": float(threshold) * 1000 - 0.5}, cols)


# Effort ---------------------------------------------------------------------
_SV_FILTER = f"{_PERIOD % ('at', 'at')} AND {_CH % 'channel'} AND {_TOP % 'topic'}"


@dataset("effort.distribution")
def ces_distribution(ctx: Ctx, state: State) -> "pd.DataFrame":
    return _frame(ctx.wh, f"SELECT ces, count() FROM surveys WHERE {_SV_FILTER} GROUP BY ces ORDER BY ces",
                  state.params(), ["ces", "responses"])


def _ces_by(ctx: Ctx, state: State, col: str) -> "pd.DataFrame":
    from seamline.stats.intervals import t_interval_from_moments

    df = _frame(ctx.wh, f"SELECT {col}, count(), sum(ces), sum(ces * ces), countIf(ces >= {{easy:UInt8}}) "
                f"FROM surveys WHERE {_SV_FILTER} GROUP BY {col} ORDER BY {col}",
                state.params() | {"easy": ctx.settings.windows.ces_easy_min},
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
    from seamline.stats.intervals import t_interval_from_moments

    weekly = state.span.days > 21
    bucket = "toMonday(at)" if weekly else "toDate(at)"
    df = _frame(ctx.wh, f"SELECT {bucket} AS period, count(), sum(ces), sum(ces * ces) FROM surveys "
                f"WHERE {_SV_FILTER} GROUP BY period ORDER BY period", state.params(),
                ["period", "responses", "sum", "sum_sq"])
    ivs = [t_interval_from_moments(int(n), float(s), float(q)) for n, s, q in zip(df["responses"], df["sum"], df["sum_sq"])]
    df["ces_mean"] = [i.mean for i in ivs]
    df["ces_low"] = [i.low for i in ivs]
    df["ces_high"] = [i.high for i in ivs]
    df["bucket"] = "week" if weekly else "day"
    return df.drop(columns=["sum", "sum_sq"])


@dataset("effort.silence")
def silence_daily(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import Period
    from seamline.kpis.silence import DAILY_COLUMNS, daily

    df = daily(ctx.wh, ctx.settings, Period.of(state.start, state.end))[DAILY_COLUMNS]
    if df.empty:
        return df
    df = _fill_days(df, state).fillna(0)
    active = df["active_customers"].where(df["active_customers"] > 0)
    df["repeat_contact_rate"] = df["repeat_contacts"] / df["contacts"].where(df["contacts"] > 0)
    df["contacts_per_100_customers"] = 100.0 * df["contacts"] / active
    df["silence_rate"] = df["silent_customers"] / active
    return df


@dataset("effort.repeat_by_topic")
def repeat_by_topic(ctx: Ctx, state: State) -> "pd.DataFrame":
    df = _frame(ctx.wh, "SELECT topic, count(), sum(is_repeat) FROM contacts "
                f"WHERE {_SV_FILTER} GROUP BY topic ORDER BY topic", state.params(),
                ["topic", "contacts", "repeat_contacts"])
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


# Incidents ------------------------------------------------------------------
_INC_FILTER = (f"{_PERIOD % ('at', 'at')} AND (length({{channels:Array(String)}}) = 0 "
               "OR hasAny(channels, {channels:Array(String)})) "
               "AND (length({rules:Array(String)}) = 0 OR rule IN {rules:Array(String)})")


def _inc_params(state: State) -> dict[str, Any]:
    return state.params() | {"rules": [state.extra["rule"]] if state.extra.get("rule") else []}


@dataset("incidents.by_channel")
def incidents_by_channel(ctx: Ctx, state: State) -> "pd.DataFrame":
    return _frame(ctx.wh, "SELECT ch AS channel, rule, count() FROM incidents FINAL ARRAY JOIN channels AS ch "
                  f"WHERE {_INC_FILTER} GROUP BY channel, rule ORDER BY channel, rule",
                  _inc_params(state), ["channel", "rule", "incidents"])


MAX_INCIDENT_ROWS = 2000


@dataset("incidents.table", cached=False)  # with the review status (metadata)
def incident_rows(ctx: Ctx, state: State) -> "pd.DataFrame":
    df = _frame(ctx.wh, "SELECT rule, message_event_id, customer, at, channels, event_ids FROM incidents FINAL "
                f"WHERE {_INC_FILTER} ORDER BY at DESC, rule, message_event_id LIMIT {{limit:UInt32}}",
                _inc_params(state) | {"limit": MAX_INCIDENT_ROWS},
                ["rule", "message_event_id", "customer", "at", "channels", "event_ids"])
    reviews = ctx.md.reviews() if not df.empty else {}
    df["status"] = [reviews.get((r, m), {}).get("status", "open") for r, m in zip(df["rule"], df["message_event_id"])]
    df["owner"] = [reviews.get((r, m), {}).get("owner", "") for r, m in zip(df["rule"], df["message_event_id"])]
    return df


def incident(ctx: Ctx, rule: str, message_event_id: str) -> dict[str, Any] | None:
    rows = ctx.wh.dicts("SELECT rule, message_event_id, customer, at, channels, event_ids FROM incidents FINAL "
                        "WHERE rule = {rule:String} AND message_event_id = {m:String} LIMIT 1",
                        {"rule": rule, "m": message_event_id})
    if not rows:
        return None
    row = rows[0]
    row["at"] = _utc(row["at"])
    row["review"] = ctx.md.reviews().get((rule, message_event_id))
    return row


def split_incident_key(value: str | None) -> tuple[str, str] | None:
    if not value or "|" not in value:
        return None
    rule, _, mid = value.partition("|")
    return (rule, mid) if rule and mid else None


MAX_TIMELINE_EVENTS = 2000


@dataset("incidents.timeline", cached=False)  # raw events, loaded or not yet in a rollup
def customer_timeline(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Every event of the selected incident's customer within ±7 days."""
    import pandas as pd

    cols = ["event_id", "occurred_at", "channel", "direction", "type", "source", "topic", "kind", "product",
            "subject", "status", "involved"]
    key = split_incident_key(state.extra.get("incident"))
    inc = incident(ctx, *key) if key else None
    if inc is None:
        return pd.DataFrame(columns=cols)
    p = {"customer": inc["customer"], "a": inc["at"] - timedelta(days=7), "b": inc["at"] + timedelta(days=7),
         "ids": list(inc["event_ids"]), "limit": MAX_TIMELINE_EVENTS}
    return _frame(ctx.wh,
                  "SELECT event_id, occurred_at, channel, toString(direction), type, source, topic, attrs['kind'], "
                  "attrs['product'], attrs['subject'], attrs['status'], has({ids:Array(String)}, event_id) "
                  "FROM events WHERE ident IN (SELECT ident FROM identity_map WHERE customer = {customer:String} "
                  "                             UNION ALL SELECT concat('c:', {customer:String})) "
                  "AND occurred_at >= {a:DateTime64(3, 'UTC')} AND occurred_at <= {b:DateTime64(3, 'UTC')} "
                  "ORDER BY occurred_at, event_id LIMIT {limit:UInt32}", p, cols)


@dataset("incidents.compare")
def kpi_compare(ctx: Ctx, state: State) -> "pd.DataFrame":
    return kpi_table(ctx, state)


# Health ---------------------------------------------------------------------
def warehouse_ok(wh: "Warehouse") -> bool:
    return wh.scalar("SELECT 1") == 1
