"""Alerts (SPEC §7): rules evaluated as of a time, alert instances with state,
receivers (webhook in the Alertmanager format, Slack, e-mail)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.warehouse import Warehouse


def after_jobs(wh: "Warehouse", md: "Metadata", settings: "Settings", results: list[Any]) -> None:
    """Evaluate the alert rules after a scheduled job run (never raises:
    alerts must not fail the jobs)."""
