"""Cached dashboard results: keyed by the metadata's cache stamp, warmed by the server."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from conftest import ServerThread
from eventkit import expand_all, load_events
from seamline import queries
from seamline.queries import Ctx, memo, warm
from seamline.runner import run_jobs
from seamline.urlstate import State

STATE = State(preset="custom", start=datetime(2026, 3, 1, tzinfo=timezone.utc),
              end=datetime(2026, 3, 8, tzinfo=timezone.utc))


def test_cached_results_are_recomputed_after_a_job_run_or_an_annotation(tmp_path, settings, wh, md):
    queries.clear_cache()
    calls = []

    @memo
    def probe(ctx, state):
        calls.append(1)
        return ctx.wh.scalar("SELECT count() FROM transitions WHERE at >= {start:DateTime64(3, 'UTC')} "
                             "AND at < {end:DateTime64(3, 'UTC')}", state.params())

    ctx = Ctx(wh=wh, settings=settings, md=md)
    assert probe(ctx, STATE) == 0 and probe(ctx, STATE) == 0 and len(calls) == 1
    load_events(wh, settings, expand_all([
        {"cust": "A", "t": "2026-03-02T10:00:00.000Z"},
        {"cust": "A", "t": "2026-03-02T10:05:00.000Z", "c": "chat", "type": "contact"}]), tmp_path / "e.jsonl")
    assert probe(ctx, STATE) == 0 and len(calls) == 1  # a load alone changes no rollup
    run_jobs(wh, md, settings)
    assert probe(ctx, STATE) == 1 and len(calls) == 2  # a job run is a new key
    md.annotate(datetime(2026, 3, 2, tzinfo=timezone.utc), "deploy")
    assert probe(ctx, STATE) == 1 and len(calls) == 3  # so is an annotation
    assert probe(ctx, STATE.previous()) == 0 and len(calls) == 4  # and another view
    queries.clear_cache()


def test_a_result_read_while_a_job_runs_is_not_kept(settings, wh, md):
    """An increment deletes its customers' rows and then inserts them: a view
    read in between is shown once, but not cached for the rest of the stamp."""
    queries.clear_cache()
    calls = []

    @memo
    def probe(ctx, state):
        calls.append(1)
        return len(calls)

    ctx = Ctx(wh=wh, settings=settings, md=md)
    run = md.start_run("silence", False)
    assert probe(ctx, STATE) == 1 and probe(ctx, STATE) == 2  # read again while the run writes
    md.finish_run(run, "failed")
    assert probe(ctx, STATE) == 3 and probe(ctx, STATE) == 3  # kept once no run is writing
    queries.clear_cache()


def test_warm_computes_every_dataset_of_the_default_view(tmp_path, settings, wh, md):
    queries.clear_cache()
    load_events(wh, settings, expand_all([
        {"cust": "A", "t": "2026-03-02T10:00:00.000Z"},
        {"cust": "A", "t": "2026-03-02T10:05:00.000Z", "c": "chat", "type": "contact"}]), tmp_path / "e.jsonl")
    run_jobs(wh, md, settings)
    took = warm(Ctx(wh=wh, settings=settings, md=md))
    assert set(took) == set(queries.DATASETS)
    cached = {k[0] for k in queries._memo}
    memoized = {fn.__name__ for fn in queries.DATASETS.values() if getattr(fn, "memoized", False)}
    assert memoized <= cached
    uncached = {k for k, fn in queries.DATASETS.items() if not getattr(fn, "memoized", False)}
    # they read the metadata (job runs, alert state), the sync state or raw events
    # (the alerts page's datasets, all of the metadata, once its module is imported)
    assert {k for k in uncached if not k.startswith("alerts.")} == {
        "overview.jobs", "overview.alerts", "overview.sources", "incidents.table", "incidents.timeline"}
    assert {"period_pair", "daily_kpis", "regressions"} <= cached  # helpers behind the datasets
    queries.clear_cache()


def test_the_server_warms_the_default_views_in_the_background(tmp_path, monkeypatch):
    import seamline.serve

    monkeypatch.setattr(seamline.serve, "WARM_POLL_S", 0.2)
    queries.clear_cache()
    srv = ServerThread(tmp_path / "data")
    try:
        deadline = time.time() + 30
        while time.time() < deadline and "period_pair" not in {k[0] for k in list(queries._memo)}:
            time.sleep(0.2)
        assert "period_pair" in {k[0] for k in list(queries._memo)}
    finally:
        srv.stop()
    assert not srv.server._warm_thread.is_alive()  # closing the server stops it before the engines close
