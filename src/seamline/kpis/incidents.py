"""Conflicting-message incidents (SPEC §3): customers told contradictory
things, per rule."""

from __future__ import annotations

from typing import Any

from seamline.kpis import Family, Kpi, Period, frame, sql
from seamline.jobdef import Job


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


# The job writing the family's rollups: its SQL is jobs/incidents*.sql.
def _statements(settings):
    out = []
    for rule in settings.active_rules():
        params = {
            "rule": rule.name,
            "window_ms": int(rule.window_hours * 3_600_000),
            "msg_keys": list(rule.message.keys()),
            "msg_values": list(rule.message.values()),
        }
        if rule.template == "after_trigger":
            params |= {"trigger_type": rule.trigger_type, "match_keys": list(rule.match)}
        elif rule.template == "during_open_case":
            params |= {"case_topic": rule.case_topic}
        elif rule.template == "contradiction":
            params |= {"same": rule.same, "differ": rule.differ}
        out.append((f"incidents_{rule.template}", params))
    return out


JOB = Job(
    name="incidents",
    description="conflicting-message incidents from the configured rules",
    schedule="*/10 * * * *",
    scope="customer",
    outputs=("incidents",),
    inputs=("timeline",),
    # A full run holds one range of customers' messages in a join at a time,
    # so the contradiction rule's join does not hold every customer's messages.
    split_by=("timeline", "customer"),
    statements=_statements,
)
