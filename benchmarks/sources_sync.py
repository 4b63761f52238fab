#!/usr/bin/env python3
"""Sources in place: sync rate of a PostHog-shaped table beside the JSON
Lines load rate of the same events, in the same run (issue 22, Speed).

    .venv/bin/python benchmarks/sources_sync.py --events 5M,10M --rounds 2 --out benchmarks/sources_sync.json

1. ``--step generate`` (no engine): ``seamline.sample.generate``, ~N events
   over 90 days ending at today's midnight (the loader quarantines events
   from the future), and one hour of new events just after it (~4,000, as
   ``run.py``'s fixed hour: another seed, the same customers); both turned
   into canonical JSON Lines with UUID event ids (PostHog's ``uuid``) by
   ``seamline.sources.fixtures.canonical_file``.
2. ``--step load``: ``load_file`` of the history file into a fresh warehouse
   (events/s), then of the hour's file.
3. ``--step sync``: in another fresh warehouse, a PostHog ``events`` table of
   the upstream shape (``properties`` a JSON string, ``inserted_at`` the
   ingest time, PostHog's ``events_inserted_at_minmax_index``) and its
   ``person_distinct_id2`` (each anonymous id the person of its customer)
   written from the same history inside the engine
   (``seamline.sources.fixtures``, not timed), merges let finish, then a full ``sync_source`` (events/s);
   then the hour's rows inserted into the tables (``inserted_at`` = now) and
   an incremental sync (seconds), and one more with nothing new.

Each step runs in its own process (one chDB engine per process). Both
warehouses must hold the same events: the stored counts, the quarantine and
a checksum of every stored column but ``ingested_at`` (PostHog's insert
time) must be equal after the history and after the hour, or the run fails.
Every statement of the load and the sync is timed by kind (the mapping
``INSERT … SELECT``, the parse shared with the load, the events insert with
its dedup, identity edges …): ``statements`` in the JSON. The parse of a
batch runs on a worker thread while the previous batch is written, so the
kinds add up to more than the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (EVENTS_PER_CUSTOMER_90D, FIXED_HOUR_EVENTS, _new_hour, _settle, clean_env, iso, machine,  # noqa: E402
                 open_warehouse, parse_size, size_label)

DAYS = 90
UPSTREAM = "bench"  # the PostHog database is bench_posthog
CHECKSUM_SQL = ("SELECT count(), sum(cityHash64(event_id, occurred_at, source, channel, direction, type, ident, "
                "customer_id, anonymous_id, email_hash, phone_hash, topic, case_id, mapKeys(attrs), mapValues(attrs))) "
                "FROM events")


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# ---------------------------------------------------------------------------
# statement timing
# ---------------------------------------------------------------------------
KINDS = (  # (kind, a text the statement contains), first match wins
    ("map: INSERT … SELECT into the stage", "_sl_doc"),
    ("stage the file", "'LineAsString'"),
    ("parse + validate (load_parse)", "AS reason\nFROM"),
    ("events insert + dedup", "INSERT INTO events"),
    ("quarantine insert", "INSERT INTO quarantine"),
    ("identity edges", "INSERT INTO identity_edges"),
    ("batch counts", "SELECT (SELECT count() FROM {parsed:Identifier})"),
    ("newest insert time", "maxOrNull("),
    ("mapping plan (system.columns, DESCRIBE, EXPLAIN)", "system.columns"),
    ("mapping plan (system.columns, DESCRIBE, EXPLAIN)", "DESCRIBE"),
    ("mapping plan (system.columns, DESCRIBE, EXPLAIN)", "EXPLAIN AST"),
    ("commit + fold edges", "event_batches"),
    ("commit + fold edges", "identity_edges"),
)


class Timings:
    """Every Warehouse statement's seconds, summed by kind (thread-safe enough: one append per call)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []
        self._orig: dict[str, Any] = {}

    def __enter__(self) -> "Timings":
        from seamline.warehouse import Warehouse

        for name in ("command", "rows", "scalar"):
            orig = getattr(Warehouse, name)
            self._orig[name] = orig

            def timed(wh, sql, parameters=None, _orig=orig):
                t0 = time.perf_counter()
                try:
                    return _orig(wh, sql, parameters)
                finally:
                    self.calls.append((sql, time.perf_counter() - t0))

            setattr(Warehouse, name, timed)
        return self

    def __exit__(self, *exc) -> None:
        from seamline.warehouse import Warehouse

        for name, orig in self._orig.items():
            setattr(Warehouse, name, orig)

    def by_kind(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for sql, secs in self.calls:
            kind = next((k for k, text in KINDS if text in sql), "other")
            out[kind] = out.get(kind, 0.0) + secs
        return {k: round(v, 3) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


def _state(wh) -> dict[str, Any]:
    n, checksum = wh.rows(CHECKSUM_SQL)[0]
    return {"events": int(n), "checksum": str(checksum), "quarantined": int(wh.scalar("SELECT count() FROM quarantine")),
            # rows written, before merges fold repeats (not compared: the sync adds the persons' links)
            "identity_edge_rows": int(wh.scalar("SELECT sum(rows) FROM system.parts WHERE database = currentDatabase() "
                                                "AND table = 'identity_edges' AND active"))}


# ---------------------------------------------------------------------------
# steps
# ---------------------------------------------------------------------------
def step_generate(d: Path, n: int, seed: int, ids: str) -> dict[str, Any]:
    from seamline.sample import generate
    from seamline.sources.fixtures import canonical_file

    # the history ends at a midnight at least an hour ago, so that the new hour is in the past too
    end = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    customers = max(10, int(round(n / EVENTS_PER_CUSTOMER_90D)))
    t0 = time.perf_counter()
    res = generate(d / "raw.jsonl.gz", customers=customers, days=DAYS, seed=seed, start=end - timedelta(days=DAYS),
                   bad_rows=False)
    gen_s = time.perf_counter() - t0
    say(f"generated {res.events:,} events in {gen_s:.0f} s; the new hour …")
    hour = _new_hour(d, end, FIXED_HOUR_EVENTS if n >= 200_000 else max(20, n // 50), seed + 2000, "raw_hour.jsonl")
    t0 = time.perf_counter()
    events = canonical_file(d / "raw.jsonl.gz", d / "events.jsonl", ids)
    hour_events = canonical_file(d / "raw_hour.jsonl", d / "hour.jsonl", ids)
    say(f"canonical files ({ids} ids) in {time.perf_counter() - t0:.0f} s: {events:,} + {hour_events:,} events")
    for f in ("raw.jsonl.gz", "raw.planted.json", "raw_hour.jsonl"):
        (d / f).unlink(missing_ok=True)
    return {"customers": customers, "ids": ids, "events": events, "hour_events": hour_events, "gen_seconds": round(gen_s, 1),
            "start": iso(res.start), "end": iso(res.end), "hour_from": hour["new_hour_from"],
            "hour_to": hour["new_hour_to"], "file_mb": round((d / "events.jsonl").stat().st_size / 2**20, 1)}


def step_load(d: Path) -> dict[str, Any]:
    from seamline.load import load_file

    settings, wh, _ = open_warehouse(d / "load")
    out: dict[str, Any] = {}
    say("load: the history file …")
    with Timings() as t:
        t0 = time.perf_counter()
        rep = load_file(wh, d / "events.jsonl", settings.hash_salt, settings.load_batch_rows, progress=False)
        secs = time.perf_counter() - t0
    out["history"] = {"seconds": round(secs, 3), "read": rep.read, "loaded": rep.loaded,
                      "duplicates": rep.duplicates, "quarantined": rep.quarantined,
                      "events_per_s": round(rep.read / secs), "statements": t.by_kind(), **_state(wh)}
    say(f"load: {rep.read:,} events in {secs:.1f} s = {rep.read / secs / 1000:,.0f} k events/s")
    _settle(wh)
    t0 = time.perf_counter()
    rep = load_file(wh, d / "hour.jsonl", settings.hash_salt, settings.load_batch_rows, progress=False)
    out["hour"] = {"seconds": round(time.perf_counter() - t0, 3), "read": rep.read, "loaded": rep.loaded,
                   "quarantined": rep.quarantined, **_state(wh)}
    say(f"load: the hour's {rep.read:,} events in {out['hour']['seconds']:.2f} s")
    return out


def _posthog_table(wh, d: Path, name: str, inserted_at: str, person_at: str) -> float:
    """Write a canonical file into bench_posthog.events, and the persons of its new distinct ids into
    person_distinct_id2 (through a canonical table dropped after)."""
    from seamline.sources.fixtures import canonical_table, write_posthog, write_posthog_persons

    t0 = time.perf_counter()
    canon = f"{UPSTREAM}_posthog.canon"
    canonical_table(wh, d / name, canon)
    write_posthog(wh, canon, f"{UPSTREAM}_posthog.events", inserted_at)
    write_posthog_persons(wh, canon, f"{UPSTREAM}_posthog", person_at)
    wh.command(f"DROP TABLE {canon}")
    return round(time.perf_counter() - t0, 1)


def step_sync(d: Path) -> dict[str, Any]:
    from seamline.sources.fixtures import create_shapes
    from seamline.sources.models import parse_sources
    from seamline.sources.sync import sync_source

    settings, wh, md = open_warehouse(d / "sync")
    out: dict[str, Any] = {}
    say("sync: writing the PostHog table …")
    create_shapes(wh, UPSTREAM, ("posthog",))
    # PostHog's own skip index on the insert time (a PostHog migration adds it: minmax of this
    # expression); the sync's window reads it
    wh.command(f"ALTER TABLE {UPSTREAM}_posthog.events ADD INDEX events_inserted_at_minmax_index "
               "coalesce(inserted_at, _timestamp) TYPE minmax GRANULARITY 1")
    out["write_seconds"] = _posthog_table(wh, d, "events.jsonl", "ing", "toDateTime(ing)")
    out["settle_seconds"] = _settle(wh)
    out["table_rows"] = int(wh.scalar(f"SELECT count() FROM {UPSTREAM}_posthog.events"))
    out["person_rows"] = int(wh.scalar(f"SELECT count() FROM {UPSTREAM}_posthog.person_distinct_id2"))
    out["table_parts"] = int(wh.scalar("SELECT count() FROM system.parts WHERE database = {db:String} AND active",
                                       {"db": f"{UPSTREAM}_posthog"}))
    say(f"sync: {out['table_rows']:,} rows ({out['person_rows']:,} persons' distinct ids) written in {out['write_seconds']:.0f} s "
        f"(merges settled in {out['settle_seconds']:.0f} s); full sync …")
    (src,) = parse_sources([{"name": "posthog", "kind": "posthog", "database": f"{UPSTREAM}_posthog"}])

    def sync(what: str, full: bool = False) -> dict[str, Any]:
        with Timings() as t:
            t0 = time.perf_counter()
            rep = sync_source(wh, src, settings.hash_salt, "sources[0]", full=full,
                              batch_rows=settings.load_batch_rows, md=md)
            secs = time.perf_counter() - t0
        if rep.status != "ok":
            raise SystemExit(f"{what} sync: {rep.status} {rep.error}")
        return {"seconds": round(secs, 3), "read": rep.read, "loaded": rep.loaded, "duplicates": rep.duplicates,
                "quarantined": rep.quarantined, "edges": rep.edges, "statements": t.by_kind()}

    out["full"] = sync("full") | _state(wh)
    f = out["full"]
    f["events_per_s"] = round(f["read"] / f["seconds"])
    say(f"sync: {f['read']:,} events in {f['seconds']:.1f} s = {f['events_per_s'] / 1000:,.0f} k events/s")
    _settle(wh)
    out["hour_write_seconds"] = _posthog_table(wh, d, "hour.jsonl", "now64(6, 'UTC')", "now()")
    out["hour"] = sync("incremental") | _state(wh)
    say(f"sync: the hour's {out['hour']['read']:,} rows in {out['hour']['seconds']:.2f} s")
    out["nothing_new"] = sync("nothing new")
    say(f"sync: nothing new (the look-back re-read as duplicates) in {out['nothing_new']['seconds']:.2f} s")
    return out


# ---------------------------------------------------------------------------
# orchestration
# ---------------------------------------------------------------------------
def _sub(args: list[str], out: Path, timeout: float) -> dict[str, Any]:
    """A step in its own process; its progress lines pass through."""
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args, "--json-out", str(out)],
                       env=clean_env(), stdout=None, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"step {args[1]} failed (rc={p.returncode}): {p.stderr[-4000:]}")
    return json.loads(out.read_text())


def _load_avg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def compare(load: dict[str, Any], sync: dict[str, Any]) -> list[str]:
    """What differs between the two warehouses (nothing may)."""
    bad = []
    for a, b in (("history", "full"), ("hour", "hour")):
        for k in ("events", "checksum", "quarantined"):
            if load[a][k] != sync[b][k]:
                bad.append(f"after the {a}: {k} load {load[a][k]} != sync {sync[b][k]}")
    if sync["full"]["read"] != load["history"]["read"]:
        bad.append(f"the full sync read {sync['full']['read']} rows, the load {load['history']['read']}")
    if sync["nothing_new"]["loaded"]:
        bad.append(f"a sync with nothing new stored {sync['nothing_new']['loaded']} events")
    return bad


def summary(gen: dict[str, Any], load: dict[str, Any], sync: dict[str, Any]) -> dict[str, Any]:
    lr, sr = load["history"]["events_per_s"], sync["full"]["events_per_s"]
    return {"events": gen["events"], "load_events_per_s": lr, "sync_events_per_s": sr,
            "sync_over_load": round(sr / lr, 2), "hour_events": sync["hour"]["read"],
            "hour_sync_s": sync["hour"]["seconds"], "nothing_new_sync_s": sync["nothing_new"]["seconds"],
            "load_hour_s": load["hour"]["seconds"]}


def best(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's best round (the least disturbed by other work on the machine); the ratio is of the
    best load and the best sync."""
    keys = ("load_events_per_s", "sync_events_per_s")
    out = {"events": rounds[0]["events"], "rounds": len(rounds), "hour_events": rounds[0]["hour_events"]}
    out |= {k: max(r[k] for r in rounds) for k in keys}
    out["sync_over_load"] = round(out["sync_events_per_s"] / out["load_events_per_s"], 2)
    out |= {k: min(r[k] for r in rounds) for k in ("hour_sync_s", "nothing_new_sync_s", "load_hour_s")}
    return out


def print_row(r: dict[str, Any], label: str, avg: Any) -> None:
    print(f"{size_label(r['events']):>10} {label:>6} {r['load_events_per_s']:>11,} {r['sync_events_per_s']:>11,} "
          f"{r['sync_over_load']:>6.2f} {r['hour_events']:>8,} {r['hour_sync_s']:>12.3f} "
          f"{r['nothing_new_sync_s']:>9.3f} {avg:>9}")


def print_table(s: dict[str, Any], rounds: list[dict[str, Any]], load: dict[str, Any] | None,
                sync: dict[str, Any] | None, header_only: bool = False) -> None:
    print(f"\n{'events':>10} {'round':>6} {'load ev/s':>11} {'sync ev/s':>11} {'ratio':>6} {'hour ev':>8} "
          f"{'hour sync s':>12} {'no-new s':>9} {'load avg':>9}")
    if header_only:
        return
    for i, r in enumerate(rounds):
        print_row(r, str(i + 1), (r["load_avg_before_sync"] or ["-"])[0])
    if len(rounds) > 1:
        print_row(s, "best", "")
    print("\nseconds by statement (summed; parse overlaps the writes):")
    kinds = list(dict.fromkeys([*sync["full"]["statements"], *load["history"]["statements"]]))
    print(f"  {'':<52} {'load':>8} {'full sync':>10} {'hour sync':>10}")
    for k in kinds:
        cells = [d["statements"].get(k) for d in (load["history"], sync["full"], sync["hour"])]
        print(f"  {k:<52} " + " ".join(f"{c:>{w}.2f}" if c is not None else f"{'':>{w}}"
                                       for c, w in zip(cells, (8, 10, 10))))
    print(f"  {'wall':<52} {load['history']['seconds']:>8.2f} {sync['full']['seconds']:>10.2f} "
          f"{sync['hour']['seconds']:>10.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", default="5M", help="history events, comma-separated sizes (e.g. 200k, 5M,10M)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--ids", choices=("uuid5", "uuidt"), default="uuid5",
                    help="event ids random in order (uuid5) or time-ordered as PostHog's UUIDT (uuidt)")
    ap.add_argument("--append", action="store_true", help="add this run's sizes to the runs already in --out")
    ap.add_argument("--rounds", type=int, default=1, help="load and sync this many times in turns (best of each)")
    ap.add_argument("--out", type=Path, default=HERE / "sources_sync.json")
    ap.add_argument("--tmp-dir", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--timeout", type=float, default=7200)
    ap.add_argument("--step", choices=("generate", "load", "sync"), help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step:
        res = {"generate": lambda: step_generate(args.dir, args.n, args.seed, args.ids), "load": lambda: step_load(args.dir),
               "sync": lambda: step_sync(args.dir)}[args.step]()
        args.json_out.write_text(json.dumps(res, default=str))
        return 0

    sizes = [parse_size(x) for x in args.events.split(",")]
    result: dict[str, Any] = {"created_at": iso(datetime.now(timezone.utc)), "machine": machine(),
                              "argv": sys.argv[1:] if argv is None else argv, "runs": []}
    if args.append and args.out and args.out.exists():
        before = json.loads(args.out.read_text())
        result["runs"] = before["runs"]
        result["argv"] = [*before.get("argv", []), "+", *result["argv"]]
    try:
        for n in sizes:
            run: dict[str, Any] = {"events_asked": n, "ids": args.ids, "created_at": iso(datetime.now(timezone.utc))}
            result["runs"].append(run)
            run_size(n, args, run)
    finally:
        result["summary"] = [r["summary"] for r in result["runs"] if "summary" in r]
        result["mismatches"] = [m for r in result["runs"] for m in r.get("mismatches", [])]
        if args.out:
            args.out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    if len(result["summary"]) > 1:
        print("\nall sizes (best rounds):")
        print_table(result["summary"][0], [], None, None, header_only=True)
        for s in result["summary"]:
            print_row(s, "best", "")
    if result["mismatches"]:
        print("\nTHE WAREHOUSES DIFFER:\n  " + "\n  ".join(result["mismatches"]), file=sys.stderr)
        return 1
    print("\nsame events in both warehouses (counts, quarantine, checksum)")
    return 0


def run_size(n: int, args, run: dict[str, Any]) -> None:
    """Generate ``n`` events, then load and sync them ``args.rounds`` times; fills ``run``."""
    d = Path(tempfile.mkdtemp(prefix="seamline-sources-sync-", dir=args.tmp_dir))
    try:
        say(f"{n:,} events, work dir {d}; load average {_load_avg()}")
        common = ["--dir", str(d)]
        gen = _sub(["--step", "generate", *common, "--n", str(n), "--seed", str(args.seed), "--ids", args.ids],
                   d / "gen.json", args.timeout)
        run["generate"] = gen
        run["rounds"] = []
        for r in range(1, args.rounds + 1):  # load and sync in turns: both see the machine of the moment
            if args.rounds > 1:
                say(f"round {r} of {args.rounds}")
            one: dict[str, Any] = {"load_avg_before_load": _load_avg()}
            load = _sub(["--step", "load", *common], d / "load.json", args.timeout)
            shutil.rmtree(d / "load", ignore_errors=True)
            one["load_avg_before_sync"] = _load_avg()
            sync = _sub(["--step", "sync", *common], d / "sync.json", args.timeout)
            shutil.rmtree(d / "sync", ignore_errors=True)
            one["load_avg_after"] = _load_avg()
            one["mismatches"] = compare(load, sync)
            one |= summary(gen, load, sync)
            run["rounds"].append(one)
            run["load"], run["sync"] = load, sync  # the last round's detail
            run["mismatches"] = [m for x in run["rounds"] for m in x["mismatches"]]
            if one["mismatches"]:
                break
        run["summary"] = best(run["rounds"])
        print_table(run["summary"], run["rounds"], load, sync)
    finally:
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
