"""Times as Seamline writes them: RFC 3339, UTC, milliseconds, ``Z``."""

from __future__ import annotations

from datetime import date, datetime, timezone


def iso_utc(value: datetime | date) -> str:
    """A datetime (naive = UTC) as ``2026-03-01T09:15:02.120Z``; a date as ``2026-03-01``."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value.isoformat()
