"""Cross-channel continuity (SPEC §3): are customers carried across when
they change channel, or do they repeat themselves, re-authenticate or get
transferred?"""

from __future__ import annotations

from typing import Any

from seamline.kpis import Family, Kpi, Period, frame, rate, sql


def period(wh, settings, p: Period) -> dict[str, Any]:
    n, ok = wh.rows(sql("continuity", "period"), p.params())[0]
    n, ok = int(n or 0), int(ok or 0)
    return {"transitions": n, "frictionless": ok, "rate": rate(ok, n)}


def daily(wh, settings, p: Period):
    return frame(wh, sql("continuity", "daily"), p.params(), ["day", "transitions", "continuity_rate"])


FAMILY = Family(
    name="continuity",
    kpis=(
        Kpi("continuity.rate", "continuity_rate", "Continuity", "pct", True, 0.80,
            counts=("frictionless", "transitions"), tile=True, daily=True,
            definition="Share of channel changes within a journey after which the customer did not have to "
                       "repeat information, sign in again or be transferred in the next {w.friction_minutes:g} min"),
    ),
    period=period,
    daily=daily,
    daily_volume="transitions",
)
