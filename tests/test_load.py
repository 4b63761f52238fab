"""Loader tests (SPEC §1): real chDB, hand-built files, hand-worked expectations.

Every row of a file ends in exactly one of loaded / duplicate / quarantined;
bad rows are kept (file, line, raw text, reason); file-level problems are one
line on stderr and a non-zero exit.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import random
import re
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from seamline.load import load_file

DROP = object()  # marks a field to leave out of an event
BASE = {"occurred_at": "2026-03-01T10:00:00.000Z", "source": "web", "channel": "web",
        "direction": "inbound", "type": "page_view", "customer_id": "c1"}
EVENT_COLS = ("event_id, occurred_at, ingested_at, source, channel, direction, type, ident, customer_id, "
              "anonymous_id, email_hash, phone_hash, topic, case_id, attrs")


def ev(event_id, /, **fields) -> dict:
    d = {"event_id": event_id, **BASE, **fields}
    return {k: v for k, v in d.items() if v is not DROP}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_events(path: Path, events: list[dict]) -> Path:
    return write_lines(path, [json.dumps(e) for e in events])


def sha(kind: str, value: str, salt: str = "test-salt") -> str:
    return hashlib.sha256(f"{salt}:{kind}:{value}".encode()).hexdigest()


def load(wh, path, **kw):
    return load_file(wh, path, "test-salt", progress=False, **kw)


def counts(report) -> tuple[int, int, int, int]:
    return report.read, report.loaded, report.duplicates, report.quarantined


def events_by_id(wh) -> dict[str, dict]:
    return {r["event_id"]: r for r in wh.dicts(f"SELECT {EVENT_COLS} FROM events ORDER BY event_id")}


def utc(*args) -> datetime:
    """A naive UTC datetime (what ``same_time`` compares against)."""
    return datetime(*args)


def same_time(value: datetime, expected: datetime) -> bool:
    # chDB may return DateTime64(3, 'UTC') naive or aware; compare as naive UTC
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value == expected



# Duplicates -------------------------------------------------------------------
def test_duplicates_within_file_first_occurrence_wins(wh, tmp_path):
    path = write_events(tmp_path / "dups.jsonl", [
        ev("d1", topic="first"), ev("d2"), ev("d1", topic="second", channel="app"), ev("d3"), ev("d2", topic="x"),
    ])
    assert counts(load(wh, path)) == (5, 3, 2, 0)
    got = events_by_id(wh)
    assert sorted(got) == ["d1", "d2", "d3"]
    assert (got["d1"]["topic"], got["d1"]["channel"]) == ("first", "web")
    assert got["d2"]["topic"] == ""

    # the same file again: nothing new, every row is a duplicate (3 loaded + 2 duplicates before)
    assert counts(load(wh, path)) == (5, 0, 5, 0)
    assert wh.scalar("SELECT count() FROM events") == 3
    assert events_by_id(wh)["d1"]["topic"] == "first"

    # a later file mixing old and new ids: the old copy stays
    path2 = write_events(tmp_path / "more.jsonl", [ev("d3", topic="late"), ev("d4"), ev("d4")])
    assert counts(load(wh, path2)) == (3, 1, 2, 0)
    got = events_by_id(wh)
    assert sorted(got) == ["d1", "d2", "d3", "d4"] and got["d3"]["topic"] == ""
    # the load log records each load
    logged = wh.rows("SELECT read, loaded, duplicates, quarantined FROM loads ORDER BY started_at")
    assert [tuple(r) for r in logged] == [(5, 3, 2, 0), (5, 0, 5, 0), (3, 1, 2, 0)]


def test_duplicates_across_batches_first_occurrence_wins(wh, tmp_path):
    # batches of 2 rows: [b1 b2] [b3 b1'] [b2' b4]
    path = write_events(tmp_path / "batches.jsonl", [
        ev("b1", topic="first"), ev("b2", topic="first"), ev("b3"),
        ev("b1", topic="second"), ev("b2", topic="second"), ev("b4"),
    ])
    assert counts(load(wh, path, batch_rows=2)) == (6, 4, 2, 0)
    got = events_by_id(wh)
    assert sorted(got) == ["b1", "b2", "b3", "b4"]
    assert got["b1"]["topic"] == "first" and got["b2"]["topic"] == "first"


def test_bad_first_occurrence_does_not_block_a_later_good_copy(wh, tmp_path):
    path = write_events(tmp_path / "badfirst.jsonl", [ev("q1", source=DROP), ev("q1", topic="good"), ev("q1")])
    assert counts(load(wh, path)) == (3, 1, 1, 1)
    assert events_by_id(wh)["q1"]["topic"] == "good"


# Bad rows -----------------------------------------------------------------------
BAD_ROWS: list[tuple[str, tuple[str, ...]]] = [
    # (line text, words the reason must contain)
    ('{"event_id": "x1", "occurred_at": ', ("json",)),
    ("[1, 2, 3]", ("object",)),
    ("42", ("object",)),
    ('"just a string"', ("object",)),
    ("null", ("object",)),
    (json.dumps(ev("m1", **{"event_id": DROP})), ("missing", "event_id")),
    (json.dumps(ev("m2", occurred_at=DROP)), ("missing", "occurred_at")),
    (json.dumps(ev("m3", source=DROP)), ("missing", "source")),
    (json.dumps(ev("m4", channel=DROP)), ("missing", "channel")),
    (json.dumps(ev("m5", direction=DROP)), ("missing", "direction")),
    (json.dumps(ev("m6", type=DROP)), ("missing", "type")),
    (json.dumps(ev("m7", source="   ")), ("missing", "source")),
    (json.dumps(ev("t1", occurred_at="yesterday")), ("occurred_at", "yesterday")),
    (json.dumps(ev("t2", occurred_at="2026-02-30T10:00:00Z")), ("occurred_at", "2026-02-30T10:00:00Z")),
    (json.dumps(ev("t3", occurred_at="2026-03-01T25:00:00Z")), ("occurred_at", "2026-03-01T25:00:00Z")),
    (json.dumps(ev("t4", occurred_at="2026-03-01T10:00:00")), ("occurred_at", "2026-03-01T10:00:00")),
    (json.dumps(ev("t5", occurred_at=1772359200)), ("occurred_at",)),
    (json.dumps(ev("i1", ingested_at="soon")), ("ingested_at", "soon")),
    (json.dumps(ev("i2", ingested_at="2026-03-01T10:00:00")), ("ingested_at",)),
    (json.dumps(ev("r1", direction="sideways")), ("direction", "sideways")),
    (json.dumps(ev("s1", type="survey", attrs={"ces": "0"})), ("ces", "0")),
    (json.dumps(ev("s2", type="survey", attrs={"ces": "8"})), ("ces", "8")),
    (json.dumps(ev("s3", type="survey", attrs={"ces": "4.5"})), ("ces", "4.5")),
    (json.dumps(ev("s4", type="survey", attrs={"ces": "abc"})), ("ces", "abc")),
    (json.dumps(ev("s5", type="survey", attrs={"ces": 9})), ("ces", "9")),
    (json.dumps(ev("s6", type="survey")), ("ces",)),
    (json.dumps(ev("n1", customer_id=DROP)), ("identifier",)),
    (json.dumps(ev("n2", customer_id="", email="   ", phone="n/a")), ("identifier",)),
    (json.dumps(ev("a1", attrs="kind=promo")), ("attrs",)),
    (json.dumps(ev("a2", attrs=["kind", "promo"])), ("attrs",)),
    (json.dumps(ev("a3", attrs=7)), ("attrs",)),
]


def test_each_bad_row_is_quarantined_with_file_line_raw_and_reason(cli, tmp_path):
    good = json.dumps(ev("ok1"))
    lines = [good] + [text for text, _ in BAD_ROWS] + ["", "   "]  # blank lines are skipped, not rows
    path = write_lines(tmp_path / "bad.jsonl", lines)

    code, out, err = cli("load", path, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["read"], report["loaded"], report["duplicates"], report["quarantined"]) == \
        (1 + len(BAD_ROWS), 1, 0, len(BAD_ROWS))

    code, out, err = cli("quarantine", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == len(BAD_ROWS)
    by_line = {r["line"]: r for r in rows}
    assert sorted(by_line) == list(range(2, 2 + len(BAD_ROWS)))  # 1-based lines; line 1 was good
    for line, (text, words) in enumerate(BAD_ROWS, start=2):
        row = by_line[line]
        assert row["file"] == str(path.resolve())
        assert row["raw"] == text
        for word in words:
            assert word.lower() in row["reason"].lower(), (line, text, row["reason"])
        assert "\n" not in row["reason"]

    # the human listing shows them too
    code, out, _ = cli("quarantine")
    assert code == 0 and "unknown direction" in out and "bad.jsonl" in out


def test_valid_edge_cases_load_normalised(wh, tmp_path):
    path = write_lines(tmp_path / "edge.jsonl", [
        # offset times become UTC, truncated to milliseconds; the day rolls over
        json.dumps(ev("v1", occurred_at="2026-03-01T23:30:00.1234-05:00", ingested_at="2026-03-02T05:30:01+01:00")),
        # a numeric event id
        '{"event_id": 12345, "occurred_at": "2026-03-01T10:00:00Z", "source": "web", "channel": "web",'
        ' "direction": "inbound", "type": "page_view", "anonymous_id": "anon-7"}',
        # ces given as a number; 7 and 1 are the bounds
        json.dumps(ev("v3", type="survey", attrs={"ces": 7})),
        json.dumps(ev("v4", type="survey", attrs={"ces": "1"})),
        # unknown fields are ignored; uppercase tokens normalised; attrs null is "no attrs"
        json.dumps(ev("v5", channel="EMAIL", direction="Inbound", source="CRM", type="Contact", topic="Billing",
                      colour="blue", nested={"deep": [1, 2]}, attrs=None)),
        # lowercase z and space separator are still RFC 3339
        json.dumps(ev("v6", occurred_at="2026-03-01 10:00:00.5z")),
        # attrs values that are numbers / booleans are kept as their text
        json.dumps(ev("v7", type="purchase", attrs={"product": "P1", "amount": 19.9, "gift": True})),
    ])
    before = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)
    assert counts(load(wh, path)) == (7, 7, 0, 0)
    after = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=1)
    got = events_by_id(wh)
    assert sorted(got) == ["12345", "v1", "v3", "v4", "v5", "v6", "v7"]
    assert same_time(got["v1"]["occurred_at"], utc(2026, 3, 2, 4, 30, 0, 123000))
    assert same_time(got["v1"]["ingested_at"], utc(2026, 3, 2, 4, 30, 1))
    assert got["12345"]["ident"] == "a:anon-7" and got["12345"]["anonymous_id"] == "anon-7"
    # ingested_at defaults to load time
    ing = got["12345"]["ingested_at"]
    ing = ing.astimezone(timezone.utc).replace(tzinfo=None) if ing.tzinfo else ing
    assert before <= ing <= after
    assert got["v3"]["attrs"] == {"ces": "7"} and got["v4"]["attrs"] == {"ces": "1"}
    v5 = got["v5"]
    assert (v5["channel"], v5["direction"], v5["source"], v5["type"], v5["topic"]) == \
        ("email", "inbound", "crm", "contact", "billing")
    assert v5["attrs"] == {}
    assert same_time(got["v6"]["occurred_at"], utc(2026, 3, 1, 10, 0, 0, 500000))
    assert got["v7"]["attrs"] == {"product": "P1", "amount": "19.9", "gift": "true"}
    assert got["v1"]["ident"] == "c:c1"


def test_bom_crlf_and_gzip_are_sniffed_not_trusted_to_the_name(wh, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(json.dumps(ev(f"bom{i}")) for i in range(3)).encode() + b"\r\n")
    assert counts(load(wh, path)) == (3, 3, 0, 0)
    csv_path = tmp_path / "bom.csv"
    csv_path.write_bytes(b"\xef\xbb\xbfevent_id,occurred_at,source,channel,direction,type,customer_id\r\n"
                         b"bomc1,2026-03-01T10:00:00Z,web,web,inbound,page_view,c1\r\n")
    assert counts(load(wh, csv_path)) == (1, 1, 0, 0)
    # gzip content without a .gz name, and a .gz name on plain text: both load
    (tmp_path / "zipped.jsonl").write_bytes(gzip.compress(json.dumps(ev("sniff1")).encode() + b"\n"))
    assert counts(load(wh, tmp_path / "zipped.jsonl")) == (1, 1, 0, 0)
    (tmp_path / "plain.jsonl.gz").write_text(json.dumps(ev("sniff2")) + "\n", encoding="utf-8")
    assert counts(load(wh, tmp_path / "plain.jsonl.gz")) == (1, 1, 0, 0)


# Formats ------------------------------------------------------------------------
FORMAT_EVENTS = [
    {"event_id": "f1", "occurred_at": "2026-03-01T11:15:02.120+01:00", "ingested_at": "2026-03-01T10:15:05.000Z",
     "source": "web", "channel": "web", "direction": "inbound", "type": "page_view",
     "anonymous_id": "a1", "email": " Foo@Bar.COM "},
    {"event_id": "f2", "occurred_at": "2026-03-01T12:00:00.000Z", "ingested_at": "2026-03-01T12:00:30.250Z",
     "source": "marketing", "channel": "email", "direction": "outbound", "type": "message",
     "customer_id": "K1", "topic": "order", "case_id": "case-9",
     "attrs": {"kind": "promo", "product": "P1", "subject": "O-1", "status": "shipped"}},
    {"event_id": "f3", "occurred_at": "2026-03-02T08:00:00.000Z", "ingested_at": "2026-03-02T08:05:00.000Z",
     "source": "survey", "channel": "chat", "direction": "inbound", "type": "survey",
     "phone": "+1 (555) 010-2000", "topic": "billing", "attrs": {"ces": "6"}},
    {"event_id": "f4", "occurred_at": "2026-03-02T09:30:00.000Z", "ingested_at": "2026-03-02T09:30:00.001Z",
     "source": "commerce", "channel": "store", "direction": "inbound", "type": "purchase",
     "customer_id": "K1", "attrs": {"product": "P1", "order_id": "O-1", "amount": "19.90"}},
]
FLAT_COLUMNS = ["event_id", "occurred_at", "ingested_at", "source", "channel", "direction", "type",
                "customer_id", "anonymous_id", "email", "phone", "topic", "case_id"]
ATTR_KEYS = ["kind", "product", "subject", "status", "ces", "order_id", "amount"]


def _write_csv(path: Path, attrs_mode: str) -> Path:
    header = FLAT_COLUMNS + (["attrs"] if attrs_mode == "json" else [f"attrs.{k}" for k in ATTR_KEYS])
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for e in FORMAT_EVENTS:
            row = [e.get(c, "") for c in FLAT_COLUMNS]
            if attrs_mode == "json":
                row.append(json.dumps(e["attrs"]) if "attrs" in e else "")
            else:
                row += [e.get("attrs", {}).get(k, "") for k in ATTR_KEYS]
            w.writerow(row)
    return path


def test_streamed_batches_keep_order_dedup_and_line_numbers(wh, tmp_path):
    # A CSV file is read by Python in batches (the next one is read and parsed
    # while the current one is written).  Batches of 2 rows:
    # [s1 s2] [bad s1'] [s3 s2'] [s4]; line 1 is the header.
    path = tmp_path / "batches.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["event_id", "occurred_at", "source", "channel", "direction", "type", "customer_id", "topic"])
        for event_id, direction, topic in [("s1", "inbound", "first"), ("s2", "inbound", "first"),
                                           ("s9", "sideways", "bad"), ("s1", "inbound", "second"),
                                           ("s3", "inbound", "first"), ("s2", "inbound", "second"),
                                           ("s4", "inbound", "first")]:
            w.writerow([event_id, "2026-03-01T10:00:00Z", "web", "web", direction, "page_view", "c1", topic])
    report = load(wh, path, batch_rows=2)
    assert counts(report) == (7, 4, 2, 1)
    got = events_by_id(wh)
    assert sorted(got) == ["s1", "s2", "s3", "s4"]
    assert {got[k]["topic"] for k in got} == {"first"}
    assert wh.rows("SELECT line, reason FROM quarantine FINAL") == [(4, "unknown direction: sideways")]
    # every batch that added events has its own batch id (the second added none)
    assert wh.scalar("SELECT count() FROM event_batches") == 3


def _write_parquet(path: Path, variant: str) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def ts(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    cols: dict[str, list] = {c: [e.get(c) for e in FORMAT_EVENTS] for c in FLAT_COLUMNS}
    if variant == "map":
        # tz-aware UTC timestamp in ms, naive timestamp (= UTC) in us, attrs as a map column
        fields = [pa.field(c, pa.string()) for c in FLAT_COLUMNS]
        fields[1] = pa.field("occurred_at", pa.timestamp("ms", tz="UTC"))
        fields[2] = pa.field("ingested_at", pa.timestamp("us"))
        cols["occurred_at"] = [ts(t) for t in cols["occurred_at"]]
        cols["ingested_at"] = [ts(t).astimezone(timezone.utc).replace(tzinfo=None) for t in cols["ingested_at"]]
        fields.append(pa.field("attrs", pa.map_(pa.string(), pa.string())))
        cols["attrs"] = [list(e["attrs"].items()) if "attrs" in e else None for e in FORMAT_EVENTS]
    else:
        # timestamps in another zone (ns), attrs as attrs.* columns
        fields = [pa.field(c, pa.string()) for c in FLAT_COLUMNS]
        fields[1] = pa.field("occurred_at", pa.timestamp("ns", tz="Europe/Berlin"))
        cols["occurred_at"] = [ts(t) for t in cols["occurred_at"]]
        for k in ATTR_KEYS:
            fields.append(pa.field(f"attrs.{k}", pa.string()))
            cols[f"attrs.{k}"] = [e.get("attrs", {}).get(k) for e in FORMAT_EVENTS]
    schema = pa.schema(fields)
    table = pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in fields}, schema=schema)
    pq.write_table(table, path)
    return path


WRITERS = {
    "jsonl": lambda d: write_events(d / "ev.jsonl", FORMAT_EVENTS),
    "jsonl.gz": lambda d: _gzip(write_events(d / "ev2.jsonl", FORMAT_EVENTS), d / "ev.jsonl.gz"),
    "csv attrs json": lambda d: _write_csv(d / "ev_json.csv", "json"),
    "csv attrs columns": lambda d: _write_csv(d / "ev_cols.csv", "columns"),
    "csv.gz": lambda d: _write_csv(d / "ev.csv.gz", "json"),
    "parquet map": lambda d: _write_parquet(d / "ev_map.parquet", "map"),
    "parquet columns": lambda d: _write_parquet(d / "ev_cols.parquet", "columns"),
}


def _gzip(src: Path, dst: Path) -> Path:
    dst.write_bytes(gzip.compress(src.read_bytes()))
    return dst


def _reset_events(wh) -> None:
    for t in ("events", "event_keys"):
        wh.command(f"TRUNCATE TABLE {t}")


def test_every_format_gives_the_same_events(wh, tmp_path):
    snapshots = {}
    for name, write in WRITERS.items():
        _reset_events(wh)
        path = write(tmp_path)
        assert counts(load(wh, path)) == (4, 4, 0, 0), name
        snapshots[name] = wh.rows(f"SELECT {EVENT_COLS} FROM events ORDER BY event_id")

    base = snapshots.pop("jsonl")
    for name, snap in snapshots.items():
        assert snap == base, name

    # and the JSONL result is the hand-worked one
    got = {r[0]: dict(zip([c.strip() for c in EVENT_COLS.split(",")], r)) for r in base}
    assert same_time(got["f1"]["occurred_at"], utc(2026, 3, 1, 10, 15, 2, 120000))
    assert same_time(got["f2"]["ingested_at"], utc(2026, 3, 1, 12, 0, 30, 250000))
    assert got["f1"]["email_hash"] == sha("email", "foo@bar.com")
    assert got["f1"]["ident"] == "a:a1"
    assert got["f3"]["phone_hash"] == sha("phone", "+15550102000")
    assert got["f3"]["ident"] == "p:" + sha("phone", "+15550102000")
    assert got["f2"]["attrs"] == {"kind": "promo", "product": "P1", "subject": "O-1", "status": "shipped"}
    assert (got["f2"]["direction"], got["f2"]["case_id"], got["f2"]["topic"]) == ("outbound", "case-9", "order")
    assert got["f4"]["attrs"] == {"product": "P1", "order_id": "O-1", "amount": "19.90"}


def test_csv_bad_rows_and_wrong_column_count(wh, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "event_id,occurred_at,source,channel,direction,type,customer_id,attrs\n"
        "c1,2026-03-01T10:00:00Z,web,web,inbound,page_view,K1,\n"         # line 2: good
        "c2,2026-03-01T10:00:00Z,web,web,inbound\n"                        # line 3: too few columns
        "c3,2026-03-01T10:00:00Z,web,web,upward,page_view,K1,\n"          # line 4: bad direction
        "c4,2026-03-01T10:00:00Z,web,web,inbound,page_view,K1,not json\n"  # line 5: attrs not an object
        ",2026-03-01T10:00:00Z,web,web,inbound,page_view,K1,\n"           # line 6: empty event_id
        "c1,2026-03-01T10:00:00Z,web,app,inbound,page_view,K1,\n",        # line 7: duplicate
        encoding="utf-8")
    assert counts(load(wh, path)) == (6, 1, 1, 4)
    q = {r["line"]: r for r in wh.dicts("SELECT line, raw, reason FROM quarantine FINAL")}
    assert sorted(q) == [3, 4, 5, 6]
    assert q[3]["raw"] == "c2,2026-03-01T10:00:00Z,web,web,inbound"
    assert "column" in q[3]["reason"]
    assert "direction" in q[4]["reason"] and "upward" in q[4]["reason"]
    assert "attrs" in q[5]["reason"]
    assert "event_id" in q[6]["reason"]
    assert events_by_id(wh)["c1"]["channel"] == "web"


def test_csv_missing_required_column_quarantines_rows_with_a_warning(cli, tmp_path):
    path = tmp_path / "nochannel.csv"
    path.write_text("event_id,occurred_at,source,direction,type,customer_id\n"
                    "n1,2026-03-01T10:00:00Z,web,inbound,page_view,K1\n"
                    "n2,2026-03-01T11:00:00Z,web,inbound,page_view,K1\n", encoding="utf-8")
    code, out, err = cli("load", path, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["read"], report["loaded"], report["duplicates"], report["quarantined"]) == (2, 0, 0, 2)
    assert "warning" in err and "channel" in err and "nochannel.csv" in err
    assert "Traceback" not in err
    code, out, _ = cli("quarantine", "--json")
    rows = json.loads(out)
    assert [(r["line"], r["reason"]) for r in rows] == [(2, "missing required field: channel"),
                                                        (3, "missing required field: channel")]


def test_parquet_that_is_not_parquet_is_a_one_line_error(cli, tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("this is not parquet\n", encoding="utf-8")
    code, out, err = cli("load", path)
    assert code == 1
    assert "fake.parquet" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# Email / phone -------------------------------------------------------------------
def test_email_and_phone_are_normalised_hashed_and_never_stored_raw(wh, tmp_path):
    path = write_events(tmp_path / "pii.jsonl", [
        ev("p1", customer_id=DROP, email=" Foo@Bar.COM "),
        ev("p2", customer_id=DROP, email="foo@bar.com"),
        ev("p3", customer_id=DROP, phone="+1 (555) 010-2000"),
        ev("p4", customer_id=DROP, phone="+15550102000"),
        ev("p5", customer_id=DROP, phone=" 1-555-010-2000 "),  # no leading +: a different number string
        ev("p6", customer_id="K1", email="FOO@bar.com", phone="+1 555 010 2000"),
    ])
    assert counts(load(wh, path)) == (6, 6, 0, 0)
    got = events_by_id(wh)
    email, phone, phone_noplus = sha("email", "foo@bar.com"), sha("phone", "+15550102000"), sha("phone", "15550102000")
    assert got["p1"]["email_hash"] == got["p2"]["email_hash"] == got["p6"]["email_hash"] == email
    assert got["p3"]["phone_hash"] == got["p4"]["phone_hash"] == got["p6"]["phone_hash"] == phone
    assert got["p5"]["phone_hash"] == phone_noplus != phone
    assert got["p1"]["ident"] == "e:" + email and got["p3"]["ident"] == "p:" + phone
    assert got["p6"]["ident"] == "c:K1"

    # the raw values appear nowhere in events or identity edges
    dump = repr(wh.rows("SELECT * FROM events")) + repr(wh.rows("SELECT * FROM identity_edges"))
    for needle in ("foo@", "bar.com", "5550102000", "010-2000", "(555)", "555 010", "555-010"):
        assert needle not in dump.lower(), needle
    assert not wh.scalar("SELECT count() FROM system.columns WHERE database = currentDatabase() "
                         "AND table = 'events' AND name IN ('email', 'phone')")


# File-level errors -----------------------------------------------------------------
def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("seamline: ")
    return lines[0]


def test_empty_whitespace_missing_and_directory_paths_fail_cleanly(cli, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("  \n\n\t\n", encoding="utf-8")
    header_only = tmp_path / "header.csv"
    header_only.write_text("event_id,occurred_at,source,channel,direction,type,customer_id\n", encoding="utf-8")
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    cases = {empty: "empty", blank: "empty", header_only: "empty",
             tmp_path / "nope.jsonl": "no such file", folder: "directory"}
    for path, words in cases.items():
        code, out, err = cli("load", path)
        assert code == 1, (path, out, err)
        line = _one_line_error(err)
        assert path.name in line and words in line, line

    # --json still reports the error in the document
    code, out, err = cli("load", tmp_path / "nope.jsonl", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["read"] == 0 and len(doc["errors"]) == 1 and "nope.jsonl" in doc["errors"][0]


def test_one_bad_path_does_not_stop_the_others(cli, wh, tmp_path):
    good = write_events(tmp_path / "good.jsonl", [ev("g1"), ev("g2")])
    code, out, err = cli("load", tmp_path / "missing.jsonl", good, "--json")
    assert code == 1
    doc = json.loads(out)
    assert (doc["read"], doc["loaded"]) == (2, 2)
    assert [f["error"] is None for f in doc["files"]] == [False, True]
    assert wh.scalar("SELECT count() FROM events") == 2


def test_a_very_long_line_loads(wh, tmp_path):
    blob = "x" * 2_000_000
    path = write_events(tmp_path / "long.jsonl", [ev("L0"), ev("L1", type="message", direction="outbound",
                                                                attrs={"kind": "service", "blob": blob}), ev("L2")])
    assert counts(load(wh, path)) == (3, 3, 0, 0)
    assert wh.scalar("SELECT length(attrs['blob']) FROM events WHERE event_id = 'L1'") == 2_000_000


def _gz_lines(n: int) -> bytes:
    rnd = random.Random(0)
    lines = [json.dumps(ev(f"g{i:04d}", attrs={"pad": "%064x" % rnd.getrandbits(256)})) for i in range(n)]
    return gzip.compress(("\n".join(lines) + "\n").encode())


def test_truncated_gzip_names_file_and_line_and_keeps_rows_before(cli, wh, tmp_path):
    data = _gz_lines(3000)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    code, out, err = cli("load", path)
    assert code == 1
    line = _one_line_error(err)
    assert "cut.jsonl.gz" in line
    m = re.search(r"line (\d+)", line)
    assert m, line
    first_missing = int(m.group(1))
    assert 1 < first_missing < 3000
    kept = [r[0] for r in wh.rows("SELECT event_id FROM events ORDER BY event_id")]
    assert kept == [f"g{i:04d}" for i in range(first_missing - 1)]
    assert f"{first_missing - 1} rows before it" in line


def test_corrupt_gzip_is_a_clear_error_not_a_crash(cli, tmp_path):
    data = _gz_lines(3000)
    # flip bytes in the middle until the stream is invalid for zlib (a deterministic search)
    for seed in itertools.count():
        rnd = random.Random(seed)
        bad = bytearray(data)
        for _ in range(5):
            bad[rnd.randrange(100, len(bad) - 100)] ^= rnd.randrange(1, 256)
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(bytes(bad))) as fh:
                for _ in fh:
                    pass
        except zlib.error:
            break
        except Exception:
            continue
        assert seed < 200
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(bytes(bad))
    code, out, err = cli("load", path)
    assert code == 1
    line = _one_line_error(err)
    assert "corrupt.jsonl.gz" in line and "line " in line


# Reconciliation property -----------------------------------------------------------------
BAD_KINDS = {
    "broken": lambda eid: '{"event_id": "%s", ' % eid,
    "array": lambda eid: json.dumps([eid]),
    "bad_time": lambda eid: json.dumps(ev(eid, occurred_at="2026-13-01T00:00:00Z")),
    "bad_direction": lambda eid: json.dumps(ev(eid, direction="both")),
    "no_identifier": lambda eid: json.dumps(ev(eid, customer_id=DROP)),
    "bad_ces": lambda eid: json.dumps(ev(eid, type="survey", attrs={"ces": "0"})),
    "missing_type": lambda eid: json.dumps(ev(eid, type=DROP)),
}
LINE = st.one_of(
    st.tuples(st.just("good"), st.integers(0, 5)),
    st.tuples(st.just("bad"), st.sampled_from(sorted(BAD_KINDS)), st.integers(0, 5)),
    st.tuples(st.just("blank")),
)
_example = itertools.count()


@hsettings(max_examples=25, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mix=st.lists(LINE, min_size=1, max_size=12), batch_rows=st.sampled_from([2, 5, 10_000]))
def test_read_equals_loaded_plus_duplicates_plus_quarantined(wh, tmp_path, mix, batch_rows):
    n = next(_example)
    prefix = f"h{n}_"  # one database for all examples: ids never collide between examples
    lines, goods, bad_lines = [], [], []
    for item in mix:
        if item[0] == "good":
            lines.append(json.dumps(ev(f"{prefix}{item[1]}", topic=f"line{len(lines) + 1}")))
            goods.append((item[1], len(lines)))
        elif item[0] == "bad":
            lines.append(BAD_KINDS[item[1]](f"{prefix}{item[2]}"))
            bad_lines.append(len(lines))
        else:
            lines.append("   ")
    path = write_lines(tmp_path / f"mix{n}.jsonl", lines)
    bads = len(bad_lines)
    if not goods and not bads:
        return  # a blank-only file is a file-level error, tested above

    first_line = {}
    for k, line in goods:
        first_line.setdefault(k, line)
    expected = (len(goods) + bads, len(first_line), len(goods) - len(first_line), bads)
    report = load(wh, path, batch_rows=batch_rows)
    assert counts(report) == expected
    assert report.read == report.loaded + report.duplicates + report.quarantined

    # first occurrence wins, also across batches
    got = {r[0]: r[1] for r in wh.rows("SELECT event_id, topic FROM events WHERE startsWith(event_id, {p:String})",
                                       {"p": prefix})}
    assert got == {f"{prefix}{k}": f"line{line}" for k, line in first_line.items()}
    # quarantined rows keep their line numbers (blank lines count as lines)
    assert [r[0] for r in wh.rows("SELECT line FROM quarantine FINAL WHERE file = {f:String} ORDER BY line",
                                  {"f": str(path.resolve())})] == bad_lines

    # loading the same file again: everything good is now a duplicate; quarantine is not doubled
    again = load(wh, path)
    assert counts(again) == (len(goods) + bads, 0, len(goods), bads)
    assert wh.scalar("SELECT count() FROM quarantine FINAL WHERE file = {f:String}",
                     {"f": str(path.resolve())}) == bads
