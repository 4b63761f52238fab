"""Retention limits (SPEC §8), enforced by ClickHouse TTLs: ``retention_days``
on events (by ``occurred_at``) and ``quarantine_retention_days`` on the
quarantine (by ``quarantined_at``).  Set from the settings when a command
opens the warehouse (``seamline.governance.prepare``); a TTL changes only
when its setting does.  What derives from the dropped events (timeline,
rollups, incidents) is recomputed from the events kept by the next full run
(``seamline jobs run --full``); see docs/privacy.md."""

from __future__ import annotations

import re

from seamline.sqlfile import statement
from seamline.warehouse import Warehouse

TABLES = {"events": ("retention_days", "events_ttl"), "quarantine": ("quarantine_retention_days", "quarantine_ttl")}


def _sql(name: str) -> str:
    return statement("seamline.governance", "retention", name)


def current_days(wh: Warehouse, table: str) -> int | None:
    """The TTL of a table in days, as ClickHouse shows it (None: no TTL)."""
    engine = wh.scalar(_sql("engine"), {"t": table}) or ""
    m = re.search(r"\bTTL\b.*?toIntervalDay\(\D*(\d+)", engine)
    return int(m.group(1)) if m else None


def apply(wh: Warehouse, settings) -> dict[str, int | None]:
    """Set each table's TTL to its setting (None removes it); returns the tables changed."""
    changed = {}
    for table, (setting, name) in TABLES.items():
        want = getattr(settings, setting) or None  # 0: kept forever
        if current_days(wh, table) == want:
            continue
        if want is None:
            wh.command(_sql("remove_ttl"), {"t": table})
        else:
            wh.command(_sql(name), {"days": want})  # (materialised at once: mutations_sync in the statement)
        changed[table] = want
    return changed
