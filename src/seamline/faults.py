"""Named kill points, for the fault-injection tests (tests/test_faults.py).

``SEAMLINE_KILL_AT=<point>[#<n>]`` makes the process send itself SIGKILL the
n-th time (default: the first) it reaches ``point(<point>)``: the process
dies there as under ``kill -9`` or a power loss, with no handler, no
``finally`` and no flush.  Unset (always, outside those tests), a point costs
one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

_hits: dict[str, int] = {}
_lock = threading.Lock()


def point(name: str) -> None:
    target = os.environ.get("SEAMLINE_KILL_AT")
    if not target:
        return
    want, _, nth = target.partition("#")
    if want != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        hit = _hits[name]
    if hit == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
