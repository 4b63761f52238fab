"""Progress of long work on a terminal (a one-line bar on stderr)."""

from __future__ import annotations

import sys
import time


class Progress:
    """A one-line progress bar on a terminal (stderr); silent otherwise."""

    def __init__(self, label: str, total: int, enabled: bool | None = None):
        self.label, self.total = label, max(total, 1)
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = 0.0

    def update(self, done: int, extra: str = "") -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        frac = min(done / self.total, 1.0)
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r{self.label[:40]:<40} [{bar:<30}] {frac:6.1%} {extra}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()
