"""The view layer the pages call (STYLE 8): table rows, job health and the
KPI comparison frame, pure functions of data frames; no Dash, no warehouse.

Formatting lives in ``seamline.formatting`` and figures in
``seamline.figures``; both are re-exported here, so a page reads every view
function as ``views.<name>``.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from seamline.figures import (
    COLORS, NO_DATA, PALETTE, add_previous, band_figure, calibration_figure, ces_distribution_figure, ci_bars,
    freshness_figure, friction_figure, heatmap_figure, is_no_data, lagdist_figure, no_data_figure,
    rates_figure, retention_figure, sankey_figure, sparkline, stacked_bars, timeline_figure)
from seamline.formatting import (
    fmt_duration, fmt_num, fmt_p, fmt_pct, fmt_time, is_missing, local_series, mask_id, p_text, to_local)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from seamline.config import Settings
    from seamline.kpis import Kpi

__all__ = [
    # seamline.formatting
    "fmt_duration", "fmt_num", "fmt_p", "fmt_pct", "fmt_time", "is_missing", "local_series", "mask_id", "p_text",
    "to_local",
    # seamline.figures
    "COLORS", "NO_DATA", "PALETTE", "add_previous", "band_figure", "calibration_figure", "ces_distribution_figure",
    "ci_bars", "freshness_figure", "friction_figure", "heatmap_figure", "is_no_data", "lagdist_figure",
    "no_data_figure", "rates_figure", "retention_figure", "sankey_figure", "sparkline", "stacked_bars",
    "timeline_figure",
    # this module
    "table_records", "column_title", "is_rate_column", "RATE_SUFFIXES", "worst_pairs", "ALERT_COLUMNS", "SOURCE_COLUMNS", "alert_rows", "source_rows", "DECISIVE", "HEALTH", "HEALTH_COLUMNS", "job_health", "KPIS", "kpi_targets",
    "fmt_kpi", "fmt_change", "compare_kpi", "period_has_data", "NO_PREVIOUS", "on_target", "kpi_frame", "retention_fallback", "kpi_display",
    "kpi_has_data", "survival_change", "daily_totals", "incidents_figure", "beyond_followup", "survival_text",
]


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------
# Columns holding shares of 1, shown as percentages in tables.
RATE_SUFFIXES = ("_rate", "_share", "rate", "share", "survival_30", "survival_60", "survival_90")


def is_rate_column(column: str) -> bool:
    """A share of 1 (or its interval bound: ``rate_low``, ``survival_90_high``)."""
    for bound in ("_low", "_high"):
        column = column.removesuffix(bound)
    return column.endswith(RATE_SUFFIXES)


def column_title(column: str) -> str:
    """A table header: ``lag_s`` holds seconds shown as durations, so it reads "lag"."""
    return (column[:-2] if column.endswith("_s") else column).replace("_", " ")


def table_records(df: "pd.DataFrame", tz: str = "UTC", show_ids: bool = False,
                  id_columns: Iterable[str] = ("customer",), digits: int = 3) -> list[dict[str, Any]]:
    """DataTable rows: times in the display zone, lists joined, ids masked, floats rounded."""
    ids = set(id_columns)
    out = []
    for rec in df.to_dict("records"):
        row = {}
        for k, v in rec.items():
            if k in ids:
                v = mask_id(v, show_ids)
            elif k == "p_value" and isinstance(v, float):
                v = fmt_p(v)  # rounding would show a tiny p-value as 0
            elif isinstance(v, bool):
                v = "yes" if v else "no"
            elif str(k).endswith("_s") and isinstance(v, (int, float)) and not isinstance(v, bool):
                v = fmt_duration(v)  # one duration format: 59700.129 reads as 16.6 h
            elif (k == "ratio" or str(k).endswith("_ratio")) and isinstance(v, float) and not math.isnan(v):
                v = f"×{v:.1f}"  # a factor, as the regression picker and the CLI say it (p95 ×4.1)
            elif is_rate_column(str(k)) and isinstance(v, float) and not math.isnan(v):
                v = fmt_pct(v)  # the percentages the tiles show, not 0.35
            elif isinstance(v, (datetime,)) or type(v).__name__ == "Timestamp":
                v = fmt_time(v, tz)
            elif isinstance(v, date):
                v = v.isoformat()
            elif isinstance(v, (list, tuple)) or type(v).__name__ == "ndarray":
                v = ", ".join(str(x) for x in v)
            elif isinstance(v, float):
                v = None if math.isnan(v) else round(v, digits)
            elif hasattr(v, "item"):
                v = v.item()
            row[str(k)] = v
        out.append(row)
    return out


def worst_pairs(pairs: "pd.DataFrame", min_n: int = 20, limit: int = 10) -> "pd.DataFrame":
    """The channel pairs with the lowest continuity (upper Wilson bound first, so
    that small pairs with wide intervals are not over-ranked)."""
    if pairs is None or pairs.empty:
        return pairs
    big = pairs[pairs["transitions"] >= min_n]
    if big.empty:
        big = pairs
    cols = ["from_channel", "to_channel", "transitions", "frictionless", "rate", "rate_low", "rate_high",
            "repeat_info", "reauth", "transfers"]
    return big.sort_values(["rate_high", "rate"]).head(limit)[cols].reset_index(drop=True)


# --------------------------------------------------------------------------
# Job health
# --------------------------------------------------------------------------
# A run that ended decides a job's health.  ``skipped`` did nothing (another
# live run held the job, or a dependency failed and shows its own health) and
# ``running`` has not ended: neither says whether the rollup is right.
DECISIVE = ("success", "failed", "interrupted")
HEALTH = {"success": "ok", "failed": "failed", "interrupted": "warning"}
HEALTH_COLUMNS = ["job", "health", "status", "started_at", "finished_at", "rows", "last_success", "running_since",
                  "error"]


def job_health(runs: Iterable[Mapping[str, Any]], jobs: Iterable[str] = ()) -> "pd.DataFrame":
    """One row per job from its runs (``Metadata.runs``, any order): health
    from the latest success / failure / interruption — ``ok``, ``failed``, or
    ``warning`` for an interrupted run (the next run redoes it); ``running``
    or ``not run yet`` before any run has ended.  ``running_since`` shows a
    run in progress; ``jobs`` adds jobs that never ran."""
    import pandas as pd

    decisive: dict[str, Mapping[str, Any]] = {}
    success: dict[str, Mapping[str, Any]] = {}
    running: dict[str, Mapping[str, Any]] = {}
    names = set(jobs)
    for r in sorted(runs, key=lambda r: r.get("id") or 0):
        job = r["job"]
        names.add(job)
        status = r.get("status")
        if status in DECISIVE:
            decisive[job] = r
            running.pop(job, None)  # a run that ended after it started
        if status == "success":
            success[job] = r
        if status == "running":
            running[job] = r
    rows = []
    for job in sorted(names):
        last, ok, now = decisive.get(job, {}), success.get(job, {}), running.get(job, {})
        status = last.get("status")
        health = HEALTH.get(status) or ("running" if now else "not run yet")
        error = last.get("error") if status in ("failed", "interrupted") else None
        rows.append({"job": job, "health": health, "status": status, "started_at": last.get("started_at"),
                     "finished_at": last.get("finished_at"), "rows": last.get("rows"),
                     "last_success": ok.get("finished_at"), "running_since": now.get("started_at"),
                     "error": (error or "").split("\n")[0][:200]})
    return pd.DataFrame(rows, columns=HEALTH_COLUMNS)


ALERT_COLUMNS = ["state", "rule", "labels", "since", "summary"]
SOURCE_COLUMNS = ["source", "kind", "status", "last sync", "rows synced", "behind the source", "error"]


def alert_rows(instances: Iterable[Mapping[str, Any]]) -> "pd.DataFrame":
    """The alerts that need someone (firing, then pending), from
    ``seamline.alerts.state.instances``."""
    import pandas as pd

    order = {"firing": 0, "pending": 1}
    rows = sorted((r for r in instances if r.get("state") in order),
                  key=lambda r: (order[r["state"]], r.get("rule") or ""))
    return pd.DataFrame([{
        "state": r["state"], "rule": r["rule"],
        "labels": ", ".join(f"{k}={v}" for k, v in (r.get("labels") or {}).items() if k not in ("alertname", "severity")),
        "since": r.get("fired_at") or r.get("active_since"),
        "summary": (r.get("annotations") or {}).get("summary", "")} for r in rows], columns=ALERT_COLUMNS)


def source_rows(status: Iterable[Mapping[str, Any]]) -> "pd.DataFrame":
    """Sources in place as an engineer reads them, from ``seamline.sources.status``."""
    import pandas as pd

    return pd.DataFrame([{
        "source": s["name"], "kind": s.get("kind"), "status": s.get("status"),
        "last sync": s.get("last_sync"), "rows synced": s.get("rows_synced"),
        "behind the source": fmt_duration(s.get("lag_s")) if s.get("lag_s") is not None else "–",
        "error": (s.get("last_error") or "").split("\n")[0][:200]} for s in status], columns=SOURCE_COLUMNS)


# --------------------------------------------------------------------------
# KPIs
# --------------------------------------------------------------------------
def _tiles():
    from seamline.kpis import tiles

    return tiles()


# The overview's KPIs, from the registry (seamline.kpis), in its order.
KPIS = _tiles()


def kpi_targets(settings: "Settings") -> dict[str, float | None]:
    """Each overview KPI's target by its short name (seamline.toml's, else its default)."""
    return {k.name: k.target(settings) for k in KPIS}


def fmt_kpi(kind: str, value: Any) -> str:
    if is_missing(value):
        return "–"
    return {"pct": fmt_pct, "seconds": fmt_duration, "score": lambda v: fmt_num(v, 2),
            "count": lambda v: f"{int(v):,}", "number": lambda v: fmt_num(v, 1)}[kind](value)


def fmt_change(kind: str, change: Any) -> str:
    if is_missing(change):
        return "–"
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    a = abs(change)
    if kind == "pct":
        return f"{sign}{100 * a:.1f} pp"
    if kind == "seconds":
        return f"{sign}{fmt_duration(a)}"
    if kind == "count":
        return f"{sign}{int(a):,}"
    if kind == "number":
        return f"{sign}{a:,.1f}"
    return f"{sign}{a:.2f}"


def compare_kpi(kpi: "Kpi", cur: Mapping[str, Any], prev: Mapping[str, Any]) -> dict[str, Any]:
    """Value, previous, change and its significance (the KPI's own test: the
    two-proportion z-test for rates, Welch's t-test for the CES mean; none for
    quantiles, counts and retention)."""
    value, previous = kpi.of(cur), kpi.of(prev)
    if not period_has_data(prev) or kpi.volume_of(prev) == 0:
        previous = None  # a period with no events (or none of the KPI's) is no baseline: 0 incidents there is not a fact
    change = None if value is None or previous is None else value - previous
    p = kpi.p_value(cur, prev)
    better = None
    if change is not None and change != 0:
        better = (change > 0) == kpi.higher_is_better
    return {"value": value, "previous": previous, "change": change, "p_value": p,
            "significant": p is not None and p < 0.05, "better": better}


def period_has_data(m: Mapping[str, Any]) -> bool:
    """Whether a period's metrics rest on any event (``freshness.events``
    counts every event that occurred in it; metrics without that count are
    taken to have data)."""
    freshness = m.get("freshness") or {}
    return "events" not in freshness or bool(freshness["events"])


def on_target(kpi: "Kpi", value: float | None, target: float | None) -> bool | None:
    if value is None or target is None:
        return None
    return value >= target if kpi.higher_is_better else value <= target


NO_PREVIOUS = "no data for the previous period"


def kpi_frame(cur: Mapping[str, Any], prev: Mapping[str, Any], targets: Mapping[str, float | None]) -> "pd.DataFrame":
    import pandas as pd

    rows = []
    for k in KPIS:
        c = compare_kpi(k, cur, prev)
        t = targets.get(k.name)
        rows.append({"kpi": k.name, "label": k.label, "value": c["value"], "previous": c["previous"],
                     "change": c["change"], "p_value": c["p_value"], "significant": c["significant"],
                     "better": c["better"], "target": t, "on_target": on_target(k, c["value"], t),
                     "value_text": fmt_kpi(k.unit, c["value"]), "previous_text": fmt_kpi(k.unit, c["previous"]),
                     "change_text": (NO_PREVIOUS if c["previous"] is None and c["value"] is not None
                                     else fmt_change(k.unit, c["change"])), "target_text": fmt_kpi(k.unit, t),
                     "p_text": fmt_p(c["p_value"]) if c["p_value"] is not None else "no test",
                     "significant_text": ("yes" if c["significant"] else "no") if c["p_value"] is not None else "–"})
    return pd.DataFrame(rows)


def retention_fallback(rows: "pd.DataFrame", retention: Mapping[str, Any] | None,
                       target: float | None) -> "pd.DataFrame":
    """Retention at 90 days over all cohorts (``retention``: the output of
    ``seamline.metrics.retention`` for every cohort, read as the tile reads its
    period's) when the period's own cohort has no customer yet."""
    from seamline.kpis import kpi as registered

    rows = rows.copy()
    kpi = registered("retention_90")
    value = kpi.of({"retention": retention or {}})
    if value is None:
        return rows
    rows.loc["retention_90", "value"] = value
    rows.loc["retention_90", "value_text"] = fmt_kpi("pct", value) + " (all cohorts)"
    rows.loc["retention_90", "on_target"] = on_target(kpi, value, target)
    # says why it is not the period's: its cohort has no customer past the landmark yet
    rows.loc["retention_90", "change_text"] = "the period's own cohort is not past its landmark yet"
    return rows


def kpi_display(frame: "pd.DataFrame", with_target: bool = True) -> "pd.DataFrame":
    """The comparison table as people read it."""
    cols = {"label": "KPI", "value_text": "this period", "previous_text": "previous period", "change_text": "change",
            "p_text": "p", "significant_text": "significant"}
    if with_target:
        cols |= {"target_text": "target"}
    out = frame[list(cols)].rename(columns=cols)
    if with_target:
        out["on target"] = ["yes" if v is True else ("no" if v is False else "–") for v in frame["on_target"]]
    return out


def survival_change(now: "pd.DataFrame", before: "pd.DataFrame", days: Iterable[int] = (30, 60, 90)) -> "pd.DataFrame":
    """Survival per segment this period and the previous one (cohorts of
    first events in each), with the change in points; a segment with no
    customers before has no baseline and says so."""
    import pandas as pd

    prev = {r["segment"]: r for r in before.to_dict("records")} if before is not None and len(before) else {}
    rows = []
    for r in now.to_dict("records"):
        b = prev.get(r["segment"])
        base = b is not None and (b.get("customers") or 0) > 0
        for d in days:
            cur, old = r.get(f"survival_{d}"), (b or {}).get(f"survival_{d}") if base else None
            # past the longest follow-up the survival is carried: not a change at that horizon
            carried = beyond_followup(r, d) or (base and beyond_followup(b, d))
            rows.append({"segment": r["segment"], "at": f"{d} days", "this period": survival_text(r, d),
                         "previous period": survival_text(b, d) if base else NO_PREVIOUS,
                         "change": "–" if not base or carried else
                         fmt_change("pct", None if is_missing(cur) or is_missing(old) else cur - old)})
    return pd.DataFrame(rows, columns=["segment", "at", "this period", "previous period", "change"])


def beyond_followup(row: Mapping[str, Any], day: int) -> bool:
    f = row.get("followup_days")
    return f is not None and not is_missing(f) and round(f) < day  # 59.6 days of follow-up reach 60


def survival_text(row: Mapping[str, Any], day: int, interval: bool = False) -> str:
    """Survival at ``day`` days; past the longest follow-up, the survival there and its horizon."""
    value = fmt_pct(row.get(f"survival_{day}"))
    if interval and not is_missing(row.get(f"survival_{day}_low")):
        value += f" ({fmt_pct(row[f'survival_{day}_low'])}–{fmt_pct(row[f'survival_{day}_high'])})"
    if beyond_followup(row, day):
        value += f" at {row['followup_days']:.0f} days (longest follow-up)"
    return value


def daily_totals(df: "pd.DataFrame", x: str = "day", y: str = "incidents") -> "pd.DataFrame":
    """A stacked chart's frame summed per ``x`` (the previous period's overlay)."""
    if df is None or df.empty:
        return df
    return df.groupby(x, as_index=False)[y].sum()


def incidents_figure(daily: "pd.DataFrame", previous: "pd.DataFrame | None", title: str, first: date,
                     last: date) -> Any:
    """Incidents per day and rule over the period's days; ``previous`` (the
    previous period's, when comparing) overlaid as its daily total."""
    from datetime import timedelta

    fig = stacked_bars(daily, "day", "rule", "incidents", title, days=(first, last))
    if previous is not None:
        add_previous(fig, daily_totals(previous), "day", "incidents", timedelta(days=(last - first).days + 1),
                     "all rules, previous period")
    return fig


def kpi_has_data(frame: "pd.DataFrame") -> bool:
    return bool(len(frame)) and frame["value"].notna().any() and not (
        frame.set_index("kpi")["value"].drop("incidents", errors="ignore").isna().all())
