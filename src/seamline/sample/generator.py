"""``generate``: blocks of customers to one output file plus its planted facts."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Callable

import numpy as np

from seamline.sample.block import Block
from seamline.sample.catalog import HOUR, DAY, BLOCK_CUSTOMERS, COLUMNS
from seamline.sample.planted import accumulate, planted_facts
from seamline.sample.rows import BAD_KINDS, bad_row, event_columns
from seamline.sample.writer import Writer, planted_file


@dataclass
class SampleResult:
    path: Path
    events: int
    customers: int
    start: datetime
    end: datetime
    planted: dict = field(default_factory=dict)
    planted_path: Path | None = None


def generate(out: str | Path, customers: int = 2000, days: int = 60, seed: int = 7,
             start: datetime | None = None, bad_rows: bool = True,
             progress: Callable[[int], None] | None = None, compresslevel: int = 3) -> SampleResult:
    """Write ``customers`` synthetic customers' events over ``days`` days to ``out``.

    The format follows the suffix: ``.jsonl``, ``.jsonl.gz``, ``.csv`` (attrs as a JSON
    string) or ``.parquet`` (all columns strings). A ``<name>.planted.json`` with the
    planted facts is written beside it. Same arguments => byte-identical files.
    """
    if customers < 1 or days < 8:
        raise ValueError("need customers >= 1 and days >= 8")
    path = Path(out)
    start = start or datetime(2026, 9, 1, tzinfo=UTC)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    start = start.astimezone(UTC)
    start_ms = int(round(start.timestamp() * 1000))
    end = start + timedelta(days=days)
    onset = int(days * 0.6) * DAY + 14 * HOUR
    recovery = onset + max(2, int(days * 0.2)) * DAY - 4 * HOUR
    cday = int(days * 0.4)
    cfg = dict(crm_onset=onset, crm_recovery=recovery, campaign_day=cday)

    writer = Writer(path, compresslevel)
    id_prefix = f"s{seed}-"
    next_id = 0
    written = 0
    bad_counts = {k: 0 for k in BAD_KINDS}
    dup_total = 0
    bad_seq = 0
    agg = dict(pair_hot=0, pair_hot_ok=0, pair_other=0, pair_other_ok=0, promo_after_purchase=0,
               contradictory_status=0, crm_before=[], crm_after=[], crm_recovered=[],
               frictioned=0, seamless=0, churn_frictioned=0, churn_seamless=0, types={}, never=0,
               anon_start=0, unresolved_complaints=0)
    nblocks = (customers + BLOCK_CUSTOMERS - 1) // BLOCK_CUSTOMERS
    try:
        for b in range(nblocks):
            first = b * BLOCK_CUSTOMERS
            n = min(BLOCK_CUSTOMERS, customers - first)
            blk = Block(seed, b, first, n, days, cfg)
            E = blk.run()
            cols = event_columns(blk, E, start_ms, id_prefix, next_id)
            ne = E["t"].size
            next_id += ne
            accumulate(agg, blk, E, cfg)
            rng = np.random.default_rng(np.random.SeedSequence([seed, b, 0xBAD]))
            order = np.arange(ne)
            bad: list = []
            if bad_rows and ne > 0:
                ndup = int(round(ne * 0.001)) + (1 if b == 0 else 0)
                src = np.sort(rng.choice(ne, size=min(ndup, ne), replace=False))
                pos = np.minimum(src + 1 + rng.integers(0, 2000, src.size), ne)
                order = np.insert(order, pos, src)
                dup_total += src.size
                nbad = max(len(BAD_KINDS) if b == 0 else 0, int(round(ne * 0.001)))
                bpos = np.sort(rng.integers(0, order.size + 1, nbad))
                for j in range(nbad):
                    kind = BAD_KINDS[(bad_seq + j) % len(BAD_KINDS)]
                    base_i = int(rng.integers(0, ne))
                    base = {k: cols[k][base_i] for k in COLUMNS}
                    row, line = bad_row(kind, base, f"{id_prefix}bad-{bad_seq + j:06d}", writer.table)
                    bad.append((int(bpos[j]), row, line))
                    bad_counts[kind] += 1
                bad_seq += nbad
            written += writer.write(cols, order, bad)
            if progress is not None:
                progress(written)
    finally:
        writer.close()

    planted = planted_facts(agg, cfg, start_ms, start, end, customers, days, seed, written,
                            bad_counts, dup_total, writer.table)
    ppath = planted_file(path)
    ppath.write_text(json.dumps(planted, indent=2, sort_keys=False) + "\n")
    return SampleResult(path=path, events=written, customers=customers, start=start, end=end,
                        planted=planted, planted_path=ppath)
