"""One ledger of what each job has processed (job_ledger, migration 0014):
load batches and identity change batches, with no clock, look-back or
expiry in what a run takes."""

from __future__ import annotations

import pytest

from seamline import faults
from seamline.load import load_file
from seamline.runner import SimulatedCrash, registry, run_job, run_jobs
from seamline.sample import generate
from test_jobs import _split_file, snapshot


@pytest.fixture
def parts(tmp_path):
    sample = generate(tmp_path / "events.jsonl.gz", customers=80, days=20, seed=11).path
    return _split_file(sample, tmp_path, parts=2, seed=6)  # the second part merges customers of the first


def _ok(results) -> None:
    assert all(r.status == "success" for r in results), [r for r in results if r.status != "success"]


def _equals_full(wh, md, settings) -> None:
    assert wh.scalar("SELECT count() FROM timeline") == wh.scalar("SELECT count() FROM events")
    incremental = snapshot(wh)
    _ok(run_jobs(wh, md, settings, full=True))
    assert snapshot(wh) == incremental


def test_a_batch_committed_with_an_old_time_is_still_taken(parts, wh, md, settings):
    """What a run takes does not depend on when a batch says it committed (a
    look-back window did: a batch committed 'a day ago' was never seen)."""
    load_file(wh, parts[0], settings.hash_salt, progress=False)
    _ok(run_jobs(wh, md, settings))
    load_file(wh, parts[1], settings.hash_salt, progress=False)
    wh.command("ALTER TABLE event_batches UPDATE committed_at = committed_at - INTERVAL 400 DAY, "
               "loaded_at = loaded_at - INTERVAL 400 DAY WHERE batch NOT IN (SELECT batch FROM job_ledger) "
               "SETTINGS mutations_sync = 2")
    _ok(run_jobs(wh, md, settings))
    _equals_full(wh, md, settings)


def test_identity_changes_reach_a_customer_job_only_after_the_timeline_rekeyed(parts, wh, md, settings):
    load_file(wh, parts[0], settings.hash_salt, progress=False)
    _ok(run_jobs(wh, md, settings))
    load_file(wh, parts[1], settings.hash_salt, progress=False)
    _ok(run_jobs(wh, md, settings, ["identity"]))
    changes = wh.rows("SELECT DISTINCT batch FROM identity_changes")
    assert len(changes) == 1 and changes[0][0].startswith("identity-")  # the merges are one change batch
    jobs = registry()
    early = run_job(wh, md, settings, jobs["continuity"])  # the timeline has not re-keyed them yet
    assert early.status == "success" and early.scope == 0
    for name in ("timeline", "continuity"):
        late = run_job(wh, md, settings, jobs[name])
        assert late.status == "success" and late.scope > 0, late
    ledger = {r[0] for r in wh.rows("SELECT job FROM job_ledger WHERE batch = {b:String}", {"b": changes[0][0]})}
    assert ledger == {"identity", "timeline", "continuity"}
    _ok(run_jobs(wh, md, settings))
    _equals_full(wh, md, settings)


def test_the_changes_of_an_identity_run_killed_after_logging_them_are_claimed_by_the_next(parts, wh, md, settings,
                                                                                          monkeypatch):
    load_file(wh, parts[0], settings.hash_salt, progress=False)
    _ok(run_jobs(wh, md, settings))
    load_file(wh, parts[1], settings.hash_salt, progress=False)
    point = faults.point

    def crash(name: str) -> None:
        if name == "identity.deleted":  # logged, and the map half-switched
            raise SimulatedCrash(name)
        point(name)

    with monkeypatch.context() as m:
        m.setattr(faults, "point", crash)
        with pytest.raises(SimulatedCrash):
            run_jobs(wh, md, settings, ["identity"])
    orphan = wh.scalar("SELECT any(batch) FROM identity_changes")
    assert orphan and not wh.scalar("SELECT count() FROM job_ledger WHERE batch = {b:String}", {"b": orphan})
    _ok(run_jobs(wh, md, settings))
    assert wh.scalar("SELECT uniqExact(job) FROM job_ledger WHERE batch = {b:String}", {"b": orphan}) == \
        sum(1 for j in registry().values() if j.keys == "customer") + 1  # identity and every customer job
    _equals_full(wh, md, settings)


def test_migration_0014_starts_the_ledger_from_job_batches(parts, wh, md, settings):
    from seamline.warehouse.schema import migrate

    load_file(wh, parts[0], settings.hash_salt, progress=False)
    _ok(run_jobs(wh, md, settings))
    load_file(wh, parts[1], settings.hash_salt, progress=False)
    _ok(run_jobs(wh, md, settings, ["identity"]))  # changes a job has not processed
    ledger = sorted(wh.rows("SELECT job, batch FROM job_ledger FINAL WHERE NOT startsWith(batch, 'identity-')"))
    # a warehouse from before the migration
    wh.command("DELETE FROM schema_migrations WHERE version = 14")
    wh.command("CREATE TABLE job_batches (job LowCardinality(String), batch String, processed_at DateTime64(3, 'UTC')) "
               "ENGINE = ReplacingMergeTree(processed_at) ORDER BY (job, batch)")
    wh.command("INSERT INTO job_batches SELECT job, batch, processed_at FROM job_ledger "
               "WHERE NOT startsWith(batch, 'identity-')")
    wh.command("DROP TABLE job_ledger")
    wh.command("ALTER TABLE identity_changes DROP COLUMN batch")
    assert migrate(wh) == ["0014_job_ledger"]
    assert sorted(wh.rows("SELECT job, batch FROM job_ledger FINAL")) == ledger
    assert not wh.table_exists("job_batches")
    assert {r[0] for r in wh.rows("SELECT DISTINCT batch FROM identity_changes")} == {"before-ledger"}
    _ok(run_jobs(wh, md, settings))  # the changes from before the ledger are recomputed once
    assert wh.scalar("SELECT uniqExact(job) FROM job_ledger WHERE batch = 'before-ledger'") == \
        sum(1 for j in registry().values() if j.keys == "customer") + 1
    _equals_full(wh, md, settings)
