"""The command line (SPEC §5), called in-process: ``seamline.cli.main(argv)``
against the test's chDB database (the chDB path is held by this process, so
no subprocess may open the warehouse; only ``--help`` runs as a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventkit import expand_all, write_jsonl
from seamline.cli import main

BASE = {"occurred_at": "2026-03-01T10:00:00.000Z", "source": "web", "channel": "web",
        "direction": "inbound", "type": "page_view", "customer_id": "c1"}



def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("seamline: ")
    return lines[0]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps({"event_id": f"{path.stem}-{i}", **BASE, **r}) + "\n"
                            for i, r in enumerate(rows)), encoding="utf-8")
    return path


# init -----------------------------------------------------------------------------------
def test_init_twice_is_idempotent(cli, settings):
    code, out, err = cli("init")
    assert code == 0, err
    assert "applied" in out and "0001_core" in out
    code, out, err = cli("init")
    assert code == 0, err
    assert "up to date" in out and "applied" not in out
    assert Path(settings.metadata_url.removeprefix("sqlite:///")).exists()


# load --------------------------------------------------------------------------------------
LOAD_KEYS = {"read", "loaded", "duplicates", "quarantined", "files", "errors"}
FILE_KEYS = {"file", "read", "loaded", "duplicates", "quarantined", "seconds", "error"}


def test_load_json_keys_and_counts(cli, tmp_path):
    a = _write(tmp_path / "a.jsonl", [{}, {}, {"direction": "sideways"}])
    b = tmp_path / "b.jsonl"
    b.write_text(a.read_text().splitlines()[0] + "\n" + json.dumps({"event_id": "b-0", **BASE}) + "\n")
    code, out, err = cli("load", a, b, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == LOAD_KEYS
    assert (doc["read"], doc["loaded"], doc["duplicates"], doc["quarantined"]) == (5, 3, 1, 1)
    assert doc["errors"] == []
    assert [set(f) for f in doc["files"]] == [FILE_KEYS, FILE_KEYS]
    assert [(f["file"], f["read"], f["loaded"], f["duplicates"], f["quarantined"], f["error"])
            for f in doc["files"]] == [(str(a), 3, 2, 0, 1, None), (str(b), 2, 1, 1, 0, None)]
    assert all(isinstance(f["seconds"], (int, float)) for f in doc["files"])

    # text output: one line per file, a total, and a hint about the quarantine
    code, out, err = cli("load", a, b)
    assert code == 0
    assert "read 3, loaded 0, duplicates 2, quarantined 1" in out
    assert "total: read 5, loaded 0, duplicates 4, quarantined 1" in out
    assert "seamline quarantine" in out


def test_strict_exits_3_only_when_something_was_quarantined(cli, tmp_path):
    good = _write(tmp_path / "good.jsonl", [{}, {}])
    bad = _write(tmp_path / "bad.jsonl", [{}, {"occurred_at": "yesterday"}])
    code, out, err = cli("load", good, "--strict")
    assert code == 0, err
    code, out, err = cli("load", bad, "--strict")
    assert code == 3
    assert "quarantined" in err and "Traceback" not in err
    # re-loading: the bad row is quarantined again, so --strict still fails; --json too
    code, out, err = cli("load", bad, "--strict", "--json")
    assert code == 3
    assert json.loads(out)["quarantined"] == 1
    # duplicates alone are not a --strict failure
    code, out, err = cli("load", good, "--strict")
    assert code == 0, err


def test_quarantine_json_empty_is_an_empty_list(cli):
    code, out, err = cli("quarantine", "--json")
    assert code == 0, err
    assert json.loads(out) == []
    code, out, _ = cli("quarantine")
    assert code == 0 and "empty" in out


# jobs, metrics, incidents --------------------------------------------------------------------
EVENTS = [
    # K1: web -> app -> chat -> chat -> store: 3 transitions (chat -> chat is not one), all frictionless
    {"cust": "K1", "t": "2026-03-02T09:00:00.000Z", "c": "web", "type": "page_view"},
    {"cust": "K1", "t": "2026-03-02T09:10:00.000Z", "c": "app", "src": "app", "type": "login"},
    {"cust": "K1", "t": "2026-03-02T10:00:00.000Z", "c": "chat", "src": "support", "type": "contact",
     "topic": "billing"},
    {"cust": "K1", "t": "2026-03-02T10:30:00.000Z", "c": "chat", "src": "survey", "type": "survey",
     "attrs": {"ces": "6"}},
    {"cust": "K1", "t": "2026-03-02T11:00:00.000Z", "c": "store", "src": "commerce", "type": "purchase",
     "attrs": {"product": "P1", "order_id": "O1", "amount": "10"}},
    # a promo for the product just bought: promo_after_purchase
    {"cust": "K1", "t": "2026-03-03T09:00:00.000Z", "c": "email", "src": "marketing", "type": "message",
     "attrs": {"kind": "promo", "product": "P1"}},
    # an anonymous visitor
    {"anon": "v9", "t": "2026-03-02T12:00:00.000Z", "c": "web", "type": "page_view"},
]

METRIC_KEYS = {
    "freshness": ["p50_s", "p95_s", "p99_s", "events", "skewed", "slo_met_rate"],
    "continuity": ["transitions", "frictionless", "rate"],
    "silence": ["active_customers", "contacts", "repeat_contacts", "repeat_contact_rate", "no_contact_rate",
                "silence_rate", "contacts_per_100_customers"],
    "effort": ["responses", "ces_mean", "ces_easy_rate"],
    "retention": ["landmark_days", "logrank_p"],
    "incidents": ["total"],
}
SEGMENT_KEYS = ["customers", "churned", "survival_30", "survival_60", "survival_90"]


def _is_number_or_null(v) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


@pytest.fixture
def loaded_and_computed(cli, tmp_path):
    path = write_jsonl(tmp_path / "events.jsonl", expand_all(EVENTS))
    code, out, err = cli("load", path)
    assert code == 0, err
    code, out, err = cli("jobs", "run")
    assert code == 0, out + err
    return path


def test_metrics_json_has_every_spec_key(cli, loaded_and_computed):
    code, out, err = cli("metrics", "--from", "2026-03-01", "--to", "2026-03-08", "--json")
    assert code == 0, err
    m = json.loads(out)
    for family, keys in METRIC_KEYS.items():
        for key in keys:
            assert key in m[family], f"{family}.{key}"
            assert _is_number_or_null(m[family][key]), (f"{family}.{key}", m[family][key])
    for seg in ("seamless", "frictioned"):
        for key in SEGMENT_KEYS:
            assert key in m["retention"]["segments"][seg], f"retention.segments.{seg}.{key}"
            assert _is_number_or_null(m["retention"]["segments"][seg][key])
    by_rule = m["incidents"]["by_rule"]
    assert isinstance(by_rule, dict) and all(_is_number_or_null(v) for v in by_rule.values())

    # hand-worked values for the 7 events above
    assert m["freshness"]["events"] == 7
    assert m["freshness"]["p50_s"] == 0 and m["freshness"]["skewed"] == 0
    assert (m["continuity"]["transitions"], m["continuity"]["frictionless"], m["continuity"]["rate"]) == (3, 3, 1.0)
    assert (m["silence"]["active_customers"], m["silence"]["contacts"], m["silence"]["repeat_contacts"]) == (2, 1, 0)
    assert m["silence"]["no_contact_rate"] == pytest.approx(0.5)
    assert m["silence"]["contacts_per_100_customers"] == pytest.approx(50.0)
    assert (m["effort"]["responses"], m["effort"]["ces_mean"], m["effort"]["ces_easy_rate"]) == (1, 6.0, 1.0)
    assert m["incidents"]["total"] == 1 and by_rule["promo_after_purchase"] == 1

    # an empty period: counts are 0, rates are null
    code, out, err = cli("metrics", "--from", "2025-01-01", "--to", "2025-01-02", "--json")
    assert code == 0, err
    empty = json.loads(out)
    assert empty["freshness"]["events"] == 0 and empty["effort"]["ces_mean"] is None
    assert empty["continuity"]["rate"] is None and empty["incidents"]["total"] == 0

    # the text form runs too
    code, out, err = cli("metrics", "--from", "2026-03-01", "--to", "2026-03-08")
    assert code == 0 and "Retention after the 30-day landmark" in out and "Freshness p95" in out


def test_incidents_json_items(cli, loaded_and_computed):
    code, out, err = cli("incidents", "--json")
    assert code == 0, err
    items = json.loads(out)
    assert len(items) == 1
    item = items[0]
    assert {"rule", "customer", "at", "channels", "event_ids"} <= set(item)
    assert item["rule"] == "promo_after_purchase" and item["customer"] == "K1"
    assert item["at"].startswith("2026-03-03T09:00:00")
    assert set(item["event_ids"]) == {"e00005", "e00006"}
    assert "email" in item["channels"]
    # a period filter that excludes it
    code, out, err = cli("incidents", "--from", "2026-03-04", "--to", "2026-03-05", "--json")
    assert code == 0 and json.loads(out) == []
    # re-running the jobs does not duplicate incidents
    assert cli("jobs", "run")[0] == 0
    assert len(json.loads(cli("incidents", "--json")[1])) == 1


def test_incidents_text_summarises_before_listing(cli, loaded_and_computed):
    code, out, err = cli("incidents")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "1 incident from 2026-03-03T09:00 to 2026-03-03T09:00 (UTC), 1 customer"
    assert lines[1].split() == ["promo_after_purchase", "1"] and lines[2] == "busiest days: 2026-03-03 (1)"
    assert "K1" in out and "more (--limit" not in out
    code, out, err = cli("incidents", "--limit", "0")
    assert code == 0 and "K1" not in out and out.splitlines()[-1].startswith("… 1 more (--limit N")


def test_incident_summary_counts_rules_and_busiest_days():
    from datetime import datetime, timezone

    from seamline.cli import incident_summary

    def at(day, hour):
        return datetime(2026, 9, day, hour, tzinfo=timezone.utc)

    rows = [{"rule": r, "customer": c, "at": t} for r, c, t in [
        ("a", "C1", at(24, 23)), ("b", "C1", at(25, 1)), ("a", "C2", at(25, 2)), ("a", "C3", at(25, 9)),
        ("b", "C3", at(27, 0))]]
    assert incident_summary(rows) == [
        "5 incidents from 2026-09-24T23:00 to 2026-09-27T00:00 (UTC), 3 customers",
        "  a                                      3", "  b                                      2",
        "busiest days: 2026-09-25 (3), 2026-09-24 (1), 2026-09-27 (1)"]


@pytest.mark.parametrize("frm,to", [("2026-03-08", "2026-03-01"), ("2026-03-01", "2026-03-01")])
def test_metrics_to_not_after_from_is_a_one_line_error(cli, frm, to):
    code, out, err = cli("metrics", "--from", frm, "--to", to, "--json")
    assert code == 1
    assert "--to" in _one_line_error(err)
    assert out == ""


def test_bad_date_is_an_argparse_usage_error(cli, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["metrics", "--from", "2026-02-30", "--to", "2026-03-01"])
    assert exc.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_unknown_job_is_a_one_line_error(cli):
    code, out, err = cli("jobs", "run", "no_such_job")
    assert code == 1
    assert "no_such_job" in _one_line_error(err)


# --help / import cost ------------------------------------------------------------------------
def _env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    # never the test's warehouse: a private data dir, although --help opens nothing
    env.update(SEAMLINE_DATA_DIR=str(tmp_path / "help-data"), SEAMLINE_WAREHOUSE="", SEAMLINE_METADATA_URL="")
    return env


def test_help_runs_as_a_command(tmp_path):
    exe = Path(sys.executable).parent / "seamline"
    cmd = [str(exe), "--help"] if exe.exists() else [sys.executable, "-m", "seamline.cli", "--help"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert res.returncode == 0, res.stderr
    for command in ("init", "load", "quarantine", "jobs", "metrics", "incidents", "regressions", "serve", "demo"):
        assert command in res.stdout
    assert not (tmp_path / "help-data").exists()


def test_cli_import_and_help_do_not_import_heavy_modules(tmp_path):
    code = (
        "import sys\n"
        "import seamline.cli\n"
        "try:\n"
        "    seamline.cli.main(['load', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('pandas', 'numpy', 'clickhouse_connect', 'chdb', 'scipy', 'pyarrow', 'dash')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(tmp_path),
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip().splitlines()[-1] == "[]"


def test_json_output_never_contains_nan(capsys):
    import json as _json

    import numpy as np

    from seamline.cli import emit_json

    emit_json({"a": float("nan"), "b": [1.5, float("inf")], "c": np.float64("nan"), "d": np.int64(3)})
    assert _json.loads(capsys.readouterr().out) == {"a": None, "b": [1.5, None], "c": None, "d": 3}


def test_regressions_read_for_people_and_json_keeps_the_numbers(cli):
    root = Path(__file__).resolve().parents[1]
    assert cli("load", root / "sample_data" / "events.jsonl.gz")[0] == 0
    assert cli("jobs", "run", "freshness")[0] == 0
    code, out, err = cli("regressions")
    assert code == 0, err
    head, row = out.splitlines()[:2]
    assert head.split()[:6] == ["source", "onset", "baseline", "p95", "after", "p95"]
    # the sample's planted crm regression: durations, a factor, p as the dashboard says them
    assert row.startswith("crm ") and " ×4.1 " in row and " < 0.001 " in row and " min " in row, row
    code, out, err = cli("regressions", "--json")
    (reg,) = json.loads(out)
    assert reg["source"] == "crm" and isinstance(reg["ratio"], float) and isinstance(reg["baseline_p95_s"], float)
