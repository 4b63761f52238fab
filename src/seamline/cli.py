"""The ``seamline`` command line (SPEC §5).  Heavy imports happen inside commands."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_STRICT = 0, 1, 2, 3


class CliError(Exception):
    """A user-facing error: printed as one line, non-zero exit."""


# Helpers (seamline.cliout; imported from here by the feature command groups)
from seamline.cliout import (  # noqa: E402,F401
    InputPath, _as_given, _finite, _json_default, emit_json, input_path, parse_date, print_table)


class Context:
    """Settings plus lazily opened warehouse and metadata DB (schema applied once)."""

    def __init__(self, settings=None):
        from seamline.config import Settings

        self.settings = settings or Settings()
        self._wh = None
        self._md = None

    @property
    def wh(self):
        if self._wh is None:
            from seamline import governance
            from seamline.warehouse import Warehouse
            from seamline.warehouse.schema import migrate

            wh = Warehouse.from_settings(self.settings)
            migrate(wh)
            governance.prepare(wh, self.settings)  # hash salt, blocked identifiers, retention (SPEC §8)
            self._wh = wh
        return self._wh

    @property
    def md(self):
        if self._md is None:
            from seamline.metadata import Metadata

            self._md = Metadata(self.settings.metadata_dsn)
        return self._md


# Commands --------------------------------------------------------------------
def cmd_init(ctx: Context, args) -> int:
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate, schema_version

    from seamline import governance

    wh = Warehouse.from_settings(ctx.settings)
    applied = migrate(wh)
    governance.prepare(wh, ctx.settings)
    ctx._wh = wh
    ctx.md  # creates the metadata tables
    print(f"warehouse schema version {schema_version(wh)}"
          + (f" (applied {', '.join(applied)})" if applied else " (up to date)"))
    print(f"metadata database ready: {ctx.settings.metadata_dsn}")
    return EXIT_OK


def cmd_sample(ctx: Context, args) -> int:
    from seamline.sample import generate

    res = generate(args.out, customers=args.customers, days=args.days, seed=args.seed,
                   bad_rows=not args.no_bad_rows)
    print(f"wrote {res.events:,} events for {res.customers:,} customers to {res.path} "
          f"({_json_default(res.start)} .. {_json_default(res.end)})")
    return EXIT_OK


def cmd_load(ctx: Context, args) -> int:
    from seamline.load import load_paths

    warnings: list[str] = []
    reports = load_paths(ctx.wh, args.paths, ctx.settings.hash_salt, ctx.settings.load_batch_rows,
                         progress=None if not args.json else False, warn=warnings.append)
    shown = _as_given(args.paths)
    for r in reports:
        r.file, r.error = shown(r.file), r.error and shown(r.error)
    for w in warnings:
        print(f"seamline: warning: {shown(w)}", file=sys.stderr)
    total = {k: sum(getattr(r, k) for r in reports) for k in ("read", "loaded", "duplicates", "quarantined")}
    errors = [r.error for r in reports if r.error]
    if args.json:
        emit_json(total | {"files": [r.as_dict() for r in reports], "errors": errors})
    else:
        for r in reports:  # a damaged file's counts too: the rows before the damage are stored
            print(f"{r.file}: read {r.read:,}, loaded {r.loaded:,}, duplicates {r.duplicates:,}, "
                  f"quarantined {r.quarantined:,} ({r.seconds:.1f} s)")
        if len(reports) > 1:
            print(f"total: read {total['read']:,}, loaded {total['loaded']:,}, "
                  f"duplicates {total['duplicates']:,}, quarantined {total['quarantined']:,}")
        if total["quarantined"]:
            print("see the rejected rows and reasons with: seamline quarantine")
    for e in errors:
        print(f"seamline: {e}", file=sys.stderr)
    if errors:
        return EXIT_ERROR
    if args.strict and total["quarantined"]:
        print(f"seamline: --strict: {total['quarantined']} row(s) were quarantined", file=sys.stderr)
        return EXIT_STRICT
    return EXIT_OK


def cmd_quarantine(ctx: Context, args) -> int:
    from seamline.load import quarantine_rows

    rows = quarantine_rows(ctx.wh, args.limit)
    if args.json:
        emit_json(rows)
    elif not rows:
        print("quarantine is empty")
    else:
        for r in rows:
            r["raw"] = (r["raw"][:60] + "…") if len(r["raw"]) > 60 else r["raw"]
        print_table(rows, ["file", "line", "reason", "raw"])
    return EXIT_OK


def cmd_jobs_run(ctx: Context, args) -> int:
    from seamline.runner import plan, run_jobs

    try:
        plan(args.names)
    except KeyError as exc:
        raise CliError(exc.args[0]) from None
    show: Callable = (lambda r: None) if args.json else (
        lambda r: print(f"{r.job:<12} {r.status:<8} {'full' if r.full else 'incremental':<11} "
                        f"scope={'-' if r.scope is None else r.scope:<8} rows={r.rows if r.rows is not None else '-':<10} "
                        f"{r.seconds:6.2f} s" + (f"  {r.error}" if r.error else "")))
    results = run_jobs(ctx.wh, ctx.md, ctx.settings, args.names or None, full=args.full, on_result=show)
    if args.json:
        emit_json([r.__dict__ for r in results])
    return EXIT_ERROR if any(r.status == "failed" for r in results) else EXIT_OK


def cmd_jobs_status(ctx: Context, args) -> int:
    from seamline.runner import registry

    last = ctx.md.last_runs()
    rows = []
    for name, job in registry().items():
        entry = last.get(name, {})
        run, ok = entry.get("last", {}), entry.get("last_success", {})
        rows.append({"job": name, "schedule": job.cron(ctx.settings), "last_status": run.get("status"),
                     "last_run": run.get("started_at"), "last_success": ok.get("finished_at"),
                     "watermark": ok.get("watermark"), "rows": ok.get("rows"), "error": run.get("error")})
    if args.json:
        emit_json(rows)
    else:
        print_table(rows, ["job", "schedule", "last_status", "last_run", "last_success", "rows"])
    return EXIT_OK


def cmd_metrics(ctx: Context, args) -> int:
    from seamline.metrics import period_metrics

    if args.to <= args.from_:
        raise CliError("--to must be after --from (the period is [from, to))")
    m = period_metrics(ctx.wh, ctx.settings, args.from_, args.to)
    if args.json:
        emit_json(m)
        return EXIT_OK
    from seamline.kpis import as_utc
    from seamline.report import metrics_text

    start, end = as_utc(args.from_), as_utc(args.to)
    prev = period_metrics(ctx.wh, ctx.settings, start - (end - start), start)
    print(metrics_text(m, prev, ctx.settings))
    return EXIT_OK


def cmd_incidents(ctx: Context, args) -> int:
    from seamline.incidents import list_incidents

    rows = list_incidents(ctx.wh, args.from_, args.to,
                          limit=args.limit if args.json and args.limit is not None else 100_000)
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no incidents")
    else:
        for line in incident_summary(rows):
            print(line)
        shown = rows[:INCIDENTS_SHOWN if args.limit is None else args.limit]
        if shown:
            print()
            print_table(shown, ["at", "rule", "customer", "channels", "event_ids"])
        if len(shown) < len(rows):
            print(f"… {len(rows) - len(shown):,} more (--limit N to show them, --json for all)")
    return EXIT_OK


# Incidents listed under the summary unless --limit says otherwise.
INCIDENTS_SHOWN = 20


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def incident_summary(rows: list[dict[str, Any]]) -> list[str]:
    """For people: how many, when, by rule, and the busiest days (a burst)."""
    from collections import Counter

    days = Counter(str(_json_default(r["at"]))[:10] for r in rows)
    rules = Counter(r["rule"] for r in rows)
    first, last = str(_json_default(rows[0]["at"]))[:16], str(_json_default(rows[-1]["at"]))[:16]
    lines = [f"{_n(len(rows), 'incident')} from {first} to {last} (UTC), "
             f"{_n(len({r['customer'] for r in rows}), 'customer')}"]
    lines += [f"  {rule:<32} {n:>7,}" for rule, n in rules.most_common()]
    busiest = ", ".join(f"{day} ({n:,})" for day, n in days.most_common(3))
    lines.append(f"busiest days: {busiest}")
    return lines


def cmd_regressions(ctx: Context, args) -> int:
    from seamline.regressions import find_regressions

    rows = find_regressions(ctx.wh, ctx.settings, ctx.md)
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no latency regressions")
    else:
        from seamline.formatting import fmt_duration, fmt_p

        # for people, in the dashboard's formats (--json keeps the numbers)
        shown = [{"source": r["source"], "onset": r["onset"], "baseline p95": fmt_duration(r.get("baseline_p95_s")),
                  "after p95": fmt_duration(r.get("after_p95_s")), "ratio": f"×{r['ratio']:.1f}",
                  "p": fmt_p(r.get("p_value")), "annotation": r.get("annotation"),
                  "recovered": (f"at {r['recovered_at']}" if r.get("recovered_at") else "yes")
                  if r["recovered"] else "no"} for r in rows]
        print_table(shown, ["source", "onset", "baseline p95", "after p95", "ratio", "p", "recovered", "annotation"])
    return EXIT_OK


def cmd_annotate(ctx: Context, args) -> int:
    ctx.md.annotate(args.at, args.text, args.source or "")
    print(f"annotation saved at {_json_default(args.at)}")
    return EXIT_OK


def cmd_scheduler(ctx: Context, args) -> int:
    from seamline.scheduler import run_forever

    run_forever(ctx.settings)
    return EXIT_OK


def cmd_serve(ctx: Context, args) -> int:
    from seamline.serve import serve

    serve(ctx.settings, host=args.host, port=args.port, scheduler=not args.no_scheduler)
    return EXIT_OK


def cmd_demo(ctx: Context, args) -> int:
    from seamline.demo import run_demo

    return run_demo(ctx, serve_after=not args.no_serve, host=args.host, port=args.port,
                    customers=args.customers, days=args.days)


# Parser ----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seamline",
        description="Seamline: connection-quality KPIs for cross-channel customer journeys.",
        epilog="Configuration: SEAMLINE_DATA_DIR, SEAMLINE_WAREHOUSE, SEAMLINE_METADATA_URL, seamline.toml.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    s = sub.add_parser("init", help="create or upgrade the schemas (idempotent)")
    s.set_defaults(fn=cmd_init)

    s = sub.add_parser("sample", help="write realistic synthetic events")
    s.add_argument("--out", required=True, help="output file (.jsonl, .jsonl.gz, .csv, .parquet)")
    s.add_argument("--customers", type=int, default=3000)
    s.add_argument("--days", type=int, default=60)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--no-bad-rows", action="store_true", help="omit the planted bad and duplicate rows")
    s.set_defaults(fn=cmd_sample)

    s = sub.add_parser("load", help="load event files (JSON Lines, CSV, Parquet; .gz ok)")
    s.add_argument("paths", nargs="+", metavar="PATH", type=input_path)
    s.add_argument("--json", action="store_true", help="print the counts as JSON")
    s.add_argument("--strict", action="store_true", help="exit 3 when any row was quarantined")
    s.set_defaults(fn=cmd_load)

    s = sub.add_parser("quarantine", help="list rejected rows with file, line and reason")
    s.add_argument("--json", action="store_true")
    s.add_argument("--limit", type=int, default=10_000)
    s.set_defaults(fn=cmd_quarantine)

    s = sub.add_parser("demo", help="sample data -> load -> jobs -> dashboard, one command")
    s.add_argument("--no-serve", action="store_true", help="stop after the jobs (no dashboard)")
    s.add_argument("--customers", type=int, default=3000, help="customers in the generated sample")
    s.add_argument("--days", type=int, default=150, help="days of the generated sample, ending today")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8050)
    s.set_defaults(fn=cmd_demo)

    jobs = sub.add_parser("jobs", help="run or inspect the metric jobs")
    jsub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")
    jsub.required = True
    s = jsub.add_parser("run", help="run jobs (all by default) incrementally, or --full")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--full", action="store_true", help="recompute from scratch")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_jobs_run)
    s = jsub.add_parser("status", help="last run, status and watermark of every job")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_jobs_status)

    s = sub.add_parser("scheduler", help="run the job scheduler alone (server deployments)")
    s.set_defaults(fn=cmd_scheduler)

    s = sub.add_parser("serve", help="serve the dashboard (and the scheduler)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8050)
    s.add_argument("--no-scheduler", action="store_true")
    s.set_defaults(fn=cmd_serve)

    s = sub.add_parser("metrics", help="KPIs for a period [from, to)")
    s.add_argument("--from", dest="from_", type=parse_date, required=True, metavar="DATE")
    s.add_argument("--to", type=parse_date, required=True, metavar="DATE",
                   help="end, exclusive: --from 2026-09-01 --to 2026-10-01 is September")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_metrics)

    s = sub.add_parser("incidents", help="conflicting-message incidents")
    s.add_argument("--from", dest="from_", type=parse_date, default=None, metavar="DATE")
    s.add_argument("--to", type=parse_date, default=None, metavar="DATE")
    s.add_argument("--limit", type=int, default=None,
                   help=f"incidents listed (default: {INCIDENTS_SHOWN} under the summary; all with --json)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_incidents)

    s = sub.add_parser("regressions", help="latency regressions per source")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_regressions)

    s = sub.add_parser("annotate", help="record a deploy or change annotation")
    s.add_argument("--at", type=parse_date, required=True, metavar="TIME")
    s.add_argument("--source", default="")
    s.add_argument("--text", required=True)
    s.set_defaults(fn=cmd_annotate)
    for group in _command_groups():
        group.register(sub)
    return p


# Command groups that live with their feature: each module has
# ``register(subparsers)`` and ``READ_ONLY`` (its read-only argv prefixes).
COMMAND_GROUPS = ("seamline.sources.cli", "seamline.alerts.cli", "seamline.governance.cli")


def _command_groups() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in COMMAND_GROUPS]


# Handing commands to a running server (seamline.remote) ------------------------
# `sample` needs no warehouse; `serve`, `demo` and `scheduler` would be a second
# server.  Every other command runs in the server when one holds the data dir.
LOCAL_COMMANDS = {"sample"}
SERVER_COMMANDS = {"serve", "demo", "scheduler"}
# Commands that only read run at once in the server; the others one at a time.
READ_ONLY_COMMANDS = {("quarantine",), ("metrics",), ("incidents",), ("regressions",), ("jobs", "status")}


def runs_exclusively(argv: list[str]) -> bool:
    read_only = READ_ONLY_COMMANDS.union(*(set(g.READ_ONLY) for g in _command_groups()))
    return tuple(argv[:1]) not in read_only and tuple(argv[:2]) not in read_only


def _hand_over(args, argv: list[str], settings) -> int | None:
    """The exit code of ``argv`` run by the server holding this data dir, or
    None when no server holds it (the command runs here)."""
    if args.command in LOCAL_COMMANDS or not settings.is_embedded:
        return None
    from seamline import remote

    server = remote.find_server(settings)
    if server is None:
        return None
    where = f"a Seamline server ({server.describe()}) is running on {settings.data_path}"
    if args.command == "scheduler":
        raise CliError(f"{where} and " + ("already runs the scheduler" if server.scheduler else
                       "holds the warehouse: restart it without --no-scheduler to run the scheduler"))
    if args.command in SERVER_COMMANDS:
        raise CliError(f"{where}: stop it first, or use another SEAMLINE_DATA_DIR")
    return remote.run_remote(server, argv, settings)


def _one_line_errors() -> tuple[type[BaseException], ...]:
    """Errors shown as one line (imported late: ConfigError may not exist yet)."""
    import seamline.config
    from seamline.load import LoadError
    from seamline.remote import RemoteError

    return tuple(t for t in (LoadError, RemoteError, getattr(seamline.config, "ConfigError", None)) if t)


def main(argv: list[str] | None = None, settings=None) -> int:
    """Run one command line.  ``settings`` is given by the running server for
    a command it executes on a client's behalf (then it is never handed over)."""
    argv = sys.argv[1:] if argv is None else [os.fspath(a) for a in argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    from seamline.capture import getenv
    from seamline.warehouse import WarehouseError

    try:
        if settings is None:
            from seamline.config import Settings

            settings = Settings()
            handed = _hand_over(args, argv, settings)
            if handed is not None:
                return handed
        ctx = Context(settings)
        return args.fn(ctx, args)
    except (CliError, WarehouseError) as exc:
        print(f"seamline: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `seamline incidents | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # never a traceback for a user; the detail is one line
        if isinstance(exc, _one_line_errors()):
            print("seamline: " + "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()),
                  file=sys.stderr)
            return EXIT_ERROR
        if getenv("SEAMLINE_DEBUG"):
            raise
        print(f"seamline: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              "(set SEAMLINE_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
