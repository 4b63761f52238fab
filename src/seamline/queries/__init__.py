"""The one query package the dashboard pages use: *datasets*, small aggregated
frames read from the rollup tables (GROUP BY in ClickHouse), keyed by a
stable name so the same frame feeds a chart and its CSV download.  Only the
incident customer timeline and the slowest events read the ``events`` table,
always with bound parameters and a LIMIT.  The shared view state (parsed from
the URL) lives in ``seamline.urlstate`` and is re-exported here.

This module holds what every page shares (``Ctx``, the ``dataset`` registry,
the cache, ``warm``, frame helpers); one module per page computes its
datasets: ``overview``, ``cohorts`` (the retention page), ``journeys``,
``freshness``, ``effort`` and ``incidents``, all importable from here
(``queries.continuity_pairs``).

Every statement is plain ClickHouse SQL in a ``.sql`` file, one ``-- name:``
section each (``seamline.sqlfile``), with values only as bound
``{name:Type}`` parameters: a KPI family's breakdowns (continuity per channel
pair, freshness per source, …) in ``seamline/kpis/<family>.sql``, a page's
own reads in ``seamline/queries/<page>.sql``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable

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


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------
def page_sql(page: str, name: str) -> str:
    """A named statement of ``seamline/queries/<page>.sql``."""
    from seamline.sqlfile import statement

    return statement("seamline.queries", page, name)


def _frame(wh: "Warehouse", sql: str, params: dict[str, Any], columns: list[str]) -> "pd.DataFrame":
    import pandas as pd

    rows = wh.rows(sql, params)
    return pd.DataFrame([list(r) for r in rows], columns=columns)


def days_frame(state: State) -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame({"day": pd.date_range(state.start.date(), state.end.date() - timedelta(days=1), freq="D").date})


def _fill_days(df: "pd.DataFrame", state: State) -> "pd.DataFrame":
    import pandas as pd

    if df.empty:
        return df
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return days_frame(state).merge(df, on="day", how="left")


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


def _inc_params(state: State) -> dict[str, Any]:
    """The view's parameters and its incident rule (``{rules}``, empty = all)."""
    return state.params() | {"rules": [state.extra["rule"]] if state.extra.get("rule") else []}


def warehouse_ok(wh: "Warehouse") -> bool:
    """The health check: the warehouse answers."""
    return wh.scalar(page_sql("health", "ping")) == 1


# --------------------------------------------------------------------------
# The pages, in the order their datasets are registered (and warmed)
# --------------------------------------------------------------------------
from seamline.queries.overview import (  # noqa: E402
    PERIOD_WORKERS, alert_table, daily_kpis, incidents_daily, job_health, kpi_table, overmerged, period_pair,
    source_table)
from seamline.queries.cohorts import (  # noqa: E402
    _cohort_in_period, retention, retention_cohorts, retention_compare, retention_curve_points, retention_groups, retention_summary)
from seamline.queries.journeys import continuity_daily, continuity_pairs, worst_pairs  # noqa: E402
from seamline.queries.freshness import (  # noqa: E402
    LAG_BINS_PER_DECADE, SLOWEST_N, bucket_seconds, freshness_series, freshness_slo, lag_distribution,
    regression_key, regressions, regressions_frame, slowest_events)
from seamline.queries.effort import (  # noqa: E402
    EFFORT_SAMPLE_CUSTOMERS, _ces_by, ces_by_channel, ces_by_topic, ces_distribution, ces_trend,
    effort_calibration, repeat_by_topic, silence_daily)
from seamline.queries.incidents import (  # noqa: E402
    GROUP_COLUMNS, MAX_INCIDENT_GROUPS, MAX_INCIDENT_ROWS, MAX_TIMELINE_EVENTS, customer_timeline, incident,
    incident_groups, incident_rows, incidents_by_channel, kpi_compare, split_incident_key)
