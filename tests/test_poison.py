"""The poison corpus (issue 20): every hostile row an operator has met, on top
of a small clean sample, through the real CLI, engine and pages.

For every file: the counts the load reports reconcile with what is stored
(events of its load, quarantine rows of its file), each rejected row has the
reason a user needs (the field), and a file is never aborted as a whole.
Then every job succeeds, every page builds without an error card, and —
while only rejected rows were added — every metric is exactly what the
clean sample gives (a rejected row must not move the end of data).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pagekit import page_errors

BASE = {"source": "web", "channel": "web", "direction": "inbound", "type": "page_view", "customer_id": "p1"}


def ev(event_id: str, **fields) -> dict:
    return {"event_id": event_id, "occurred_at": "2026-09-20T10:00:00.000Z", **BASE, **fields}


def jsonl(*rows) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


def csv_bytes(rows: list[dict], sep: str = "\n") -> bytes:
    cols = ["event_id", "occurred_at", "source", "channel", "direction", "type", "customer_id", "attrs"]
    out = io.StringIO()
    w = csv.DictWriter(out, cols, lineterminator=sep, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({**r, "attrs": r["attrs"] if isinstance(r.get("attrs"), str) else json.dumps(r.get("attrs", {}))})
    return out.getvalue().encode()


def _months(n: int) -> bytes:
    """n valid events, one in each of n consecutive months (1990 onwards)."""
    rows = []
    for i in range(n):
        y, m = divmod(i, 12)
        rows.append(ev(f"mo{i:03d}", occurred_at=f"{1990 + y}-{m + 1:02d}-15T12:00:00Z", customer_id=f"m{i}"))
    return jsonl(*rows)


def _truncated_gzip() -> bytes:
    data = gzip.compress(jsonl(*[ev(f"gz{i:04d}", attrs={"pad": f"{i:0>60}"}) for i in range(2000)]))
    return data[: len(data) // 2]


# name -> (file name, content, {reason fragment: rows}); every row of these is rejected
REJECTED = {
    "far future": ("future.jsonl", jsonl(ev("f1", occurred_at="9999-12-31T00:00:00Z"),
                                         ev("f2", ingested_at="9999-12-31T23:59:59Z")),
                   {"occurred_at in the future": 1, "ingested_at in the future": 1}),
    "before 1970": ("past.jsonl", jsonl(ev("b1", occurred_at="1900-01-01T00:00:00Z"),
                                        ev("b2", occurred_at="1969-12-31T23:59:59Z")),
                    {"occurred_at before 1970": 2}),
    "year zero": ("zero.jsonl", jsonl(ev("z1", occurred_at="0000-01-01T00:00:00Z")), {"occurred_at": 1}),
    "ces unparseable": ("ces.jsonl", jsonl(ev("c1", type="survey", attrs={"ces": "5x"}),
                                           ev("c2", type="survey", attrs={"ces": "0"}),
                                           ev("c3", type="survey", attrs={"ces": "5.5"})),
                        {"ces must be an integer 1..7": 3}),
    "csv attrs array": ("attrs.csv", csv_bytes([ev("a1", attrs="[1]"), ev("a2", attrs='["ab","cd"]'),
                                                ev("a3", attrs="7"), ev("a4", attrs="{not json")]),
                        {"attrs must be a flat object": 3, "attrs is not a valid JSON object": 1}),
    "csv invalid utf-8": ("utf8.csv", csv_bytes([ev("u1", channel="CH")]).replace(b"CH", b"w\xffb"),
                          {"invalid UTF-8 in field channel": 1}),
    "csv NUL": ("nul.csv", csv_bytes([ev("n1", topic="x", channel="w\x00eb")]), {"NUL byte": 1}),
    "jsonl invalid utf-8": ("utf8.jsonl", jsonl(json.dumps(ev("u2", channel="CH")).encode().replace(b"CH", b"w\xffb")),
                            {"invalid UTF-8 in field channel": 1}),
    "jsonl NUL": ("nul.jsonl", jsonl(json.dumps(ev("n2", channel="CH")).encode().replace(b"CH", b"w\\u0000b"),
                                     json.dumps(ev("n3", channel="CH")).encode().replace(b"CH", b"w\x00b")),
                  {"NUL byte in field channel": 2}),
    "duplicate field": ("dupkey.jsonl", jsonl(json.dumps(ev("d1"))[:-1].encode() + b', "event_id": "d2"}'),
                        {"duplicate field in JSON object: event_id": 1}),
    "field as object": ("object.jsonl", jsonl(ev("o1", channel={"x": 1}), ev("o2", source=["web"])),
                        {"channel must be a string": 1, "source must be a string": 1}),
}


def _stored(wh, file: Path) -> tuple[int, int]:
    """(events, quarantine rows) stored by the loads of this file."""
    key = str(file.resolve())
    loads = "SELECT load_id FROM load_intents FINAL WHERE file = {f:String} AND state = 'committed'"
    events = wh.scalar(f"SELECT count() FROM events WHERE substring(load_id, 1, 32) IN ({loads})", {"f": key})
    quarantined = wh.scalar("SELECT count() FROM quarantine WHERE file = {f:String}", {"f": key})
    return int(events), int(quarantined)


def _load(cli, wh, path: Path) -> tuple[int, dict, str]:
    code, out, err = cli("load", path, "--json")
    assert "Traceback" not in err, err
    report = json.loads(out)
    assert report["read"] == report["loaded"] + report["duplicates"] + report["quarantined"], report
    assert _stored(wh, path) == (report["loaded"], report["quarantined"]), (path.name, report)
    return code, report, err


def _reasons(wh, path: Path) -> list[str]:
    return [r[0] for r in wh.rows("SELECT reason FROM quarantine WHERE file = {f:String} ORDER BY line",
                                  {"f": str(path.resolve())})]


def _jobs_succeed(cli) -> None:
    code, out, err = cli("jobs", "run", "--json")
    assert code == 0, err
    assert {r["status"] for r in json.loads(out)} <= {"success"}, out


def _metrics(cli) -> dict:
    code, out, err = cli("metrics", "--from", "2026-09-01", "--to", "2026-10-11", "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def base(cli, wh, tmp_path):
    path = tmp_path / "base.jsonl"
    assert cli("sample", "--out", path, "--customers", "300", "--days", "40", "--no-bad-rows")[0] == 0
    code, report, _ = _load(cli, wh, path)
    assert code == 0 and report["quarantined"] == 0
    _jobs_succeed(cli)
    return _metrics(cli)


def test_rejected_poison_is_quarantined_with_its_field_and_changes_no_number(cli, wh, settings, tmp_path, base):
    for name, (file, content, reasons) in REJECTED.items():
        path = tmp_path / file
        path.write_bytes(content)
        code, report, err = _load(cli, wh, path)
        assert code == 0, (name, err)
        assert report["loaded"] == 0 and report["quarantined"] == sum(reasons.values()), (name, report)
        got = _reasons(wh, path)
        for fragment, n in reasons.items():
            assert sum(fragment in r for r in got) == n, (name, fragment, got)
    _jobs_succeed(cli)
    assert _metrics(cli) == base  # the end of data, every rate and interval: as the clean sample's

    from seamline.app import create_app
    from seamline.queries import clear_cache

    clear_cache()
    assert set(page_errors(create_app(settings), {}).values()) == {0}


def test_accepted_poison_loads_whole_files_and_every_job_and_page_handles_it(cli, wh, settings, tmp_path, base):
    # ces padded or as a number: stored in its one form, the effort job reads it
    ces = tmp_path / "ces_ok.jsonl"
    ces.write_bytes(jsonl(ev("k1", type="survey", attrs={"ces": " 5"}), ev("k2", type="survey", attrs={"ces": "5.0"}),
                          ev("k3", type="survey", attrs={"ces": 7}), ev("k4", type="survey", attrs={"ces": "1 "})))
    assert _load(cli, wh, ces)[1]["loaded"] == 4
    assert dict(wh.rows("SELECT event_id, attrs['ces'] FROM events WHERE event_id LIKE 'k_' ORDER BY 1")) == {
        "k1": "5", "k2": "5", "k3": "7", "k4": "1"}

    # one file spanning 150 months loads whole (no TOO_MANY_PARTS)
    months = tmp_path / "months.jsonl"
    months.write_bytes(_months(150))
    code, report, err = _load(cli, wh, months)
    assert code == 0 and report["loaded"] == 150, err

    # CSV rows separated by a lone CR (an old Mac / Excel export): one row per line
    cr = tmp_path / "cr.csv"
    cr.write_bytes(csv_bytes([ev("r1"), ev("r2", attrs={"k": "v"}), ev("r3")], sep="\r"))
    code, report, err = _load(cli, wh, cr)
    assert (code, report["loaded"], report["quarantined"]) == (0, 3, 0), (report, err)
    assert wh.scalar("SELECT attrs['k'] FROM events WHERE event_id = 'r2'") == "v"

    # attrs values of any JSON type are kept as their (compact) JSON text, as in a
    # JSON Lines row: an array is not read as pairs
    typed = tmp_path / "typed.csv"
    typed.write_bytes(csv_bytes([ev("t1", attrs='{"n": 1.50, "b": true, "l": ["ab", "cd"], "o": {"x": 1}}')]))
    assert _load(cli, wh, typed)[1]["loaded"] == 1
    assert dict(wh.rows("SELECT k, v FROM events ARRAY JOIN mapKeys(attrs) AS k, mapValues(attrs) AS v "
                        "WHERE event_id = 't1'")) == {"n": "1.5", "b": "true", "l": '["ab","cd"]', "o": '{"x":1}'}

    # a truncated gzip: the rows before the damage load and count, the damage is
    # one quarantined row naming the line, and the command says so on one line
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(_truncated_gzip())
    code, report, err = _load(cli, wh, cut)
    assert code == 1 and report["loaded"] > 0 and report["quarantined"] == 1
    [damage] = _reasons(wh, cut)
    assert damage.startswith(f"file damaged at line {report['loaded'] + 1}: "), damage
    assert f"line {report['loaded'] + 1}" in err and "cut.jsonl.gz" in err

    _jobs_succeed(cli)
    assert _jobs_succeed(cli) is None  # and again, incrementally
    metrics = _metrics(cli)
    assert metrics["effort"]["responses"] >= base["effort"]["responses"]

    from seamline.app import create_app
    from seamline.queries import clear_cache

    clear_cache()
    app = create_app(settings)
    assert set(page_errors(app, {}).values()) == {0}
    wide = {"period": "custom", "from": "1990-01-01", "to": (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")}
    assert set(page_errors(app, wide).values()) == {0}
