"""Latency regressions per source (SPEC §3) from the freshness rollup, with
the deploy annotations that precede them attached."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from seamline.config import Settings
from seamline.warehouse import Warehouse

# An annotation is attached to a regression when it is at most this long
# before the onset (or up to 2 h after it: the onset is found within ±2 h).
ANNOTATION_BEFORE = timedelta(hours=12)
ANNOTATION_AFTER = timedelta(hours=2)


def hourly_series(wh: Warehouse, start: datetime | None = None, end: datetime | None = None):
    import pandas as pd

    cols = ["source", "hour", "events", "p95"]  # what detection reads (not p50)
    frame = wh.df(  # columnar fetch: an hour per source over the whole history
        "SELECT source, hour, events, p95 FROM freshness_source_hourly "
        "WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')} ORDER BY source, hour",
        {"start": start or datetime(1970, 1, 1, tzinfo=timezone.utc),
         "end": end or datetime(2299, 1, 1, tzinfo=timezone.utc)})
    return pd.DataFrame(columns=cols) if frame.empty else frame[cols]


def _iso(ts: Any) -> str | None:
    if ts is None:
        return None
    ts = ts.to_pydatetime() if hasattr(ts, "to_pydatetime") else ts
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def find_regressions(wh: Warehouse, settings: Settings, md=None, start: datetime | None = None,
                     end: datetime | None = None) -> list[dict[str, Any]]:
    from seamline.stats.regression import detect_regressions, series_from_frame

    frame = hourly_series(wh, start, end)
    if frame.empty:
        return []
    found = detect_regressions(series_from_frame(frame, source="source", hour="hour", p95="p95", count="events"))
    notes = md.annotations() if md is not None else []
    out = []
    for r in found:
        onset = r.onset.to_pydatetime()
        attached = [a for a in notes
                    if (not a.get("source") or a["source"] == r.source)
                    and onset - ANNOTATION_BEFORE <= a["at"] <= onset + ANNOTATION_AFTER]
        out.append({
            "source": r.source,
            "onset": _iso(r.onset),
            "baseline_p95_s": round(float(r.baseline_p95_s), 3),
            "after_p95_s": round(float(r.after_p95_s), 3),
            "ratio": round(float(r.ratio), 3),
            "p_value": float(r.p_value),
            "recovered": bool(r.recovered),
            "recovered_at": _iso(r.recovered_at),
            "annotation": "; ".join(a["text"] for a in attached) or None,
        })
    return out
