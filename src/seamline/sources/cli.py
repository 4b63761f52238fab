"""The ``seamline sources`` commands (SPEC §5).  Heavy imports happen inside commands."""

from __future__ import annotations

import sys

# argv prefixes of the read-only actions: they run at once in a running server.
READ_ONLY: set[tuple[str, ...]] = {("sources", "list"), ("sources", "check")}


def _configured(ctx):
    from seamline.cli import CliError
    from seamline.config import ConfigError
    from seamline.sources import configured

    try:
        return configured(ctx.settings)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _pick(ctx, names: list[str]):
    from seamline.cli import CliError

    found = _configured(ctx)
    if not names:
        if not found:
            raise CliError("no sources configured: add a [[sources]] table to seamline.toml (see docs/sources.md)")
        return found
    by_name = {s.name: (k, s) for k, s in found}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none configured"
        raise CliError(f"unknown source {unknown[0]!r} (configured: {known})")
    return [by_name[n] for n in names]


def cmd_list(ctx, args) -> int:
    from seamline.cli import EXIT_OK, emit_json, print_table
    from seamline.sources.sync import last_sync

    rows = []
    for _, s in _configured(ctx):
        last = last_sync(ctx.wh, s.name, ok_only=False)
        rows.append({"name": s.name, "kind": s.kind, "database": s.database, "table": s.table or None,
                     "schedule": s.schedule, "lookback": s.lookback,
                     "last_sync": last["finished_at"] if last else None,
                     "status": last["status"] if last else "never",
                     "loaded": int(last["loaded"]) if last else None,
                     "error": (last["error"] or None) if last else None})
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no sources configured: add a [[sources]] table to seamline.toml (see docs/sources.md)")
    else:
        print_table(rows, ["name", "kind", "database", "schedule", "lookback", "last_sync", "status", "loaded"])
        for r in rows:
            if r["error"]:
                print(f"{r['name']}: last sync failed: {r['error']}")
    return EXIT_OK


def cmd_check(ctx, args) -> int:
    from seamline.cli import EXIT_ERROR, EXIT_OK, emit_json
    from seamline.sources.check import check, render

    ((key, source),) = _pick(ctx, [args.name])
    report = check(ctx.wh, source, key)
    if args.json:
        emit_json(report)
    else:
        for line in render(report):
            print(line)
    return EXIT_ERROR if report["error"] else EXIT_OK


def cmd_sync(ctx, args) -> int:
    from seamline.cli import EXIT_ERROR, EXIT_OK, emit_json
    from seamline.sources.mapping import MappingError
    from seamline.sources.sync import SyncReport, sync_source

    reports: list[SyncReport] = []
    for key, source in _pick(ctx, args.names):
        try:
            r = sync_source(ctx.wh, source, ctx.settings.hash_salt, key, full=args.full,
                            batch_rows=ctx.settings.load_batch_rows, md=ctx.md)
        except Exception as exc:
            r = SyncReport(source=source.name, kind=source.kind, full=args.full, status="failed",
                           error=str(exc) if isinstance(exc, MappingError) else f"{type(exc).__name__}: {exc}")
        reports.append(r)
    total = {k: sum(getattr(r, k) for r in reports) for k in ("read", "loaded", "duplicates", "quarantined")}
    errors = [f"{r.source}: {r.error}" for r in reports if r.error]
    if args.json:
        emit_json(total | {"sources": [r.as_dict() for r in reports], "errors": errors})
    else:
        for r in reports:
            if r.error:
                continue
            if r.status == "skipped":  # not a failure (as a job run that finds its job running)
                print(f"{r.source}: skipped: another sync of this source is running")
                continue
            print(f"{r.source}: read {r.read:,}, loaded {r.loaded:,}, duplicates {r.duplicates:,}, "
                  f"quarantined {r.quarantined:,}, identity links {r.edges:,} ({r.seconds:.1f} s)")
        if total["quarantined"]:
            print("see the rejected rows and reasons with: seamline quarantine")
    for e in errors:
        print(f"seamline: sources sync: {e}", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_OK


def register(sub) -> None:
    """Add the ``sources`` parser to the top-level subparsers."""
    p = sub.add_parser("sources", help="event tables read in place: list, check a mapping, sync")
    ssub = p.add_subparsers(dest="sources_command", metavar="ACTION")
    ssub.required = True

    s = ssub.add_parser("list", help="the configured sources and their last sync")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_list)

    s = ssub.add_parser("check", help="tables, columns, row counts, ten mapped rows, unmapped event names, "
                                      "what is missing")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_check)

    s = ssub.add_parser("sync", help="read the rows that arrived since each source's watermark into events")
    s.add_argument("names", nargs="*", metavar="NAME", help="sources to sync (default: all)")
    s.add_argument("--full", action="store_true", help="re-read the whole source (still no duplicates)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_sync)
