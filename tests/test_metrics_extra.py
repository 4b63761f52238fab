"""Predicted effort and the freshness rollups: wired to real rollups."""

from __future__ import annotations

from datetime import date

from eventkit import expand_all, load_events
from seamline.runner import run_jobs


def test_predicted_effort_on_generated_data(tmp_path, settings, wh, md):
    from seamline.effort import FEATURES, effort_frame, predicted_effort
    from seamline.load import load_file
    from seamline.sample import generate

    res = generate(tmp_path / "s.jsonl.gz", customers=400, days=30, seed=3, bad_rows=False)
    load_file(wh, res.path, settings.hash_salt, progress=False)
    run_jobs(wh, md, settings)
    out = predicted_effort(wh, res.start, res.end)
    assert out["available"] and out["respondents"] >= 30 and out["non_respondents"] > 0
    assert 0 < out["cv_mae"] < 1.6
    assert 1 <= out["adjusted_mean"] <= 7
    assert set(out["coefficients"]) == set(FEATURES)
    # the generator lowers CES after friction: friction features must not raise predicted effort
    assert out["coefficients"]["repeat_info"] < 0.1 and out["coefficients"]["transfers"] < 0.1
    assert sum(b["n"] for b in out["calibration"]) == out["respondents"]
    # the CV folds are drawn by row: the rows come in customer order, so the
    # fit does not depend on the join's order
    customers = list(effort_frame(wh, res.start, res.end)["customer"])
    assert len(customers) > 300 and customers == sorted(customers)
    assert predicted_effort(wh, res.start, res.end) == out
    # a sample of at most ~100 customers: those with hash % mod = 0
    n = wh.scalar("SELECT count() FROM retention_customers")
    mod = -(-n // 100)
    sampled = predicted_effort(wh, res.start, res.end, max_customers=100)
    assert mod >= 4 and sampled["sample_fraction"] == 1 / mod
    in_sample = {c for (c,) in wh.rows("SELECT customer FROM retention_customers "
                                       "WHERE cityHash64(customer) % {m:UInt64} = 0", {"m": mod})}
    assert sampled["respondents"] + sampled["non_respondents"] == len(set(customers) & in_sample) > 50
    empty = predicted_effort(wh, date(2020, 1, 1), date(2020, 2, 1))
    assert empty["available"] is False and empty["adjusted_mean"] is None


def test_freshness_whole_days_come_from_the_daily_rollup(tmp_path, settings, wh, md, monkeypatch):
    from datetime import datetime, timezone

    from seamline.kpis import Period, freshness

    def full_days(a, b):
        return Period.of(a, b).full_days()

    args = ("start = {start:DateTime64(3, 'UTC')}, end = {end:DateTime64(3, 'UTC')}, "
            "full_from = {full_from:Date}, full_to = {full_to:Date}")

    # 2026-03-01..03: lags of 1..N s at hours 00, 05, 23 of each day, two sources,
    # one late event (negative lag) on 03-02 05:xx
    rows = []
    for d in (1, 2, 3):
        for h in (0, 5, 23):
            for k in range(1, 4 + d):
                rows.append({"cust": f"C{k}", "t": f"2026-03-{d:02d}T{h:02d}:10:00.000Z", "src": "web" if k % 2 else "crm",
                             "ing": f"2026-03-{d:02d}T{h:02d}:10:{k * d:02d}.000Z"})
    rows.append({"cust": "C1", "t": "2026-03-02T05:30:00.000Z", "ing": "2026-03-02T05:29:00.000Z"})
    load_events(wh, settings, expand_all(rows), tmp_path / "e.jsonl")
    run_jobs(wh, md, settings)
    assert wh.scalar("SELECT count() FROM freshness_daily") == 3 * 2  # day x source (channel web)
    assert wh.scalar("SELECT count() FROM freshness_daily_total") == 3

    def utc(text):
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)

    assert full_days(utc("2026-03-01T00:00"), utc("2026-03-03T00:00")) == {
        "full_from": date(2026, 3, 1), "full_to": date(2026, 3, 3)}
    assert full_days(utc("2026-03-01T00:00:00.001"), utc("2026-03-03T05:00")) == {
        "full_from": date(2026, 3, 2), "full_to": date(2026, 3, 3)}
    assert full_days(utc("2026-03-01T05:00"), utc("2026-03-01T23:00")) == {
        "full_from": date(2026, 3, 2), "full_to": date(2026, 3, 2)}  # no whole day

    # events per period by hand: day d has 3 hours x (3 + d) events (+1 late on 03-02)
    periods = {("2026-03-01T00:00", "2026-03-04T00:00"): 12 + 15 + 1 + 18,
               ("2026-03-01T05:00", "2026-03-03T06:00"): 8 + 15 + 1 + 12,   # 03-01 05,23 | 03-02 | 03-03 00,05
               ("2026-03-01T05:30", "2026-03-03T05:00"): 4 + 15 + 1 + 6,    # 03-01 23 | 03-02 | 03-03 00
               ("2026-03-02T00:00", "2026-03-03T00:00"): 15 + 1,
               ("2026-03-02T04:00", "2026-03-02T23:00"): 5 + 1}             # 03-02 05 only
    monkeypatch.setattr(freshness, "EXACT_QUANTILE_MAX_EVENTS", 0)  # the sketch path
    for (a, b), events in periods.items():
        p = {"start": utc(a), "end": utc(b)} | full_days(utc(a), utc(b))
        via_days = wh.rows(f"SELECT sum(events), sum(skewed), quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch) "
                           f"FROM freshness_period({args})", p)[0]
        via_hours = wh.rows("SELECT sum(events), sum(skewed), quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch) "
                            "FROM freshness_hourly WHERE hour >= {start:DateTime64(3, 'UTC')} "
                            "AND hour < {end:DateTime64(3, 'UTC')}", p)[0]
        via_totals = wh.rows(f"SELECT sum(events), sum(skewed), quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch) "
                             f"FROM freshness_period_total({args})", p)[0]
        assert via_days[0] == events, (a, b)
        assert via_days == via_hours == via_totals, (a, b)
        got = freshness.period(wh, settings, Period.of(utc(a), utc(b)))
        assert got["events"] == events and got["exact"] is False
        assert got["skewed"] == (1 if a < "2026-03-02T05:30" < b else 0)
        assert [got["p50_s"], got["p95_s"], got["p99_s"]] == [round(float(x), 3) for x in via_hours[2]]


def test_migration_0009_backfills_the_daily_totals(tmp_path, settings, wh, md):
    from seamline.warehouse.schema import migrate

    rows = [{"cust": f"C{k}", "t": f"2026-03-0{d}T0{k}:00:00.000Z", "src": "web" if k % 2 else "crm",
             "ing": f"2026-03-0{d}T0{k}:00:{k * d:02d}.000Z"} for d in (1, 2) for k in range(1, 6)]
    load_events(wh, settings, expand_all(rows), tmp_path / "e.jsonl")
    run_jobs(wh, md, settings)
    table = ("SELECT day, events, skewed, arrayMap(x -> round(x, 6), finalizeAggregation(sketch)) "
             "FROM freshness_daily_total ORDER BY day")
    written = wh.rows(table)
    assert [(r[0].day, r[1]) for r in written] == [(1, 5), (2, 5)]
    # a warehouse from before the migration: the job's rows come back from freshness_daily
    wh.command("DROP TABLE freshness_daily_total")
    wh.command("DELETE FROM schema_migrations WHERE version = 9")
    assert migrate(wh) == ["0009_freshness_daily_total"]
    assert wh.rows(table) == written
