"""Sources in place (SPEC §6): event tables users already have in ClickHouse
(PostHog, RudderStack, Snowplow, OpenTelemetry logs, any table), read where
they are and synced into ``events`` inside ClickHouse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings


def scheduled_entries(settings: "Settings") -> list[tuple[str, str, str, str, tuple[Any, ...]]]:
    """The scheduler's entries for the configured sources: (id, name, cron,
    ``module:function`` called with (settings, *args), args)."""
    return []
