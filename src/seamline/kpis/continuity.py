"""Cross-channel continuity (SPEC §3): are customers carried across when
they change channel, or do they repeat themselves, re-authenticate or get
transferred?"""

from __future__ import annotations

from typing import Any

from seamline.kpis import Family, Kpi, Period, frame, rate, sql
from seamline.jobdef import Job


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


# The job writing the family's rollups: its SQL is jobs/continuity.sql.
JOB = Job(
    name="continuity",
    description="journeys (gap split), touches, transitions and their friction",
    schedule="*/15 * * * *",
    scope="customer",
    outputs=("transitions", "journeys"),
    inputs=("timeline",),
    split_by=("timeline", "customer"),  # a full run: one range of customers at a time
    # an increment: from the first journey a new event can change (its window statement)
    window="continuity:window",
    window_columns=(("transitions", "at"), ("journeys", "start_at")),
    statements=lambda s: [("continuity:journeys", {
        "gap_ms": int(s.windows.journey_gap_hours * 3_600_000),
        "friction_ms": int(s.windows.friction_minutes * 60_000),
    })],
)
