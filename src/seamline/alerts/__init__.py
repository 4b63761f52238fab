"""Alerts (SPEC §7): rules evaluated as of a time, alert instances with state,
receivers (webhook in the Alertmanager format, Slack, e-mail).

- ``models``: the ``[[alerts]]`` and ``[[receivers]]`` of seamline.toml;
- ``rules``: what each rule kind finds as of a time (``alerts.sql``);
- ``engine``: the instances' state machine and the grouped messages;
- ``delivery``: rendering and sending, with retries and backoff;
- ``state``: the tables in the metadata database.

After every scheduled job run the scheduler calls ``after_jobs``: it hands the
evaluation (as of now) and the deliveries to one background thread per
process, so a slow or failing receiver never holds up or fails a job.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.warehouse import Warehouse

log = logging.getLogger("seamline.alerts")


class _Worker:
    """One background evaluation at a time; a request while it runs makes it
    run once more afterwards (the latest job results count)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._again = False
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def request(self, wh, md, settings) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._idle.clear()
            self._thread = threading.Thread(target=self._run, args=(wh, md, settings),
                                            name="seamline-alerts", daemon=True)
            self._thread.start()

    def _run(self, wh, md, settings) -> None:
        while True:
            try:
                run_once(wh, md, settings)
            except Exception:  # never out of this thread: the next job run evaluates again
                log.exception("alert evaluation failed")
            with self._lock:
                if not self._again:
                    self._thread = None
                    self._idle.set()
                    return
                self._again = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no evaluation runs (tests; a clean shutdown)."""
        return self._idle.wait(timeout)


_worker = _Worker()


def run_once(wh: "Warehouse", md: "Metadata", settings: "Settings", at=None) -> Any:
    """Evaluate every rule as of ``at`` (default now), then deliver what is due."""
    from seamline.alerts.delivery import deliver
    from seamline.alerts.engine import evaluate
    from seamline.metadata import utcnow

    report = evaluate(wh, md, settings, at or utcnow())
    for e in report.errors:
        log.warning("alert rule %s: %s", e["rule"], e["error"])
    for d in deliver(md, settings):
        if d["outcome"] != "sent":
            log.warning("alert notification %s to %s: %s (%s)", d["id"], d["receiver"], d["outcome"], d["error"])
    return report


def after_jobs(wh: "Warehouse", md: "Metadata", settings: "Settings", results: list[Any]) -> None:
    """Evaluate the alert rules after a scheduled job run (never raises:
    alerts must not fail the jobs; the work runs in a background thread)."""
    try:
        if settings.alerts:
            _worker.request(wh, md, settings)
    except Exception:
        log.exception("could not start the alert evaluation")


def wait_idle(timeout: float | None = None) -> bool:
    return _worker.wait(timeout)
