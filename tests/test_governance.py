"""seamline forget (SPEC §8) on real chDB and SQLite: after it, no stored
table of the warehouse and no metadata table holds the customer's raw
identifiers or their hashes, and the metrics and incidents equal those of
the same data loaded without the customer."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from settingskit import make_settings, teardown_settings
from seamline.load import load_file
from seamline.metrics import period_metrics
from seamline.incidents import list_incidents
from seamline.runner import run_jobs
from seamline.sample import generate

START, END = datetime(2026, 9, 1, tzinfo=timezone.utc), datetime(2026, 9, 22, tzinfo=timezone.utc)


def sha(kind: str, value: str) -> str:
    return hashlib.sha256(f"test-salt:{kind}:{value}".encode()).hexdigest()


def norm_phone(p: str) -> str:
    return ("+" if p.strip().startswith("+") else "") + re.sub(r"[^0-9]", "", p)


def component_rows(rows: list[dict], start: str) -> tuple[set[str], list[dict]]:
    """The component of the customer id ``start`` in the file's rows (union-find by hand)."""
    def ids(r):
        out = set()
        if r.get("customer_id", "").strip():
            out.add("c:" + r["customer_id"].strip())
        if r.get("anonymous_id", "").strip():
            out.add("a:" + r["anonymous_id"].strip())
        if r.get("email", "").strip():
            out.add("e:" + sha("email", r["email"].strip().lower()))
        if re.sub(r"[^0-9]", "", r.get("phone", "")):
            out.add("p:" + sha("phone", norm_phone(r["phone"])))
        return out

    nodes, changed = {f"c:{start}"}, True
    while changed:
        changed = False
        for r in rows:
            i = ids(r)
            if i & nodes and not i <= nodes:
                nodes |= i
                changed = True
    return nodes, [r for r in rows if ids(r) & nodes]


def stored_tables(wh) -> dict[str, list[str]]:
    """Every stored table of the database and its columns that hold text."""
    out: dict[str, list[str]] = {}
    for table, name, type_ in wh.rows(
            "SELECT c.table, c.name, c.type FROM system.columns AS c INNER JOIN system.tables AS t "
            "ON t.database = c.database AND t.name = c.table WHERE c.database = currentDatabase() "
            "AND t.engine NOT LIKE '%View%' AND c.type LIKE '%String%' AND c.default_kind != 'ALIAS'"):
        out.setdefault(table, []).append(name)
    return out


def warehouse_hits(wh, needles: list[str]) -> dict[str, int]:
    hits = {}
    for table, columns in stored_tables(wh).items():
        for col in columns:
            n = wh.scalar(f"SELECT count() FROM `{table}` WHERE arrayExists(x -> position(toString(`{col}`), x) > 0, "
                          "{n:Array(String)})", {"n": needles})
            if n:
                hits[f"{table}.{col}"] = n
    return hits


def metadata_hits(md, needles: list[str]) -> dict[str, int]:
    from sqlalchemy import MetaData, select

    meta = MetaData()
    meta.reflect(md.engine)
    hits = {}
    with md.engine.connect() as cx:
        for table in meta.sorted_tables:
            for row in cx.execute(select(table)):
                for col, value in row._mapping.items():
                    if isinstance(value, str) and any(n in value for n in needles):
                        hits[f"{table.name}.{col}"] = hits.get(f"{table.name}.{col}", 0) + 1
    return hits


def observed(wh, settings) -> tuple[dict, list]:
    m = period_metrics(wh, settings, START, END)
    inc = [{k: r[k] for k in ("rule", "customer", "at", "channels", "event_ids")} for r in list_incidents(wh)]
    return json.loads(json.dumps(m, default=str)), inc


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "s.jsonl"
    generate(path, customers=80, days=21, seed=11)
    return path


def test_forget_erases_the_component_everywhere_and_metrics_equal_a_load_without_it(
        sample_file, tmp_path, chdb_dsn, wh, md, settings, cli):
    lines = sample_file.read_text().splitlines()
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass
    rows = [r for r in rows if isinstance(r, dict)]
    # the customer with the most identifiers of its own (email, phone, devices)
    counts: dict[str, int] = {}
    for r in rows:
        if r.get("customer_id"):
            counts[r["customer_id"]] = counts.get(r["customer_id"], 0) + bool(r.get("email")) + bool(r.get("phone"))
    who = max(sorted(counts), key=counts.get)
    nodes, mine = component_rows(rows, who)
    emails = {r["email"] for r in mine if r.get("email")}
    phones = {r["phone"] for r in mine if r.get("phone")}
    assert emails and phones and any(n.startswith("a:") for n in nodes)
    needles = sorted({n[2:] for n in nodes} | emails | {e.strip().lower() for e in emails} | phones
                     | {norm_phone(p) for p in phones})
    my_events = {r["event_id"] for r in mine}

    load_file(wh, sample_file, settings.hash_salt, progress=False)
    # a quarantined row of the customer's, with a raw email of theirs
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"event_id": "q1", "occurred_at": "2026-09-03T10:00:00Z", "channel": "email",
                               "direction": "inbound", "type": "contact", "email": sorted(emails)[0]}) + "\n"
                   + "{not json " + who + "\n")
    assert load_file(wh, bad, settings.hash_salt, progress=False).quarantined == 2
    assert all(r.status == "success" for r in run_jobs(wh, md, settings, full=True))
    md.annotate(datetime(2026, 9, 5, tzinfo=timezone.utc), f"{who} called about a wrong bill")
    md.annotate(datetime(2026, 9, 6, tzinfo=timezone.utc), "crm deploy")
    mine_incidents = wh.rows("SELECT rule, message_event_id FROM incidents WHERE has({e:Array(String)}, message_event_id)",
                             {"e": sorted(my_events)})
    for rule, mid in mine_incidents:
        md.save_review(rule, mid, "investigating", notes="a wrong promo")
    before = warehouse_hits(wh, needles)
    assert before.get("events.customer_id") and before.get("quarantine.raw") == 2 and before.get("timeline.customer")

    # --dry-run: what would go, nothing goes
    code, out, err = cli("forget", "--customer-id", who, "--dry-run", "--json")
    assert code == 0, err
    dry = json.loads(out)
    assert dry["dry_run"] and dry["events"] == len(my_events) and dry["removed"]["events"] == len(my_events)
    assert dry["removed"]["quarantine"] == 2 and dry["metadata_removed"]["annotations"] == 1
    assert warehouse_hits(wh, needles) == before

    code, out, err = cli("forget", "--email", sorted(emails)[0].upper(), "--json")
    assert code == 0, err
    done = json.loads(out)
    assert done["removed"] == dry["removed"] and done["metadata_removed"] == dry["metadata_removed"]
    assert {j["status"] for j in done["jobs"]} == {"success"}
    assert warehouse_hits(wh, needles) == {}
    assert metadata_hits(md, needles) == {}
    assert [a["text"] for a in md.annotations()] == ["crm deploy"]
    assert len(md.reviews()) == 0
    # the audit record: time, request hash, rows per table; the identifier nowhere (checked above)
    from seamline.governance.forget import audit_log

    (audit,) = audit_log(md)
    assert audit["removed"]["events"] == len(my_events) and len(audit["request_hash"]) == 64

    # the same data loaded without the customer gives the same metrics and incidents
    other = make_settings(tmp_path / "other", chdb_dsn)
    try:
        from seamline.cli import Context

        octx = Context(other)
        kept = tmp_path / "kept.jsonl"
        kept.write_text("".join(line + "\n" for line in lines
                                if not any(f'"event_id":"{e}"' in line for e in my_events)))
        load_file(octx.wh, kept, other.hash_salt, progress=False)
        assert all(r.status == "success" for r in run_jobs(octx.wh, octx.md, other, full=True))
        assert observed(wh, settings) == observed(octx.wh, other)
    finally:
        teardown_settings(other)

    # idempotent: a second request finds nothing, changes nothing, and is audited
    metrics = observed(wh, settings)
    code, out, err = cli("forget", "--customer-id", who)
    assert code == 0, err
    assert "nothing removed" in out
    assert observed(wh, settings) == metrics
    assert len(audit_log(md)) == 2
