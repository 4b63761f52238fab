"""The ``seamline alerts`` commands (SPEC §5).  Heavy imports happen inside commands."""

from __future__ import annotations

# argv prefixes of the read-only actions: they run at once in a running server.
READ_ONLY: set[tuple[str, ...]] = set()


def register(sub) -> None:
    """Add the ``alerts`` parser to the top-level subparsers."""
