"""Fuzz test of the loader (issue 20 item 8, SPEC §1): whatever a file holds,
the load reconciles, and every row it accepts passes every job and page.

Each hypothesis example writes one small file (5-40 rows) mixing valid events
with fuzzed ones — odd unicode (NUL, control and line-separator characters),
raw invalid UTF-8 bytes, padded values, times at and beyond the edges of
[1970-01-01, load time + 1 day] in every RFC 3339 spelling, ``ces`` as text,
numbers and junk, ``attrs`` of every JSON shape, duplicate event ids,
duplicate keys, missing fields, blank lines, CRLF and lone CR line ends — as
JSON Lines, gzipped JSON Lines or CSV, loads it into a fresh database of the
session's chDB engine (small ``batch_rows`` cross batches) and checks:

* ``read = loaded + duplicates + quarantined``; ``read`` is the file's
  non-blank rows; the events and quarantine rows stored are those counts; each
  quarantine row has a reason; loading the file again adds nothing;
* a row the spec says is valid is stored (by its id), a row it says is invalid
  is not (rows the spec leaves open only have to reconcile);
* every job succeeds, twice (full, then incrementally); every page builds
  without an error card; ``seamline metrics --json`` succeeds with numbers
  that are finite or null.

The default run is 4 examples (about 25 s on two cores; 60 take about 6 min).  Set
``SEAMLINE_FUZZ_EXAMPLES=N`` for a longer run, e.g.
``SEAMLINE_FUZZ_EXAMPLES=60 .venv/bin/python -m pytest -q tests/test_load_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import math
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pagekit import page_errors

EXAMPLES = int(os.environ.get("SEAMLINE_FUZZ_EXAMPLES", "4"))
NOW = datetime.now(timezone.utc)
DROP = object()  # a field left out of the row

REQUIRED = ("event_id", "occurred_at", "source", "channel", "direction", "type")
COLUMNS = REQUIRED + ("ingested_at", "customer_id", "anonymous_id", "email", "phone", "topic", "case_id", "attrs")
TYPES = {"page_view": "inbound", "session_start": "inbound", "login": "inbound", "contact": "inbound",
         "resolution": "outbound", "transfer": "outbound", "repeat_info": "inbound", "reauth": "inbound",
         "message": "outbound", "purchase": "inbound", "survey": "inbound", "signup": "inbound",
         "churn": "inbound", "identify": "inbound"}
CHANNELS = ("web", "app", "email", "chat", "phone", "sms", "social", "store")
BAD_UTF8 = (b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"w\xfeb")
# placeholders a row's text carries until the file is written as bytes
MARK_BAD = "\ue000BAD\ue000"
MARK_NUL = "\ue000NUL\ue000"

OK, BAD, ANY = "ok", "bad", "any"  # what SPEC §1 says of a row: valid, invalid, left open


def worst(*expects: str) -> str:
    return BAD if BAD in expects else ANY if ANY in expects else OK


@dataclass
class FuzzRow:
    fields: dict
    event_id: str | None  # the id the spec says it is stored under (trimmed)
    expect: str
    dup_key: str | None = None  # JSON Lines: repeat this field at the end of the object
    raw: str | None = None  # JSON Lines: the line as is (not an event object)
    notes: list[str] = field(default_factory=list)


# Values ------------------------------------------------------------------------
ODD = st.sampled_from(["\x00", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1b", "\u200b", "\u202e", "\ufeff",
                       "\U0001f600", "e\u0301", "\ud7ff", "\uffff", "\U0010ffff", '"', "\\", "\t", "\n", "\r",
                       ",", "<b>", "=1+1", " "])
TEXT = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=4), ODD),
                max_size=4).map("".join)


def text_expect(value: str) -> str:
    return BAD if "\x00" in value else OK


def fmt_time(t: datetime, sep: str, frac: int, offset: str) -> str:
    """``t`` (UTC) as RFC 3339 text in the spelling given; ``offset`` 'Z', 'z' or '+HH:MM'."""
    if offset in ("Z", "z"):
        local = t
    else:
        sign = 1 if offset[0] == "+" else -1
        local = t + sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    base = f"{local.year:04d}-{local.month:02d}-{local.day:02d}{sep}{local:%H:%M:%S}"
    if frac:
        base += "." + f"{local.microsecond:06d}{'0' * 3}"[:frac]
    return base + offset


IN_RANGE = st.datetimes(min_value=datetime(1970, 1, 1), max_value=(NOW - timedelta(hours=2)).replace(tzinfo=None))
RECENT = st.datetimes(min_value=(NOW - timedelta(days=60)).replace(tzinfo=None),
                      max_value=(NOW - timedelta(hours=2)).replace(tzinfo=None))
OFFSETS = st.sampled_from(["Z", "z", "+00:00", "+02:00", "-05:30", "+14:00", "-12:00"])


@st.composite
def good_time(draw, recent: bool = True) -> str:
    t = draw(RECENT if recent else IN_RANGE)
    offset = draw(OFFSETS)
    return fmt_time(t, draw(st.sampled_from(["T", "t", " "])), draw(st.sampled_from([0, 1, 3, 6, 9])), offset)


def edge_times() -> list[tuple[str, str]]:
    soon = (NOW + timedelta(hours=23)).strftime("%Y-%m-%dT%H:%M:%SZ")
    late = (NOW + timedelta(hours=26)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ("1970-01-01T00:00:00Z", OK), ("1970-01-01T00:00:00.000+00:00", OK), ("1970-01-01T00:00:00-01:00", OK),
        ("1969-12-31T23:59:59.999Z", BAD), ("1970-01-01T00:30:00+01:00", BAD), (soon, OK), (late, BAD),
        ("9999-12-31T23:59:59Z", BAD), ("1900-01-01T00:00:00Z", BAD), ("0000-01-01T00:00:00Z", BAD),
        ("2105-01-01T00:00:00Z", BAD), ("2026-13-01T00:00:00Z", BAD), ("2026-02-30T10:00:00Z", BAD),
        ("2026-03-01T10:00:00", BAD), ("2026-03-01", BAD), ("yesterday", BAD), ("", BAD), ("1700000000", BAD),
        ("2026-03-01T24:00:00Z", BAD), ("2026-03-01T23:59:60Z", ANY), ("2026-03-01T10:00:00+0200", ANY),
        (" 2026-03-01T10:00:00Z ", OK), ("2026-03-01T10:00:00.123456789Z", OK),
    ]


@st.composite
def occurred(draw) -> tuple[object, str]:
    kind = draw(st.sampled_from(["recent"] * 6 + ["span", "edge", "edge", "number"]))
    if kind == "recent":
        return draw(good_time()), OK
    if kind == "span":
        return draw(good_time(recent=False)), OK
    if kind == "number":
        return draw(st.sampled_from([1700000000, 0, -1, 1.5])), BAD
    return draw(st.sampled_from(edge_times()))


CES_OK = [" 5", "5.0", 5, 7, "1 ", 1, "3", 5.0, "6.00"]
CES_BAD = [0, 8, "x", 5.5, "", "5x", -1, True, "07", " ", "1e0", [5], {"v": 5}]
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False),
              TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6)


@st.composite
def attrs(draw, event_type: str) -> tuple[object, str]:
    """(attrs, expectation), ``DROP`` for none."""
    shape = draw(st.sampled_from(["object"] * 6 + ["none", "array", "string", "number", "null"]))
    expect = OK
    if shape == "none":
        value = DROP
    elif shape == "null":
        value = None
    elif shape == "array":
        return draw(st.lists(JSON_VALUE, max_size=3)), BAD
    elif shape == "string":
        return draw(st.sampled_from(["", "x", "[1]", "{not json", '{"a": "b"}', "null"])), ANY
    elif shape == "number":
        return draw(st.sampled_from([0, 7, 1.5, True])), BAD
    else:
        keys = st.one_of(TEXT, st.sampled_from(["kind", "product", "subject", "status", "order_id", "amount", "field"]))
        value = draw(st.dictionaries(keys.filter(lambda k: k.strip() != "ces"), JSON_VALUE, max_size=4))
        expect = worst(*(text_expect(json.dumps(v, ensure_ascii=False)) for v in value.values()),
                       *(text_expect(k) for k in value))
        if "\\u0000" in json.dumps(value):
            expect = BAD
    has_ces = event_type == "survey" or draw(st.integers(0, 9)) == 0
    if has_ces and draw(st.integers(0, 5)) > 0:
        ces_ok = draw(st.booleans())
        ces = draw(st.sampled_from(CES_OK if ces_ok else CES_BAD))
        value = {**(value if isinstance(value, dict) else {}), "ces": ces}
        expect = worst(expect, OK if ces_ok else BAD)
    elif event_type == "survey":
        expect = worst(expect, BAD)  # a survey without its answer
    return value, expect


@st.composite
def clean_row(draw) -> FuzzRow:
    """A valid event as a source system sends it (test_load.py's ``ev()`` shapes)."""
    event_id = draw(st.sampled_from([f"e{i}" for i in range(8)] + [f"v{i}" for i in range(12)]))
    event_type = draw(st.sampled_from(list(TYPES)))
    row = {"event_id": event_id, "occurred_at": draw(good_time()), "source": draw(st.sampled_from(["web", "crm", "app"])),
           "channel": draw(st.sampled_from(CHANNELS)), "direction": TYPES[event_type], "type": event_type,
           "customer_id": draw(st.sampled_from(["c1", "c2", "c3", "c4"]))}
    if draw(st.booleans()):
        row["topic"] = draw(st.sampled_from(["billing", "order", "complaint", "tech"]))
    if event_type in ("contact", "resolution"):
        row["case_id"] = draw(st.sampled_from(["k1", "k2"]))
    if event_type == "survey":
        row["attrs"] = {"ces": str(draw(st.integers(1, 7)))}
    elif event_type in ("message", "purchase"):
        row["attrs"] = {"kind": draw(st.sampled_from(["promo", "service"])), "product": "p1", "subject": "o1",
                        "status": draw(st.sampled_from(["shipped", "delayed"])), "order_id": "o1", "amount": "9.5"}
    elif event_type == "repeat_info":
        row["attrs"] = {"field": "address"}
    return FuzzRow(row, event_id, OK)


@st.composite
def fuzz_row(draw) -> FuzzRow:
    kind = draw(st.sampled_from(["event"] * 12 + ["garbage"]))
    if kind == "garbage":
        return FuzzRow({}, None, BAD, raw=draw(st.sampled_from(
            ["not json", "[1, 2]", "null", '"text"', "{}", '{"event_id": "g1"', "{'event_id': 'x'}", "\x0c", "\u00a0",
             '{"event_id": "g2"} {"event_id": "g3"}', "\ufeff{}"])))
    if kind == "event" and draw(st.integers(0, 9)) < 4:
        return draw(clean_row())
    notes: list[str] = []
    ident = draw(st.sampled_from([f"e{i}" for i in range(8)] + ["é\u0301", "\U0001f600", "a,b", 'q"uote', "<b>x</b>"]))
    pad = draw(st.sampled_from(["", "", "", " ", "  "]))
    event_type = draw(st.sampled_from(list(TYPES) + ["Custom_Type"]))
    direction = TYPES.get(event_type, "inbound")
    row = {"event_id": pad + ident + pad, "occurred_at": draw(good_time()), "source": "web",
           "channel": draw(st.sampled_from(CHANNELS)), "direction": direction, "type": event_type,
           "customer_id": draw(st.sampled_from(["c1", "c2", "c3"]))}
    expects = [OK]

    def fuzz(name: str, strategy):
        value, expect = draw(strategy)
        row[name] = value
        expects.append(expect)
        notes.append(name)

    if draw(st.integers(0, 3)) == 0:
        fuzz("occurred_at", occurred())
    if draw(st.integers(0, 6)) == 0:
        fuzz("ingested_at", st.one_of(good_time().map(lambda t: (t, OK)),
                                      st.sampled_from(edge_times()).map(lambda p: (p[0], ANY if p[1] == OK else p[1]))))
    if draw(st.integers(0, 5)) == 0:
        fuzz("source", st.one_of(st.sampled_from([(" CRM ", OK), ("Support", OK), ("\tweb", ANY)]),
                                 TEXT.map(lambda t: (t, BAD if "\x00" in t or not t.strip(" ") else ANY))))
    if draw(st.integers(0, 5)) == 0:
        fuzz("channel", st.one_of(st.sampled_from([(" Chat ", OK), ("WEB", OK), ("new_channel", OK), (5, ANY),
                                                   ({"x": 1}, ANY), (["web"], ANY), (None, BAD)]),
                                  TEXT.map(lambda t: (t, BAD if "\x00" in t or not t.strip(" ") else ANY))))
    if draw(st.integers(0, 6)) == 0:
        fuzz("direction", st.sampled_from([(" inbound ", OK), ("OUTBOUND", OK), ("sideways", BAD), ("in bound", BAD),
                                           ("", BAD), ("inbound\x00", BAD)]))
    if draw(st.integers(0, 4)) == 0:
        fuzz("customer_id", st.sampled_from([(" c1 ", OK), ("C1", OK), ("null", ANY), ("0", ANY), ("guest", ANY),
                                             ("", ANY), (DROP, ANY), ("é", OK), ("c\u20281", OK)]))
    if draw(st.integers(0, 4)) == 0:
        fuzz("anonymous_id", st.sampled_from([("a1", OK), (" a2", OK), ("undefined", OK), ("", OK)]))
    if draw(st.integers(0, 5)) == 0:
        fuzz("email", st.sampled_from([(" A@B.example ", OK), ("x@y.example", OK), ("", OK), ("not-an-email", OK)]))
    if draw(st.integers(0, 5)) == 0:
        fuzz("phone", st.sampled_from([("+1 (555) 010-0000", OK), ("abc", OK), ("", OK), ("00", OK)]))
    if draw(st.integers(0, 2)) == 0:
        fuzz("topic", TEXT.map(lambda t: (t, text_expect(t))))
    if draw(st.integers(0, 4)) == 0:
        fuzz("case_id", st.one_of(TEXT.map(lambda t: (t, text_expect(t))), st.just(("k1", OK))))
    value, expect = draw(attrs(event_type))
    expects.append(expect)  # a survey without attrs is missing its answer
    if value is not DROP:
        row["attrs"] = value
        notes.append("attrs")
    if all(row.get(k, DROP) in (DROP, "") for k in ("customer_id", "anonymous_id", "email", "phone")):
        expects.append(BAD)  # no identifier at all
    if draw(st.integers(0, 7)) == 0:  # a required field missing
        name = draw(st.sampled_from(REQUIRED))
        row[name] = draw(st.sampled_from([DROP, ""]))
        expects.append(BAD)
        notes.append(f"missing {name}")
    dup_key = None
    if draw(st.integers(0, 9)) == 0:  # raw bytes that are not UTF-8, or a raw NUL, in a text field
        name = draw(st.sampled_from(["source", "topic", "case_id", "customer_id"]))
        if isinstance(row.get(name), str):
            row[name] = row[name] + draw(st.sampled_from([MARK_BAD, MARK_NUL]))
            expects.append(BAD)
            notes.append(f"raw bytes in {name}")
    elif draw(st.integers(0, 11)) == 0:
        dup_key = draw(st.sampled_from(["event_id", "channel", "topic"]))
        notes.append(f"duplicate key {dup_key}")
    row = {k: v for k, v in row.items() if v is not DROP}
    event_id = row.get("event_id")
    canonical = event_id.strip(" ") if isinstance(event_id, str) else None
    return FuzzRow(row, canonical or None, worst(*expects), dup_key=dup_key, notes=notes)


# Files -------------------------------------------------------------------------
def _bytes(text: str, bad: bytes) -> bytes:
    data = text.encode("utf-8")
    for mark, raw in ((MARK_BAD, bad), (MARK_NUL, b"\x00")):
        data = data.replace(mark.encode(), raw).replace(json.dumps(mark)[1:-1].encode(), raw)
    return data


def _dump(value, ascii_: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_)


@dataclass
class Fuzzed:
    name: str
    data: bytes
    rows: list[FuzzRow]
    expected_read: int
    batch_rows: int

    def describe(self) -> str:
        return f"{self.name} batch_rows={self.batch_rows} data={self.data!r}"


@st.composite
def fuzz_file(draw) -> Fuzzed:
    rows = draw(st.lists(fuzz_row(), min_size=5, max_size=40))
    fmt = draw(st.sampled_from(["jsonl", "jsonl.gz", "csv", "csv.gz"]))
    bad = draw(st.sampled_from(BAD_UTF8))
    batch_rows = draw(st.sampled_from([1, 2, 3, 7, 200_000]))
    if fmt.startswith("jsonl"):
        ascii_ = draw(st.booleans())
        parts: list[str] = []
        for i, r in enumerate(rows):
            if r.raw is not None:
                line = r.raw
                r.dup_key = None
            else:
                line = _dump(r.fields, ascii_)
                if r.dup_key:
                    line = line[:-1] + (", " if len(line) > 2 else "") + f'"{r.dup_key}": "dup"}}'
                    if r.dup_key in r.fields:  # else it is just one more field
                        r.expect = BAD
            for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 5)) == 0 else 0):
                parts.append(draw(st.sampled_from(["", " ", "\t", "\r", " \r", "\t \t"])) + "\n")
            last = i == len(rows) - 1
            end = draw(st.sampled_from(["\n", "\n", "\r\n"] + (["", "\r"] if last else ["\r"])))
            if end == "\r" and not last:  # a lone CR is JSON whitespace: this row and the next are one line
                r.expect = rows[i + 1].expect = ANY
            parts.append(line + end)
        # one physical line may hold a lone-CR chain: count lines as the reader does
        text_lines = "".join(parts).split("\n")
        read = sum(1 for ln in text_lines if ln.strip(" \t\r"))
        if text_lines and text_lines[0].startswith("\ufeff") and not text_lines[0][1:].strip(" \t\r"):
            read -= 1
        data = _bytes("".join(parts), bad)
    else:
        terminator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        out = io.StringIO()
        # the csv module quotes a field holding a CR or LF only when that
        # character is in its line terminator: all fields are quoted otherwise
        quoting = csv.QUOTE_MINIMAL if terminator == "\r\n" and draw(st.booleans()) else csv.QUOTE_ALL
        writerow = csv.writer(out, lineterminator=terminator, quoting=quoting).writerow
        writerow(COLUMNS)
        read = 0
        for r in rows:
            if r.raw is not None:  # a CSV row has no such shape: make it a row with only an id
                r.fields, r.raw, r.expect, r.event_id = {"event_id": "raw-only"}, None, BAD, "raw-only"
            r.dup_key = None  # a CSV row has one cell per column
            cells = []
            for col in COLUMNS:
                v = r.fields.get(col, "")
                if col == "attrs" and col in r.fields:
                    v = "null" if v is None else _dump(v, False)
                elif isinstance(v, (dict, list)) or v is None:
                    v = "" if v is None else _dump(v, False)
                    r.expect = worst(r.expect, ANY)
                elif not isinstance(v, str):
                    v = _dump(v, False)
                cells.append(v)
            if not any(c.strip() for c in cells):
                r.expect = ANY
            else:
                read += 1
            writerow(cells)
            if draw(st.integers(0, 7)) == 0:
                out.write(terminator)  # a blank line
        data = _bytes(out.getvalue(), bad)
    if fmt.endswith(".gz"):
        data = gzip.compress(data)
    return Fuzzed(f"fuzz.{fmt}", data, rows, read, batch_rows)


# The engine ---------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database(dsn: str):
    """A fresh database of the session's engine and a metadata file, dropped after."""
    from seamline.config import Settings
    from seamline.metadata import Metadata, dispose_all
    from seamline.queries import clear_cache
    from seamline.warehouse import Warehouse, close_all, quote_ident
    from seamline.warehouse.schema import migrate

    tmp = Path(tempfile.mkdtemp(prefix="seamline-fuzz-"))
    settings = Settings(data_dir=tmp, warehouse=dsn, warehouse_database=f"t_{uuid.uuid4().hex[:12]}",
                        metadata_url=f"sqlite:///{tmp / 'metadata.db'}", hash_salt="test-salt")
    wh = Warehouse.from_settings(settings)
    try:
        migrate(wh)
        yield settings, wh, Metadata(settings.metadata_dsn), tmp
    finally:
        try:
            wh.command(f"DROP DATABASE IF EXISTS {quote_ident(settings.warehouse_database)}")
        finally:
            close_all()
            dispose_all()
            clear_cache()
            shutil.rmtree(tmp, ignore_errors=True)


def _stored(wh, path: Path) -> tuple[int, int]:
    key = str(path.resolve())
    loads = "SELECT load_id FROM load_intents FINAL WHERE file = {f:String} AND state = 'committed'"
    events = wh.scalar(f"SELECT count() FROM events WHERE substring(load_id, 1, 32) IN ({loads})", {"f": key})
    quarantined = wh.scalar("SELECT count() FROM quarantine FINAL WHERE file = {f:String}", {"f": key})
    return int(events), int(quarantined)


def _numbers(value, where: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{where}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield where, value


def _reject_constant(name: str):
    raise AssertionError(f"metrics --json wrote {name}")


def _metrics_json(settings, start: str, end: str) -> dict:
    from seamline.cli import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEAMLINE_WAREHOUSE", settings.warehouse)
        mp.setenv("SEAMLINE_WAREHOUSE_DATABASE", settings.warehouse_database)
        mp.setenv("SEAMLINE_METADATA_URL", settings.metadata_url)
        mp.setenv("SEAMLINE_DATA_DIR", str(settings.data_dir))
        mp.setenv("SEAMLINE_HASH_SALT", settings.hash_salt)
        mp.setenv("SEAMLINE_CONFIG", str(settings.data_dir / "no-such-seamline.toml"))
        mp.delenv("SEAMLINE_DEBUG", raising=False)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["metrics", "--from", start, "--to", end, "--json"])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue(), parse_constant=_reject_constant)


# The test -----------------------------------------------------------------------
@hsettings(max_examples=EXAMPLES, deadline=None, print_blob=True,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                  HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(fuzzed=fuzz_file())
def test_any_file_reconciles_and_every_accepted_row_passes_every_job_and_page(chdb_dsn, fuzzed):
    from seamline.app import create_app
    from seamline.load import load_file
    from seamline.queries import clear_cache
    from seamline.runner import run_jobs

    with fresh_database(chdb_dsn) as (settings, wh, md, tmp):
        path = tmp / fuzzed.name
        path.write_bytes(fuzzed.data)
        report = load_file(wh, path, "test-salt", batch_rows=fuzzed.batch_rows, progress=False)
        what = fuzzed.describe()

        # reconciliation: every row ends in one of loaded / duplicate / quarantined
        assert report.error is None or report.quarantined, (report, what)
        assert report.read == report.loaded + report.duplicates + report.quarantined, (report, what)
        assert report.read == fuzzed.expected_read, (report, what)
        assert _stored(wh, path) == (report.loaded, report.quarantined), (report, what)
        assert int(wh.scalar("SELECT count() FROM events")) == report.loaded, what
        reasons = wh.rows("SELECT line, reason FROM quarantine FINAL WHERE file = {f:String}",
                          {"f": str(path.resolve())})
        assert all(reason.strip() for _, reason in reasons), (reasons, what)

        # what the spec decides: a valid row is stored, an invalid one is not
        stored = {r[0] for r in wh.rows("SELECT event_id FROM events")}
        for rid in {r.event_id for r in fuzzed.rows if r.event_id}:
            mine = [r for r in fuzzed.rows if r.event_id == rid]
            if any(r.expect == OK for r in mine):
                assert rid in stored, ([(r.fields, r.notes) for r in mine if r.expect == OK][0], reasons, what)
            elif all(r.expect == BAD for r in mine):
                assert rid not in stored, ([(r.fields, r.notes) for r in mine], what)
        # every stored row is within the spec's bounds
        assert not wh.rows("SELECT event_id FROM events WHERE mapContains(attrs, 'ces') "
                           "AND attrs['ces'] NOT IN ('1', '2', '3', '4', '5', '6', '7')"), what
        assert not wh.rows("SELECT event_id FROM events WHERE occurred_at < toDateTime64('1970-01-01', 3, 'UTC') "
                           "OR occurred_at > now64(3) + INTERVAL 1 DAY OR position(event_id, '\\0') > 0"), what

        # the same file again adds nothing
        again = load_file(wh, path, "test-salt", batch_rows=fuzzed.batch_rows, progress=False)
        assert (again.read, again.loaded) == (report.read, 0), (again, what)
        assert again.read == again.loaded + again.duplicates + again.quarantined, (again, what)
        assert int(wh.scalar("SELECT count() FROM events")) == report.loaded, what

        # every job, then again incrementally
        for run in ("first", "incremental"):
            results = run_jobs(wh, md, settings)
            failed = [(r.job, r.status, r.error) for r in results if r.status != "success"]
            assert not failed, (run, failed, what)

        # every page, for its default period and for one spanning all the data
        clear_cache()
        app = create_app(settings)
        lo, hi = wh.rows("SELECT min(occurred_at), max(occurred_at) FROM events")[0] if report.loaded else (NOW, NOW)
        wide = {"period": "custom", "from": f"{lo:%Y-%m-%d}", "to": f"{hi + timedelta(days=1):%Y-%m-%d}"}
        for query in ({}, wide):
            errors = page_errors(app, query)
            assert set(errors.values()) <= {0}, (query, errors, what)

        # seamline metrics --json over all the data: numbers finite or null
        metrics = _metrics_json(settings, wide["from"], wide["to"])
        bad_numbers = [(k, v) for k, v in _numbers(metrics) if not math.isfinite(v)]
        assert not bad_numbers, (bad_numbers, what)
