"""What each rule kind finds as of an evaluation time ``at`` (SPEC §7): a
list of findings, one per alert instance whose condition holds.

Every kind judges windows that end at ``at - delay`` (the rule's evaluation
delay); the kinds that read hourly data (regression, kpi) end them at the
whole hour before that, so an incomplete bucket is never judged.  burn_rate,
regression, incidents and stale read the events that had occurred and been
ingested before ``at``; kpi reads the rollups (see docs/alerts.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from seamline.alerts.models import AlertRule, format_duration

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings
    from seamline.warehouse import Warehouse


@dataclass
class Finding:
    labels: dict[str, str]        # every label but alertname and severity
    identity: tuple[str, ...]     # the labels that make the instance (its fingerprint)
    value: float | None
    summary: str
    description: str
    page: str = "/"               # the dashboard view that shows it
    view: dict[str, str] = field(default_factory=dict)
    severity: str | None = None   # a tier's own severity


def sql(name: str) -> str:
    from seamline.sqlfile import statement

    return statement("seamline.alerts", "alerts", name)


def _ms(t: datetime) -> int:
    return int(round(t.timestamp() * 1000))


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _period(start: datetime, end: datetime, **extra: str) -> dict[str, str]:
    """The dashboard's URL state for a period (inclusive days) and filters."""
    last = (end - timedelta(microseconds=1)).date()
    return {"period": "custom", "from": start.date().isoformat(), "to": last.isoformat(), **extra}


def _targets(settings: "Settings") -> dict[str, Any]:
    return {"t_sources": list(settings.freshness_targets.keys()),
            "t_values": [float(v) for v in settings.freshness_targets.values()],
            "t_default": float(settings.freshness_target_s)}


# burn_rate ------------------------------------------------------------------
def burn_rate(wh: "Warehouse", md, settings: "Settings", rule: AlertRule, at: datetime) -> list[Finding]:
    """Per source and tier: burn rate = (1 - good share) / (1 - objective) over
    the tier's long and short windows [end - w, end); the tier fires when both
    exceed its rate (and the long window has at least ``min_volume`` events)."""
    end = at - rule.delay
    windows = sorted({t.long for t in rule.tiers} | {t.short for t in rule.tiers})
    ms = [int(w.total_seconds() * 1000) for w in windows]
    rows = wh.rows(sql("burn_rate"), {"at": at, "end": end, "end_ms": _ms(end), "start": end - windows[-1],
                                      "windows_ms": ms, "sources": rule.sources} | _targets(settings))
    budget = 1 - float(rule.objective)
    out = []
    for source, total, bad in rows:
        rates = {w: (b / n / budget if n else 0.0) for w, n, b in zip(windows, total, bad)}
        counts = dict(zip(windows, total))
        for tier in rule.tiers:
            long_rate, short_rate = rates[tier.long], rates[tier.short]
            if counts[tier.long] == 0 or counts[tier.long] < rule.min_volume:
                continue
            if long_rate > tier.rate and short_rate > tier.rate:
                w = f"{format_duration(tier.long)}/{format_duration(tier.short)}"
                target = settings.target_for(source)
                out.append(Finding(
                    labels={"source": source, "windows": w}, identity=("source", "windows"),
                    value=round(long_rate, 3), severity=tier.severity,
                    summary=f"{source}: freshness error budget burning {long_rate:.1f}x over {format_duration(tier.long)}",
                    description=(f"{source}: {1 - long_rate * budget:.1%} of events within {target:g} s over the last "
                                 f"{format_duration(tier.long)} (burn rate {long_rate:.2f}x), {short_rate:.2f}x over "
                                 f"{format_duration(tier.short)}; the objective is {rule.objective:g} and this tier "
                                 f"fires above {tier.rate:g}x"),
                    page="/freshness", view=_period(end - tier.long, end, source=source)))
    return out


# regression -------------------------------------------------------------------
MIN_BASELINE = timedelta(hours=24)


def regression(wh: "Warehouse", md, settings: "Settings", rule: AlertRule, at: datetime) -> list[Finding]:
    """A latency regression (SPEC §3) found for a source in the trailing
    window and not recovered; the labels onset, ratio and p_value are its
    latest values (the instance is the rule and the source)."""
    import pandas as pd

    from seamline.regressions import _iso
    from seamline.stats.regression import detect_regressions, series_from_frame

    end = floor_hour(at - rule.delay)
    start = end - rule.window
    rows = wh.rows(sql("hourly_lags"), {"at": at, "start": start, "end": end, "sources": rule.sources})
    if not rows:
        return []
    frame = pd.DataFrame(rows, columns=["source", "hour", "events", "p95"])
    found = detect_regressions(series_from_frame(frame, source="source", hour="hour", p95="p95", count="events"))
    latest: dict[str, Any] = {}
    for r in found:  # sorted by onset: the latest of a source wins
        latest[r.source] = r
    out = []
    for source, r in sorted(latest.items()):
        # an onset within a day of the window's start has a baseline too short
        # to judge (on the sample's stationary web source such a candidate came
        # and went as the window slid)
        if r.recovered or r.onset.to_pydatetime() - start < MIN_BASELINE:
            continue
        onset = r.onset.to_pydatetime()
        out.append(Finding(
            labels={"source": source, "onset": _iso(r.onset), "ratio": f"{r.ratio:.2f}", "p_value": f"{r.p_value:.2g}"},
            identity=("source",), value=round(float(r.ratio), 3),
            summary=f"{source}: latency regression since {_iso(r.onset)}, p95 {r.ratio:.1f}x",
            description=(f"{source}: hourly p95 lag went from {r.baseline_p95_s:.0f} s to {r.after_p95_s:.0f} s "
                         f"({r.ratio:.2f}x, p = {r.p_value:.2g}) from {_iso(r.onset)}; not recovered as of {_iso(end)}"),
            page="/freshness", view=_period(min(onset - timedelta(days=2), end - timedelta(days=1)), end, source=source)))
    return out


# kpi --------------------------------------------------------------------------
def kpi(wh: "Warehouse", md, settings: "Settings", rule: AlertRule, at: datetime) -> list[Finding]:
    """A registry KPI over the trailing window [end - window, end) below / above
    its bound, with at least ``min_volume`` in its denominator."""
    from seamline.kpis import Period, families
    from seamline.kpis import kpi as registry_kpi

    k = registry_kpi(rule.kpi)
    fam = next(f for f in families() if f.name == k.family)
    end = floor_hour(at - rule.delay)
    start = end - rule.window
    part = fam.period(wh, settings, Period.of(start, end))
    metrics = {k.family: part}
    value, volume = k.of(metrics), k.volume_of(metrics)
    if value is None or (volume is not None and volume < rule.min_volume) or (volume is None and rule.min_volume):
        return []
    bound, crossed = (rule.below, value < rule.below) if rule.below is not None else (rule.above, value > rule.above)
    if not crossed:
        return []
    side = "below" if rule.below is not None else "above"
    shown = f"{value:.1%}" if k.unit == "pct" else f"{value:.4g}"
    bound_shown = f"{bound:.1%}" if k.unit == "pct" else f"{bound:g}"
    page = {"freshness": "/freshness", "continuity": "/journeys", "silence": "/effort", "effort": "/effort",
            "retention": "/retention", "incidents": "/incidents"}.get(k.family, "/")
    return [Finding(
        labels={"kpi": k.key}, identity=("kpi",), value=value,
        summary=f"{k.label} {shown} is {side} {bound_shown} over {format_duration(rule.window)}",
        description=(f"{k.label} ({k.key}) was {shown} over [{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) UTC, "
                     f"{side} the bound {bound_shown}" + (f", on {volume:,} observations" if volume is not None else "")),
        page=page, view=_period(start, end))]


# incidents ----------------------------------------------------------------------
def incidents(wh: "Warehouse", md, settings: "Settings", rule: AlertRule, at: datetime) -> list[Finding]:
    """Conflicting-message incidents in [end - window, end) above the bound."""
    end = at - rule.delay
    start = end - rule.window
    n = int(wh.scalar(sql("incidents"), {"at": at, "start": start, "end": end, "rules": rule.rules}) or 0)
    if n <= rule.above:
        return []
    which = f" ({', '.join(rule.rules)})" if rule.rules else ""
    return [Finding(
        labels={}, identity=(), value=float(n),
        summary=f"{n} conflicting-message incidents{which} in the last {format_duration(rule.window)}",
        description=f"{n} incidents{which} in [{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) UTC, above {rule.above:g}",
        page="/incidents", view=_period(start, end))]


# stale ------------------------------------------------------------------------
def schedule_interval(cron: str, at: datetime) -> timedelta:
    """The time between two runs of a cron schedule after ``at``."""
    from apscheduler.triggers.cron import CronTrigger

    trig = CronTrigger.from_crontab(cron, timezone="UTC")
    first = trig.get_next_fire_time(None, at)
    second = trig.get_next_fire_time(first, first + timedelta(seconds=1))
    return second - first


def stale(wh: "Warehouse", md, settings: "Settings", rule: AlertRule, at: datetime) -> list[Finding]:
    """A job whose last success (before ``at``) is older than ``after`` [3 x
    its schedule], or a source whose last event arrived longer than ``after``
    [24 h] before ``at`` ("no data")."""
    return _stale_jobs(md, settings, rule, at) if rule.of == "jobs" else _stale_sources(wh, rule, at)


def _stale_jobs(md, settings, rule: AlertRule, at: datetime) -> list[Finding]:
    from sqlalchemy import func, select

    from seamline.alerts.state import utc
    from seamline.metadata import job_runs
    from seamline.runner import registry

    jobs = registry()
    names = rule.names or list(jobs)
    out = []
    with md.engine.connect() as cx:
        for name in names:
            success = cx.execute(select(func.max(job_runs.c.finished_at)).where(
                job_runs.c.job == name, job_runs.c.status == "success", job_runs.c.finished_at < at)).scalar()
            first = cx.execute(select(func.min(job_runs.c.started_at)).where(
                job_runs.c.job == name, job_runs.c.started_at < at)).scalar()
            since = utc(success) or utc(first)
            if since is None:  # never run before `at`: nothing to judge
                continue
            after = rule.after or 3 * schedule_interval(jobs[name].cron(settings) if name in jobs else "0 * * * *", at)
            if at - since > after:
                what = f"last succeeded {since:%Y-%m-%d %H:%M} UTC" if success else "has never succeeded"
                out.append(Finding(
                    labels={"job": name}, identity=("job",), value=(at - since).total_seconds(),
                    summary=f"job {name} has not succeeded for {format_duration(at - since)}",
                    description=f"job {name} {what}; it should succeed at least every {format_duration(after)}",
                    page="/"))
    return out


def _stale_sources(wh, rule: AlertRule, at: datetime) -> list[Finding]:
    last = {source: t for source, t in wh.rows(sql("last_event"), {"at": at})}
    after = rule.after or timedelta(hours=24)
    out = []
    for source in rule.names or sorted(last):
        t = last.get(source)
        if t is not None:
            t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
        if t is None or at - t > after:
            seen = f"its last event arrived {t:%Y-%m-%d %H:%M} UTC" if t is not None else "no event of it has arrived"
            out.append(Finding(
                labels={"source": source}, identity=("source",),
                value=None if t is None else (at - t).total_seconds(),
                summary=f"no data from {source} for {format_duration(at - t) if t else 'ever'}",
                description=f"{source}: {seen}; expected at least one every {format_duration(after)}",
                page="/freshness", view=_period(at - timedelta(days=2), at, source=source)))
    return out


EVALUATORS: dict[str, Callable[..., list[Finding]]] = {
    "burn_rate": burn_rate, "regression": regression, "kpi": kpi, "incidents": incidents, "stale": stale,
}
