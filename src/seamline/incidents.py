"""Reading conflicting-message incidents (written by the `incidents` job)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from seamline.warehouse import Warehouse

_FAR_PAST = datetime(1900, 1, 1)
_FAR_FUTURE = datetime(2299, 12, 31)


def list_incidents(wh: Warehouse, start: datetime | None = None, end: datetime | None = None,
                   rules: list[str] | None = None, limit: int = 100_000) -> list[dict[str, Any]]:
    """Incidents in [start, end), oldest first, each with the SPEC keys."""
    return wh.dicts(
        "SELECT rule, customer, at, channels, event_ids, message_event_id FROM incidents FINAL "
        "WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')} "
        "  AND (length({rules:Array(String)}) = 0 OR rule IN {rules:Array(String)}) "
        "ORDER BY at, rule, message_event_id LIMIT {limit:UInt64}",
        {"start": start or _FAR_PAST, "end": end or _FAR_FUTURE, "rules": rules or [], "limit": limit},
    )
