"""Conflicting-message incidents (SPEC §3): customers told contradictory
things, per rule."""

from __future__ import annotations

from typing import Any

from seamline.kpis import Family, Kpi, Period, frame, sql


def period(wh, settings, p: Period) -> dict[str, Any]:
    by_rule = {r.name: 0 for r in settings.active_rules()}
    by_rule.update({rule: int(n) for rule, n in wh.rows(sql("incidents", "period"), p.params())})
    return {"total": sum(by_rule.values()), "by_rule": by_rule}


def daily(wh, settings, p: Period):
    return frame(wh, sql("incidents", "daily"), p.params(), ["day", "incidents"])


FAMILY = Family(
    name="incidents",
    kpis=(
        Kpi("incidents.total", "incidents", "Conflicting-message incidents", "count", False, 0.0,
            tile=True, daily=True,
            definition="Customers told contradictory things: a promotion after a purchase or during an open "
                       "complaint, two statuses for one subject"),
    ),
    period=period,
    daily=daily,
    daily_volume="incidents",
)
