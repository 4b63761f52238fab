"""Customer data governance (SPEC §2, §8): erase one customer everywhere
(``forget``), identity guards (blocked identifier values, suspected
over-merges), ``identity explain``, the per-installation hash salt and the
retention limits.  Heavy imports happen inside functions."""

from __future__ import annotations


def prepare(wh, settings) -> None:
    """What a command does when it opens the warehouse: settle the hash salt
    (refusing one that differs from the stored data's), copy the configured
    blocked identifiers and apply the retention limits."""
    from seamline.governance import guards, retention, salt

    salt.resolve(wh, settings)
    guards.sync_blocklist(wh, settings)
    retention.apply(wh, settings)
