"""The committed sample through load -> jobs -> CLI: the planted phenomena are
what Seamline reports (issue 2, 3 and 4 acceptance)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path



ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "events.jsonl.gz"
PLANTED = json.loads((ROOT / "sample_data" / "events.planted.json").read_text("utf-8"))



def test_sample_load_jobs_metrics_regressions(cli):
    code, out, _ = cli("load", str(SAMPLE), "--json")
    assert code == 0
    counts = json.loads(out)
    assert counts["read"] == PLANTED["events"]
    assert counts["quarantined"] == PLANTED["bad_rows"]
    assert counts["duplicates"] == PLANTED["duplicate_rows"]
    assert counts["loaded"] == PLANTED["valid_unique_events"]
    assert json.loads(cli("load", str(SAMPLE), "--json")[1])["loaded"] == 0

    reg = PLANTED["latency_regression"]
    note = next(a for a in PLANTED["annotations"] if a["source"] == reg["source"])
    assert cli("annotate", "--at", note["at"], "--source", note["source"], "--text", note["text"])[0] == 0
    assert cli("jobs", "run")[0] == 0

    code, out, _ = cli("regressions", "--json")
    found = json.loads(out)
    assert [r["source"] for r in found] == [reg["source"]], found  # the planted one and nothing else
    r = found[0]
    onset = datetime.fromisoformat(r["onset"].replace("Z", "+00:00"))
    planted_onset = datetime.fromisoformat(reg["onset"].replace("Z", "+00:00"))
    assert abs(onset - planted_onset) <= timedelta(hours=2)
    assert r["ratio"] >= 1.5 and r["p_value"] < 0.01 and r["recovered"] is reg["recovered"]
    assert note["text"] in (r["annotation"] or "")
    assert set(r) >= {"source", "onset", "baseline_p95_s", "after_p95_s", "ratio", "p_value", "recovered"}

    code, out, _ = cli("metrics", "--from", PLANTED["start"][:10], "--to", "2026-11-01", "--json")
    m = json.loads(out)
    conflicts = PLANTED["conflicting_messages"]
    assert m["incidents"]["by_rule"]["contradictory_status"] == conflicts["contradictory_status"]
    assert m["incidents"]["by_rule"]["promo_after_purchase"] == conflicts["promo_after_purchase"]
    assert m["freshness"]["events"] == PLANTED["valid_unique_events"]
    seg = m["retention"]["segments"]
    # higher churn for customers with friction, and significant
    assert seg["frictioned"]["survival_30"] < seg["seamless"]["survival_30"]
    assert m["retention"]["logrank_p"] < 0.01
    for fam in ("freshness", "continuity", "silence", "effort"):
        assert all(v is not None for k, v in m[fam].items() if not k.endswith("_ci")), fam

    code, out, _ = cli("incidents", "--json", "--from", conflicts["from"][:10], "--to", conflicts["to"][:10])
    items = json.loads(out)
    assert items and set(items[0]) >= {"rule", "customer", "at", "channels", "event_ids"}
    day = [i for i in items if i["rule"] in ("contradictory_status", "promo_after_purchase")]
    assert len(day) == conflicts["contradictory_status"] + conflicts["promo_after_purchase"]


def test_demo_without_serving_is_repeatable(cli, md, settings):
    from seamline.demo import demo_sample, planted_path

    code, out, _ = cli("demo", "--no-serve", "--customers", "150", "--days", "30")
    assert code == 0, out
    sample = demo_sample(settings.data_path, 150, 30)
    planted = json.loads(planted_path(sample).read_text("utf-8"))
    # it ends at today's midnight: every event is in the past, so every valid row loads
    assert planted["end"][:10] == datetime.now(timezone.utc).date().isoformat()
    assert f"loaded {planted['valid_unique_events']:,}" in out and "[4/4] done" in out
    assert "planted in the sample: a crm latency regression from " in out and "/incidents" in out
    notes = md.annotations()
    assert notes and {n["text"] for n in notes} == {a["text"] for a in planted["annotations"]}
    code, out, _ = cli("demo", "--no-serve", "--customers", "150", "--days", "30")  # reuses everything
    assert code == 0 and "using sample data" in out and "loaded 0," in out
    assert len(md.annotations()) == len(notes)
    assert "failed" not in out