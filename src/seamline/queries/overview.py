"""The overview page: every tile KPI for the period and the previous one, the
per-day sparklines, incidents per day and rule, and job health."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seamline.queries import Ctx, _frame, _inc_params, dataset, days_frame, memo
from seamline.urlstate import State

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PERIOD_WORKERS = 3  # KPI families computed at once per period (see period_pair)


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
    from seamline.kpis import sql

    return _frame(ctx.wh, sql("incidents", "daily_by_rule"), _inc_params(state), ["day", "rule", "incidents"])


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


@dataset("overview.alerts", cached=False)  # alert state: the metadata, changed by every evaluation
def alert_table(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline import views

    if not ctx.settings.alerts:
        return views.alert_rows([])
    from seamline.alerts import state as alert_state

    return views.alert_rows(alert_state.instances(ctx.md))


@dataset("overview.sources", cached=False)  # sync state changes with every sync
def source_table(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline import views

    if not ctx.settings.sources:
        return views.source_rows([])
    from seamline.sources import status

    return views.source_rows(status(ctx.wh, ctx.md, ctx.settings))


OVERMERGED_COLUMNS = ["customer", "identifiers", "customer_ids", "anonymous_ids", "emails", "phones", "events"]


@dataset("overview.overmerged")  # identity_map is the identity job's output
def overmerged(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Suspected over-merges (SPEC §2): customers with more than
    ``identity_max_identifiers`` identifiers, largest first."""
    import pandas as pd

    from seamline.governance.guards import suspected_overmerges

    return pd.DataFrame(suspected_overmerges(ctx.wh, ctx.settings, limit=20), columns=OVERMERGED_COLUMNS)
