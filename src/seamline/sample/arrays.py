"""Vectorised numpy helpers and the columnar event buffer of a block."""
from __future__ import annotations

import numpy as np

from seamline.sample.catalog import HOUR


def seg(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner index and position within segment for segments of the given lengths."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(owner.size) - np.repeat(starts, counts)
    return owner, pos


def seg_cumsum(values: np.ndarray, owner_counts: np.ndarray) -> np.ndarray:
    cs = np.cumsum(values)
    ends = np.cumsum(owner_counts)
    base = np.concatenate([[0], cs[ends[:-1] - 1]]) if owner_counts.size else np.zeros(0)
    return cs - np.repeat(base, owner_counts)


def choice(rng, p, size) -> np.ndarray:
    c = np.cumsum(p) / np.sum(p)
    return np.minimum(np.searchsorted(c, rng.random(size), side="right"), len(p) - 1)


def obj(values) -> np.ndarray:
    a = np.empty(len(values), dtype=object)
    a[:] = values
    return a


class Events:
    def __init__(self) -> None:
        self.parts: list[dict] = []

    def add(self, cust, t, src, ch, dirn, typ, ids, topic=-1, case=-1, attrs=None, mark=0, jid=-1):
        t = np.asarray(t, dtype=np.int64)
        n = t.size
        if n == 0:
            return

        def full(v, dt):
            v = np.asarray(v)
            return np.full(n, v, dtype=dt) if v.ndim == 0 else v.astype(dt, copy=False)

        if attrs is None:
            attrs = np.full(n, None, dtype=object)
        self.parts.append(dict(
            cust=full(cust, np.int64), t=t, src=full(src, np.int8), ch=full(ch, np.int8),
            dir=full(dirn, np.int8), typ=full(typ, np.int8), ids=full(ids, np.int8),
            topic=full(topic, np.int8), case=full(case, np.int64), attrs=attrs,
            mark=full(mark, np.int8), jid=full(jid, np.int64)))

    def concat(self) -> dict:
        keys = self.parts[0].keys()
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}


def lognormal_ms(rng, median_s, sigma, size):
    return (median_s * 1000.0 * np.exp(sigma * rng.standard_normal(size))).astype(np.int64)


def tod(rng, size, lo=6.0, hi=23.5):
    """Time of day (ms) with a daytime peak, within [lo, hi) hours."""
    hours = np.arange(24)
    w = np.where((hours >= lo) & (hours < hi), 1.0, 0.0)
    w *= 0.5 + np.exp(-0.5 * ((hours - 13.5) / 4.0) ** 2)
    w[hours == int(lo)] *= (1 - (lo - int(lo)))
    h = choice(rng, w, size)
    ms = h * HOUR + rng.integers(0, HOUR, size)
    return np.clip(ms, int(lo * HOUR), int(hi * HOUR) - 1)
