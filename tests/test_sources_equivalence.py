"""The same events, as canonical JSON Lines and as PostHog-, RudderStack- and
Snowplow-shaped tables, give identical ``metrics --json`` and
``incidents --json`` (issue 22's "done when").

The events are the sample generator's (``seamline.sample``, fewer customers
than sample_data/ so the test stays quick; the slow marker runs
sample_data/'s size), with UUID event ids (PostHog and Snowplow ids are UUIDs)
and times in whole seconds (RudderStack's ClickHouse tables keep seconds).
Each shape is written from the canonical rows inside ClickHouse
(``seamline.sources.fixtures``), each into a warehouse database of its own
on the same engine, and every job runs on each.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from seamline.sources.fixtures import canonical_file, write_shapes
from settingskit import make_settings, teardown_settings


def _results(wh, md, s, start, end) -> tuple[dict, list]:
    from seamline.incidents import list_incidents
    from seamline.metrics import period_metrics
    from seamline.runner import run_jobs

    results = run_jobs(wh, md, s, None, full=False)
    assert all(r.status == "success" for r in results), [(r.job, r.status, r.error) for r in results]
    return period_metrics(wh, s, start, end), list_incidents(wh)


def _equivalence(tmp_path, chdb_dsn, sample: Path):
    if not chdb_dsn.startswith("chdb:"):
        pytest.skip("the shapes are written from a local file the embedded engine reads")
    from seamline.cli import Context
    from seamline.load import load_file
    from seamline.sources.models import parse_sources
    from seamline.sources.sync import sync_source

    canon = tmp_path / "canon.jsonl"
    n = canonical_file(sample, canon)
    variants = {}
    shapes_db = f"up{uuid.uuid4().hex[:8]}"
    opened = []
    try:
        for name in ("jsonl", "posthog", "rudderstack", "snowplow"):
            (tmp_path / name).mkdir()
            s = make_settings(tmp_path / name, chdb_dsn)
            opened.append(s)
            ctx = Context(s)
            wh, md = ctx.wh, ctx.md
            if name == "jsonl":
                r = load_file(wh, canon, s.hash_salt)
                write_shapes(wh, canon, shapes_db)
            else:
                db = f"{shapes_db}_{'rudder' if name == 'rudderstack' else name}"
                (src,) = parse_sources([{"name": name, "kind": name, "database": db}])
                r = sync_source(wh, src, s.hash_salt, "sources[0]")
            assert (r.read, r.loaded, r.quarantined) == (n, n, 0), name
            start, end = wh.rows("SELECT min(occurred_at), max(occurred_at) FROM events")[0]
            from datetime import timedelta, timezone
            variants[name] = _results(wh, md, s, start.replace(tzinfo=timezone.utc),
                                      end.replace(tzinfo=timezone.utc) + timedelta(seconds=1))
    finally:
        from seamline.warehouse import Warehouse, quote_ident

        if opened:
            w = Warehouse(opened[0].warehouse_dsn, opened[0].warehouse_database)
            for d in ("posthog", "rudder", "snowplow"):
                w.command(f"DROP DATABASE IF EXISTS {quote_ident(f'{shapes_db}_{d}')}")
        for s in opened:
            teardown_settings(s)
    metrics, incidents = variants["jsonl"]
    assert metrics["continuity"]["transitions"] > 0 and incidents  # the comparison has something to compare
    for name in ("posthog", "rudderstack", "snowplow"):
        assert json.dumps(variants[name][0], sort_keys=True, default=str) == \
            json.dumps(metrics, sort_keys=True, default=str), name
        assert json.dumps(variants[name][1], default=str) == json.dumps(incidents, default=str), name


def test_same_events_same_metrics_and_incidents(tmp_path, chdb_dsn):
    from seamline.sample import generate

    sample = tmp_path / "sample.jsonl"
    generate(sample, customers=60, days=14, seed=7, bad_rows=False)
    _equivalence(tmp_path, chdb_dsn, sample)


@pytest.mark.slow
def test_same_events_same_metrics_at_the_sample_size(tmp_path, chdb_dsn):
    """sample_data/'s customers and days (its bad rows left out: a shape's typed columns cannot hold them)."""
    from seamline.sample import generate

    sample = tmp_path / "sample.jsonl"
    generate(sample, customers=3000, days=60, seed=7, bad_rows=False)
    _equivalence(tmp_path, chdb_dsn, sample)
