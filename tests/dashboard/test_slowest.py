"""The slowest-events table (freshness page) on hand-built lags, against the
events sorted by lag in Python."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from eventkit import expand_all, load_events
from seamline import queries
from seamline.queries import SLOWEST_N, Ctx, slowest_events
from seamline.runner import run_jobs
from seamline.urlstate import State

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
END = datetime(2026, 3, 5, tzinfo=timezone.utc)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _event(n: int, at: datetime, lag_s: float, channel: str = "web") -> dict:
    return {"id": f"s{n:04d}", "cust": f"C{n % 7}", "t": _iso(at), "ing": _iso(at + timedelta(seconds=lag_s)),
            "c": channel}


def _expected(events: list[dict], channels: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    def lag(e):
        parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
        return round((parse(e["ingested_at"]) - parse(e["occurred_at"])).total_seconds(), 3)

    inside = [e for e in events if START <= datetime.fromisoformat(e["occurred_at"].replace("Z", "+00:00")) < END
              and (not channels or e["channel"] in channels)]
    ranked = sorted(((e["event_id"], lag(e)) for e in inside), key=lambda r: (-r[1], r[0]))
    return ranked[:SLOWEST_N]


def _loaded(rows: list[dict], tmp_path, settings, wh, md) -> tuple[list[dict], Ctx]:
    events = expand_all(rows)
    load_events(wh, settings, events, tmp_path / "e.jsonl")
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    return events, Ctx(wh=wh, settings=settings, md=md)


def _got(ctx, state) -> list[tuple[str, float]]:
    queries.clear_cache()
    frame = slowest_events(ctx, state)
    return [(str(i), round(float(v), 3)) for i, v in zip(frame["event_id"], frame["lag_s"], strict=True)]


def test_slowest_events_with_many_rollup_rows(tmp_path, settings, wh, md):
    # 60 hours (rollup rows) with lags h·10+5, h·10+3 and 1 s: the 50 slowest
    # are the top two of hours 35..59 (595, 593, ..., 355, 353), far above the
    # bound the query starts from (the 50th-largest hourly maximum, 105 s).
    rows, n = [], 0
    for h in range(60):
        for lag in (h * 10 + 5, h * 10 + 3, 1):
            n += 1
            rows.append(_event(n, START + timedelta(hours=h, minutes=n % 50), lag))
    # outside the period (just before it, and at its exclusive end) however slow
    rows.append(_event(900, START - timedelta(milliseconds=1), 10_000))
    rows.append(_event(901, END, 10_000))
    # at the very start of the period, the slowest of all; another channel; a clock-skewed event
    rows.append(_event(902, START, 1_000))
    rows.append(_event(903, START + timedelta(hours=5), 700, channel="app"))
    rows.append(_event(904, START + timedelta(hours=6), -30))
    events, ctx = _loaded(rows, tmp_path, settings, wh, md)

    got = _got(ctx, State(preset="custom", start=START, end=END))
    assert got == _expected(events)
    assert got[0] == ("s0902", 1000.0) and got[1] == ("s0903", 700.0) and got[2][1] == 595.0
    assert got[-1][1] == 363.0 and len(got) == SLOWEST_N  # 1000, 700, then 48 of the 595..353 ladder
    assert not {"s0900", "s0901"} & {i for i, _ in got}

    # a channel filter: the one app event
    assert _got(ctx, State(preset="custom", start=START, end=END, channels=("app",))) == [("s0903", 700.0)]


@pytest.mark.parametrize("per_hour", [40, 3])
def test_slowest_events_with_few_rollup_rows(tmp_path, settings, wh, md, per_hour):
    # two hours only: the top 50 lags come from inside the two rows (or are all
    # six events); the per-row maxima cannot bound them
    rows, n = [], 0
    for h in (1, 30):
        for k in range(per_hour):
            n += 1
            rows.append(_event(n, START + timedelta(hours=h, seconds=k), 3 * k + h % 2 + 0.25))
    events, ctx = _loaded(rows, tmp_path, settings, wh, md)
    got = _got(ctx, State(preset="custom", start=START, end=END))
    assert got == _expected(events)
    assert len(got) == min(SLOWEST_N, 2 * per_hour)


def test_slowest_events_of_an_empty_period(settings, wh, md):
    ctx = Ctx(wh=wh, settings=settings, md=md)
    queries.clear_cache()
    frame = slowest_events(ctx, State(preset="custom", start=START, end=END))
    assert frame.empty and list(frame.columns)[:2] == ["event_id", "source"]
