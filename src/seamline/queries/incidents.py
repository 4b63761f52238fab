"""The incidents page: incidents per channel and rule, the incident table with
its review status, one incident and its customer's timeline, and the KPI
comparison."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from seamline.queries import Ctx, _frame, _inc_params, _utc, dataset, page_sql
from seamline.queries.overview import kpi_table
from seamline.urlstate import State

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MAX_INCIDENT_ROWS = 2000
MAX_TIMELINE_EVENTS = 2000
MAX_INCIDENT_GROUPS = 500
GROUP_COLUMNS = ["rule", "day", "incidents", "customers", "campaigns", "channels", "first_at", "last_at"]


@dataset("incidents.by_channel")
def incidents_by_channel(ctx: Ctx, state: State) -> "pd.DataFrame":
    from seamline.kpis import sql

    return _frame(ctx.wh, sql("incidents", "by_channel"), _inc_params(state), ["channel", "rule", "incidents"])


@dataset("incidents.groups")
def incident_groups(ctx: Ctx, state: State) -> "pd.DataFrame":
    """The view's incidents per rule and day of the display zone, the biggest
    group first (a burst of one campaign on one day is the first row)."""
    return _frame(ctx.wh, page_sql("incidents", "incident_groups"), _inc_params(state) | {"limit": MAX_INCIDENT_GROUPS},
                  GROUP_COLUMNS)


@dataset("incidents.table", cached=False)  # with the review status (metadata)
def incident_rows(ctx: Ctx, state: State) -> "pd.DataFrame":
    df = _frame(ctx.wh, page_sql("incidents", "incident_rows"), _inc_params(state) | {"limit": MAX_INCIDENT_ROWS},
                ["rule", "message_event_id", "customer", "at", "channels", "event_ids"])
    reviews = ctx.md.reviews() if not df.empty else {}
    df["status"] = [reviews.get((r, m), {}).get("status", "open") for r, m in zip(df["rule"], df["message_event_id"])]
    df["owner"] = [reviews.get((r, m), {}).get("owner", "") for r, m in zip(df["rule"], df["message_event_id"])]
    return df


def incident(ctx: Ctx, rule: str, message_event_id: str) -> dict[str, Any] | None:
    rows = ctx.wh.dicts(page_sql("incidents", "incident"), {"rule": rule, "m": message_event_id})
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


@dataset("incidents.timeline", cached=False)  # raw events, loaded or not yet in a rollup
def customer_timeline(ctx: Ctx, state: State) -> "pd.DataFrame":
    """Every event of the selected incident's customer within ±7 days."""
    import pandas as pd

    cols = ["event_id", "occurred_at", "channel", "direction", "type", "source", "topic", "kind", "campaign",
            "product", "subject", "status", "involved"]
    key = split_incident_key(state.extra.get("incident"))
    inc = incident(ctx, *key) if key else None
    if inc is None:
        return pd.DataFrame(columns=cols)
    p = {"customer": inc["customer"], "a": inc["at"] - timedelta(days=7), "b": inc["at"] + timedelta(days=7),
         "ids": list(inc["event_ids"]), "limit": MAX_TIMELINE_EVENTS}
    return _frame(ctx.wh, page_sql("incidents", "customer_timeline"), p, cols)


@dataset("incidents.compare")
def kpi_compare(ctx: Ctx, state: State) -> "pd.DataFrame":
    return kpi_table(ctx, state)
