"""Identity guards and explain (SPEC §2) on real chDB: blocked values do not
merge customers, an over-merged component is reported, and
``seamline identity explain`` reads the chain of events that joined a
customer's identifiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from settingskit import make_settings, teardown_settings
from seamline.load import load_file
from seamline.runner import run_jobs

BASE = {"occurred_at": "2026-03-01T10:00:00.000Z", "source": "web", "channel": "web",
        "direction": "inbound", "type": "identify"}


def ev(event_id: str, /, **ids) -> dict:
    return {"event_id": event_id, **BASE, **ids}


def write(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


@pytest.fixture
def guarded(tmp_path, chdb_dsn):
    from seamline.cli import Context

    s = make_settings(tmp_path, chdb_dsn, identity_blocked_values=["Info@Shop.example"],
                      identity_blocked_patterns=["^test-device-[0-9]+$"], identity_max_identifiers=3)
    yield Context(s)
    teardown_settings(s)


PLACEHOLDERS = [
    # every one of these would join the three real customers into one
    ev("e1", customer_id="alice", anonymous_id="0"),
    ev("e2", customer_id="bob", anonymous_id="0"),
    ev("e3", customer_id="carol", anonymous_id=" NULL "),
    ev("e4", customer_id="alice", email="none"),
    ev("e5", customer_id="bob", email="info@shop.example"),
    ev("e6", customer_id="carol", email=" INFO@shop.example"),
    ev("e7", customer_id="alice", anonymous_id="test-device-1"),
    ev("e8", customer_id="carol", anonymous_id="test-device-1"),
    ev("e9", customer_id="Unknown", anonymous_id="dev-bob"),  # a blocked id: the event keeps its device
    ev("e10", anonymous_id="dev-bob", customer_id="bob", phone="-1"),
    ev("e11", customer_id="guest", anonymous_id="undefined"),  # nothing identifies anyone
]


def test_blocked_values_do_not_merge_customers_and_events_keep_their_other_identifiers(guarded, tmp_path):
    wh, md, s = guarded.wh, guarded.md, guarded.settings
    from seamline.governance.guards import sync_blocklist

    sync_blocklist(wh, s)  # what the identity job and the governance commands do with the configuration
    report = load_file(wh, write(tmp_path / "p.jsonl", PLACEHOLDERS), s.hash_salt, progress=False)
    assert (report.loaded, report.quarantined) == (10, 1)
    assert wh.scalar("SELECT reason FROM quarantine") .startswith("no identifier")
    assert all(r.status == "success" for r in run_jobs(wh, md, s, ["identity"], full=True))
    customers = dict(wh.rows("SELECT event_id, customer FROM customer_events"))
    assert customers == {"e1": "alice", "e4": "alice", "e7": "alice", "e2": "bob", "e5": "bob", "e9": "bob",
                         "e10": "bob", "e3": "carol", "e6": "carol", "e8": "carol"}
    assert sorted(wh.scalar("SELECT groupArray(ident) FROM identity_map")) == ["a:dev-bob", "c:alice", "c:bob", "c:carol"]
    # the blocked values are not stored as identifiers
    assert wh.scalar("SELECT countIf(customer_id IN ('Unknown', 'guest') OR anonymous_id != '' AND anonymous_id != 'dev-bob' "
                     "OR email_hash != '' OR phone_hash != '') FROM events") == 0


def test_edges_loaded_before_a_value_was_blocked_no_longer_merge(guarded, tmp_path):
    wh, md, s = guarded.wh, guarded.md, guarded.settings
    wh.command("TRUNCATE TABLE identity_blocklist")  # loaded before the configuration had it
    load_file(wh, write(tmp_path / "p.jsonl", [ev("e1", customer_id="alice", anonymous_id="test-device-7"),
                                               ev("e2", customer_id="bob", anonymous_id="test-device-7")]),
              s.hash_salt, progress=False)
    assert all(r.status == "success" for r in run_jobs(wh, md, s, ["identity"], full=True))  # syncs, then resolves
    assert dict(wh.rows("SELECT event_id, customer FROM customer_events")) == {"e1": "alice", "e2": "bob"}


def test_a_component_over_the_limit_is_a_suspected_over_merge(guarded, tmp_path, monkeypatch, capsys):
    wh, md, s = guarded.wh, guarded.md, guarded.settings
    events = [ev(f"d{i}", customer_id="shared", anonymous_id=f"dev{i}") for i in range(4)]
    events += [ev("x1", customer_id="solo", anonymous_id="solo-dev"), ev("x2", anonymous_id="solo-dev")]
    load_file(wh, write(tmp_path / "m.jsonl", events), s.hash_salt, progress=False)
    run_jobs(wh, md, s, ["identity"], full=True)
    from seamline.governance.guards import suspected_overmerges

    assert suspected_overmerges(wh, s) == [{"customer": "shared", "identifiers": 5, "customer_ids": 1,
                                            "anonymous_ids": 4, "emails": 0, "phones": 0, "events": 4}]
    from seamline.cli import main

    for key, value in {"WAREHOUSE": s.warehouse, "WAREHOUSE_DATABASE": s.warehouse_database,
                       "METADATA_URL": s.metadata_url, "DATA_DIR": str(s.data_dir), "HASH_SALT": s.hash_salt,
                       "IDENTITY_MAX_IDENTIFIERS": "3", "CONFIG": str(tmp_path / "none.toml")}.items():
        monkeypatch.setenv(f"SEAMLINE_{key}", value)
    capsys.readouterr()
    assert main(["identity", "overmerged"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("1 customer(s) with more than 3 identifiers")
    assert "shared" in out.splitlines()[2]
    monkeypatch.setenv("SEAMLINE_IDENTITY_MAX_IDENTIFIERS", "5")
    assert main(["identity", "overmerged", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_identity_explain_reads_the_chain_of_events(settings, wh, md, cli, tmp_path):
    events = [
        {**ev("s1", anonymous_id="dev-1"), "type": "session_start", "occurred_at": "2026-03-01T09:00:00Z"},
        {**ev("s2", anonymous_id="dev-1", customer_id="C42"), "type": "login", "occurred_at": "2026-03-01T09:05:00Z"},
        {**ev("s3", customer_id="C42", email="Ann@Example.com"), "type": "signup", "channel": "app", "source": "app",
         "occurred_at": "2026-03-02T10:00:00Z"},
        {**ev("s4", email="ann@example.com", phone="+1 555 0100"), "type": "contact", "channel": "phone",
         "source": "support", "occurred_at": "2026-03-03T11:00:00Z"},
        ev("s5", customer_id="C7", anonymous_id="dev-9"),
    ]
    load_file(wh, write(tmp_path / "x.jsonl", events), settings.hash_salt, progress=False)
    run_jobs(wh, md, settings, ["identity"], full=True)
    code, out, err = cli("identity", "explain", "dev-1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "customer C42: 4 identifier(s) joined by 3 event(s)"
    assert lines[1] == "  anonymous_id dev-1  (the identifier asked about)"
    assert lines[2] == ("  + customer_id C42  joined to anonymous_id dev-1 by login on web (web) at "
                        "2026-03-01T09:05:00.000Z, event s2")
    assert lines[3].startswith("  + email #") and "joined to customer_id C42 by signup on app (app)" in lines[3]
    assert lines[4].startswith("  + phone #") and "by contact on phone (support)" in lines[4] and "event s4" in lines[4]
    assert "ann@example.com" not in out.lower() and "0100" not in out
    code, out, err = cli("identity", "explain", "ANN@example.com ", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["customer"] == "C42" and got["start"].startswith("email #") and got["identifiers"] == 4
    assert [c["event_id"] for c in got["chain"]] == [None, "s3", "s4", "s2"]  # a link once its known end is reached
    code, out, err = cli("identity", "explain", "nobody")
    assert code == 1 and "no customer has this identifier" in err


def test_identity_explain_on_the_sample_reads_as_a_chain(settings, wh, md, cli):
    import re

    root = Path(__file__).resolve().parents[1]
    load_file(wh, root / "sample_data" / "events.jsonl.gz", settings.hash_salt, progress=False)
    run_jobs(wh, md, settings, ["identity"], full=True)
    (who, n), = wh.rows("SELECT customer, count() AS n FROM identity_map GROUP BY customer "
                        "ORDER BY n DESC, customer LIMIT 1")
    code, out, err = cli("identity", "explain", who)
    assert code == 0, err
    head, asked, *links = out.splitlines()
    assert re.fullmatch(rf"customer {who}: {n} identifier\(s\) joined by \d+ event\(s\)", head), head
    assert asked == f"  customer_id {who}  (the identifier asked about)"
    assert len(links) == n - 1
    for line in links:  # each identifier with the event that first joined it, emails and phones by hash only
        assert re.fullmatch(r"  \+ (customer_id|anonymous_id \S+|email #[0-9a-f]{12}|phone #[0-9a-f]{12}) .*joined to "
                            r".+ by \S+ on \S+ \(\S+\) at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z, event \S+", line), line
    assert "@" not in out
