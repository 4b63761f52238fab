"""Customer data governance (SPEC §8): erase one customer everywhere
(``forget``), identity guards (blocked identifier values, suspected
over-merges), and ``identity explain``.  Heavy imports happen inside functions."""
