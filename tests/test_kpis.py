"""The KPI registry (seamline.kpis): every consumer reads a KPI through it,
so its declarations must match what ``metrics --json`` holds."""

from __future__ import annotations

from datetime import date

import pytest

from eventkit import expand_all, load_events
from seamline import kpis
from seamline.config import ConfigError, Settings
from seamline.metrics import period_metrics
from seamline.runner import run_jobs
from seamline.sqlfile import SqlFileError, statement


def test_keys_and_names_are_unique_and_families_are_the_json_families(wh, settings):
    keys = [k.key for k in kpis.all_kpis()]
    names = [k.name for k in kpis.all_kpis()]
    assert len(set(keys)) == len(keys) and len(set(names)) == len(names)
    assert not set(keys) & set(names)
    m = period_metrics(wh, settings, date(2026, 1, 1), date(2026, 2, 1))
    assert [f.name for f in kpis.families()] == [k for k in m if k != "period"]


def test_every_kpi_reads_a_number_from_metrics_json(tmp_path, wh, md, settings):
    rows = [{"cust": "A", "t": "2026-01-02T10:00:00.000Z", "c": "web"},
            {"cust": "A", "t": "2026-01-02T10:05:00.000Z", "c": "chat", "type": "contact", "topic": "x"},
            {"cust": "A", "t": "2026-01-02T10:06:00.000Z", "c": "chat", "type": "survey", "attrs": {"ces": "6"}},
            {"cust": "B", "t": "2026-01-03T10:00:00.000Z", "c": "app"},
            {"cust": "B", "t": "2026-05-03T10:00:00.000Z", "c": "app"}]
    load_events(wh, settings, expand_all(rows), tmp_path / "e.jsonl")
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    m = period_metrics(wh, settings, date(2026, 1, 1), date(2026, 2, 1))
    for k in kpis.all_kpis():
        if k.value is None:  # a plain key: it is there, a number or null
            node = m
            for part in k.key.split("."):
                assert part in node, f"{k.key} is not a key of metrics --json"
                node = node[part]
            assert node is None or isinstance(node, (int, float)), k.key
        v = k.of(m)
        assert v is None or isinstance(v, float), k.key
        if k.counts is not None:
            part = m[k.family]
            assert k.key.split(".", 1)[1] + "_ci" in part, f"{k.key}: no interval"
            assert k.volume_of(m) == part[k.counts[1]]
    assert kpis.kpi("continuity.rate").of(m) == 1.0  # web -> chat, no friction
    assert kpis.kpi("effort.ces_mean").of(m) == 6.0
    assert kpis.kpi("retention.survival_90").volume_of(m) == sum(
        s["customers"] for s in m["retention"]["segments"].values())


def test_the_overview_shows_the_tiles_in_registry_order():
    from seamline import views

    assert [k.name for k in views.KPIS] == [
        "freshness_p95_s", "slo_met_rate", "continuity_rate", "repeat_contact_rate", "silence_rate", "ces_mean",
        "retention_90", "incidents"]


def test_targets_by_key_or_name_on_the_kpi_scale(tmp_path):
    s = Settings(data_dir=tmp_path, targets={"continuity.rate": 0.7, "ces_mean": 6})
    assert kpis.kpi("continuity_rate").target(s) == 0.7
    assert kpis.kpi("effort.ces_mean").target(s) == 6.0
    assert kpis.kpi("freshness.p95_s").target(s) == s.freshness_target_s  # its default comes from the settings
    with pytest.raises(ConfigError, match="continuity_rate"):
        Settings(data_dir=tmp_path, targets={"continuity_rte": 0.7})
    with pytest.raises(ConfigError, match="a rate"):
        Settings(data_dir=tmp_path, targets={"silence.no_contact_rate": 80})


def test_a_missing_statement_names_the_file_and_what_it_has():
    assert "FROM transitions" in statement("seamline.kpis", "continuity", "period")
    with pytest.raises(SqlFileError, match=r"continuity\.sql has no statement named 'nope' \(it has: period, daily"):
        statement("seamline.kpis", "continuity", "nope")


def test_every_kpi_says_what_it_measures(tmp_path):
    s = Settings(data_dir=tmp_path, windows={"friction_minutes": 45})
    for k in kpis.all_kpis():
        text = k.describe(s)
        assert len(text) > 20 and "{" not in text, k.key
    assert "45 min" in kpis.kpi("continuity.rate").describe(s)
