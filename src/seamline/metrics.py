"""Period KPIs (SPEC §3, the keys of SPEC §5's ``metrics --json``): every KPI
family of the registry (``seamline.kpis``) for a period ``[start, end)`` in
UTC.  Every value is a number, or None when there is no data; intervals come
from ``seamline.stats``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seamline.kpis import Period, as_utc, families

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings
    from seamline.warehouse import Warehouse

__all__ = ["add_intervals", "as_utc", "period_metrics"]


def add_intervals(out: dict[str, Any]) -> None:
    """Attach 95 % intervals in place: Wilson for every rate KPI (``<key>_ci``
    beside its value) and each family's own (the CES mean's t interval)."""
    from seamline.stats.intervals import wilson

    for fam in families():
        part = out.get(fam.name)
        if part is None:
            continue
        for k in fam.kpis:
            if k.counts is not None:
                s, n = k.counts
                r = wilson(int(part[s]), int(part[n]))
                part[k.key.split(".", 1)[1] + "_ci"] = None if r.low is None else [r.low, r.high]
        if fam.intervals is not None:
            fam.intervals(part)


def period_metrics(wh: "Warehouse", settings: "Settings", start, end, intervals: bool = True,
                   workers: int = 1) -> dict[str, Any]:
    """Every KPI family for [start, end). With ``workers`` > 1 the families are
    computed concurrently (their queries run in the engine, outside the GIL)."""
    p = Period.of(start, end)
    fams = families()
    if workers <= 1:
        done = {f.name: f.period(wh, settings, p) for f in fams}
    else:
        from concurrent.futures import ThreadPoolExecutor

        # the costliest families first, so that none of them starts last
        order = sorted(fams, key=lambda f: not f.costly)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {f.name: pool.submit(f.period, wh, settings, p) for f in order}
            done = {f.name: futures[f.name].result() for f in fams}
    out = {"period": {"from": p.start.isoformat(), "to": p.end.isoformat()}} | done
    if intervals:
        add_intervals(out)
    return out
