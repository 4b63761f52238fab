"""``seamline sources list | check NAME | sync [NAME...] [--full] [--json]``
in-process against PostHog-shaped tables, the scheduled sync and the
dashboard's ``status()``."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from test_sources import posthog_event, posthog_rows, upstream  # noqa: F401 (fixtures)


@pytest.fixture
def configured(settings, posthog_rows, monkeypatch):
    toml = settings.data_dir / "seamline.toml"
    toml.write_text(f"""
[[sources]]
name = "posthog"
kind = "posthog"
database = "{posthog_rows}"
types = {{ ticket_opened = "contact" }}
""")
    monkeypatch.setenv("SEAMLINE_CONFIG", str(toml))
    return posthog_rows


def test_list_check_sync(cli, configured):
    code, out, _ = cli("sources", "list", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["name"], row["kind"], row["database"], row["status"], row["last_sync"]) == \
        ("posthog", "posthog", configured, "never", None)

    code, out, _ = cli("sources", "check", "posthog")
    assert code == 0
    assert f"  {configured}.events: 7 rows, newest insert 2026-03-01 09:05:00+00:00" in out
    assert "mapped rows (first 7):" in out
    assert "event names with no mapping in `types` (kept as their own type):\n  feature_flag_called" in out
    assert len(out.splitlines()) <= 24  # one screen
    code, out, _ = cli("sources", "check", "posthog", "--json")
    report = json.loads(out)
    assert report["unmapped_events"] == [{"name": "feature_flag_called", "count": 1}]
    assert len(report["sample"]) == 7 and report["missing"] == [] and report["error"] is None

    code, out, _ = cli("sources", "sync", "--json")
    assert code == 0
    got = json.loads(out)
    assert {k: got[k] for k in ("read", "loaded", "duplicates", "quarantined", "errors")} == \
        {"read": 7, "loaded": 5, "duplicates": 0, "quarantined": 2, "errors": []}
    code, out, _ = cli("sources", "sync", "posthog")
    assert code == 0
    assert out.startswith("posthog: read 7, loaded 0, duplicates 5, quarantined 2, identity links 0 (")

    code, out, _ = cli("sources", "list", "--json")
    (row,) = json.loads(out)
    assert (row["status"], row["loaded"]) == ("ok", 0)
    code, out, _ = cli("quarantine", "--json")
    assert {r["file"] for r in json.loads(out)} == {"source:posthog"}


def test_unknown_source_and_bad_config(cli, configured, settings, monkeypatch):
    code, _, err = cli("sources", "sync", "nope")
    assert code == 1 and err.strip() == "seamline: unknown source 'nope' (configured: posthog)"
    bad = settings.data_dir / "bad.toml"
    bad.write_text('[[sources]]\nname = "x"\nkind = "postgres"\ndatabase = "x"\n')
    monkeypatch.setenv("SEAMLINE_CONFIG", str(bad))
    code, _, err = cli("sources", "list")
    assert code == 1
    assert err.strip() == f"seamline: {bad}: sources[0].kind = 'postgres': unknown kind; did you mean 'posthog'?"


def test_check_explains_a_source_it_cannot_map(cli, settings, monkeypatch):
    toml = settings.data_dir / "seamline.toml"
    toml.write_text('[[sources]]\nname = "ph"\nkind = "posthog"\ndatabase = "nowhere"\n')
    monkeypatch.setenv("SEAMLINE_CONFIG", str(toml))
    code, out, _ = cli("sources", "check", "ph")
    assert code == 1
    assert out.splitlines() == [
        "source ph (kind posthog, database nowhere)",
        "cannot map: sources[0].database = 'nowhere': no table nowhere.events "
        "(the database has no tables or does not exist)"]


def test_scheduled_sync_and_status(wh, md, settings, posthog_rows):
    from seamline.sources import run_scheduled, scheduled_entries, status

    settings.sources = [{"name": "posthog", "kind": "posthog", "database": posthog_rows, "schedule": "*/2 * * * *"}]
    assert scheduled_entries(settings) == [
        ("source:posthog", "source posthog", "*/2 * * * *", "seamline.sources:run_scheduled", ("posthog",))]
    (before,) = status(wh, md, settings)
    assert (before["status"], before["rows_synced"], before["lag_s"], before["last_sync"]) == ("never", 0, None, None)
    run_scheduled(settings, "posthog")
    (after,) = status(wh, md, settings)
    assert set(after) == {"name", "kind", "database", "last_sync", "last_success", "status", "rows_synced",
                          "last_read", "last_loaded", "quarantined", "lag_s", "source_newest", "last_error"}
    assert (after["status"], after["rows_synced"], after["last_read"], after["quarantined"], after["lag_s"],
            after["last_error"]) == ("ok", 5, 7, 2, 0.0, "")
    assert after["source_newest"] == datetime(2026, 3, 1, 9, 5, tzinfo=timezone.utc)
    # an hour of new rows the sync has not read yet
    posthog_event(wh, posthog_rows, 8, "login", {}, "d1", "2026-03-01 10:05:00", "2026-03-01 10:05:00")
    (behind,) = status(wh, md, settings)
    assert behind["lag_s"] == 3600.0
    # a failing sync: recorded with its error, the watermarks kept
    settings.sources = [{"name": "posthog", "kind": "posthog", "database": posthog_rows,
                         "fields": {"topic": "no_such_column"}}]
    run_scheduled(settings, "posthog")
    (failed,) = status(wh, md, settings)
    assert failed["status"] == "failed" and failed["rows_synced"] == 5
    assert failed["last_error"].startswith("sources[0].fields.topic = 'no_such_column': ")
    # a configuration that is not valid is shown, not raised
    settings.sources = [{"name": "posthog", "kind": "postgres", "database": posthog_rows}]
    (invalid,) = status(wh, md, settings)
    assert (invalid["name"], invalid["status"], invalid["last_error"]) == \
        ("posthog", "invalid", "sources[0].kind = 'postgres': unknown kind; did you mean 'posthog'?")


def test_the_scheduler_runs_each_source(settings, posthog_rows):
    from seamline.scheduler import build_scheduler

    settings.sources = [{"name": "posthog", "kind": "posthog", "database": posthog_rows}]
    sched = build_scheduler(settings, start=False)
    try:
        job = sched.get_job("source:posthog")
        assert job is not None and job.args == ("seamline.sources:run_scheduled", "posthog")
        assert str(job.trigger) == "cron[month='*', day='*', day_of_week='*', hour='*', minute='*/5']"
    finally:
        sched.shutdown(wait=False) if sched.running else None


def test_a_sync_of_a_source_already_syncing_is_skipped(cli, configured, md, wh):
    owner = md.acquire_lease("source:posthog")  # a live sync of the source holds it
    try:
        code, out, _ = cli("sources", "sync")
        assert code == 0 and out.strip() == "posthog: skipped: another sync of this source is running"
        code, out, _ = cli("sources", "sync", "--json")
        assert json.loads(out)["sources"][0]["status"] == "skipped"
        assert wh.scalar("SELECT count() FROM events") == 0
    finally:
        md.release_lease("source:posthog", owner)
    code, out, _ = cli("sources", "sync", "--json")
    assert json.loads(out)["sources"][0]["status"] == "ok" and wh.scalar("SELECT count() FROM events") == 5
