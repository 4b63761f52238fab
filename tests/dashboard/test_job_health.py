"""Job health on the dashboard: from the latest run that finished (success,
failed, interrupted); a skipped run is not a failure, a running one shows as
running.  Runs are recorded in a real SQLite metadata file."""

from __future__ import annotations

import json

import pandas as pd

from seamline import views
from seamline.metadata import Metadata


def _record(md: Metadata, job: str, *statuses: str) -> None:
    for status in statuses:
        run = md.start_run(job, full=False)
        if status != "running":
            md.finish_run(run, status, rows=7 if status == "success" else None,
                          error={"failed": "Code: 6. DB::Exception: boom\nstack", "interrupted": "holder died",
                                 "skipped": "another run holds the lock"}.get(status))


def _health(md: Metadata, jobs=()) -> dict[str, dict]:
    frame = views.job_health(md.runs(limit=2000), jobs)
    return {r["job"]: r for r in frame.to_dict("records")}


def test_health_comes_from_the_latest_finished_run(tmp_path):
    md = Metadata(f"sqlite:///{tmp_path / 'metadata.db'}")
    _record(md, "ok_then_skipped", "success", "skipped", "skipped")
    _record(md, "failed_then_skipped", "success", "failed", "skipped")
    _record(md, "interrupted", "success", "interrupted", "skipped")
    _record(md, "recovered", "failed", "interrupted", "success", "skipped")
    _record(md, "ok_and_running", "success", "running")
    _record(md, "first_run", "running")
    _record(md, "only_skipped", "skipped")
    # an older run left "running" (its process was killed) and a later one finished
    _record(md, "stale_running", "running", "success")
    health = _health(md, jobs=["never_ran"])

    assert {job: h["health"] for job, h in health.items()} == {
        "ok_then_skipped": "ok", "failed_then_skipped": "failed", "interrupted": "warning", "recovered": "ok",
        "ok_and_running": "ok", "first_run": "running", "only_skipped": "not run yet", "stale_running": "ok",
        "never_ran": "not run yet"}
    assert health["ok_then_skipped"]["status"] == "success" and health["ok_then_skipped"]["rows"] == 7
    assert health["ok_then_skipped"]["error"] == ""  # the skip's "another run holds the lock" is not an error
    assert health["failed_then_skipped"]["error"] == "Code: 6. DB::Exception: boom"  # the failure, first line
    assert not pd.isna(health["failed_then_skipped"]["last_success"])
    assert health["interrupted"]["error"] == "holder died"
    assert not pd.isna(health["ok_and_running"]["running_since"])
    assert pd.isna(health["stale_running"]["running_since"])
    # as the overview's table shows it: a missing time is blank (a column with NaT)
    rows = {r["job"]: r for r in views.table_records(views.job_health(md.runs(limit=2000)), "Europe/Berlin")}
    assert rows["stale_running"]["running_since"] == "" and rows["ok_and_running"]["running_since"]
    assert list(views.job_health([]).columns) == views.HEALTH_COLUMNS


def test_healthz_reports_job_health(tmp_path, settings):
    from seamline.app import create_app

    md = Metadata(settings.metadata_dsn)
    _record(md, "freshness", "success", "skipped")
    _record(md, "retention", "success", "interrupted")
    _record(md, "effort", "failed", "skipped")
    client = create_app(settings).server.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.data)["jobs"] == {"effort": "failed", "freshness": "ok", "retention": "warning"}
