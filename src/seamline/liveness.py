"""Is the process that holds something still alive?

A job's lease and a load in progress record their holder: host, pid and the
process's start time (so a pid reused by a later process is not mistaken for
the holder), plus a heartbeat the holder refreshes while it works.  On the
holder's own host the process table answers at once, so a killed holder is
taken over on the next run, not after a timeout; a holder on another host
(a ClickHouse server shared by several machines) is alive while its
heartbeat is recent.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# A holder refreshes its heartbeat every HEARTBEAT; one on another host is
# presumed dead after HOLDER_TIMEOUT without one (several missed beats, so a
# busy machine is not taken over).
HEARTBEAT = timedelta(seconds=10)
HOLDER_TIMEOUT = timedelta(seconds=90)


def process_start(pid: int) -> int:
    """The process's start time in clock ticks since boot (Linux); 0 where
    unknown, -1 for a process that has exited but not been reaped (a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        # the command name (field 2) may contain spaces and parentheses
        fields = stat[stat.rindex(")") + 2:].split()
        return -1 if fields[0] in ("Z", "X") else int(fields[19])
    except (OSError, ValueError, IndexError):
        return 0


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    start: int

    @classmethod
    def me(cls) -> "Holder":
        pid = os.getpid()
        return cls(socket.gethostname(), pid, process_start(pid))

    @property
    def owner(self) -> str:
        return f"{self.host}:{self.pid}:{self.start}"

    @classmethod
    def parse(cls, owner: str) -> "Holder":
        # an owner may carry a suffix of its own after '/' (one lease among the process's)
        host, pid, start = (owner.split("/", 1)[0].rsplit(":", 2) + ["0", "0"])[:3]
        try:
            return cls(host, int(pid), int(start))
        except ValueError:
            return cls(host, 0, 0)


def alive(holder: Holder, heartbeat_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether ``holder`` still runs: by the process table on this host, else by its heartbeat."""
    if holder.host == socket.gethostname() and holder.pid > 0:
        try:
            os.kill(holder.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process: it exists
            pass
        started = process_start(holder.pid)
        return started != -1 and (not holder.start or started in (0, holder.start))
    if heartbeat_at is None:
        return False
    if heartbeat_at.tzinfo is None:
        heartbeat_at = heartbeat_at.replace(tzinfo=timezone.utc)
    return (now or datetime.now(timezone.utc)) - heartbeat_at < HOLDER_TIMEOUT
