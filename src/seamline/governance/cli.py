"""The ``seamline forget`` and ``seamline identity`` commands (SPEC §5, §8).
Heavy imports happen inside commands."""

from __future__ import annotations

# argv prefixes of the read-only actions: they run at once in a running server.
READ_ONLY: set[tuple[str, ...]] = {("identity", "explain"), ("identity", "overmerged")}


def cmd_forget(ctx, args) -> int:
    from seamline.cli import EXIT_ERROR, EXIT_OK, CliError, emit_json
    from seamline.governance.forget import ForgetError, forget

    kind, value = next((k, getattr(args, k)) for k in ("customer_id", "anonymous_id", "email", "phone")
                       if getattr(args, k) is not None)
    try:
        report = forget(ctx.wh, ctx.md, ctx.settings, kind, value, dry_run=args.dry_run)
    except ForgetError as e:
        raise CliError(str(e)) from None
    failed = [j for j in report.jobs if j["status"] != "success"]
    if args.json:
        emit_json(report.as_dict())
        return EXIT_ERROR if failed else EXIT_OK
    verb = "would remove" if report.dry_run else "removed"
    if not report.removed and not report.metadata_removed:
        print(f"no data found for this {kind.replace('_', ' ')}: nothing {'to remove' if report.dry_run else 'removed'}")
    else:
        print(f"{verb} the customer's {report.identifiers} identifier(s) and {report.events:,} event(s):")
        for table, n in sorted(report.removed.items()):
            print(f"  {table:<28} {n:>9,} rows")
        for table, n in sorted(report.metadata_removed.items()):
            print(f"  metadata.{table:<19} {n:>9,} rows")
    if report.jobs:
        ok = len(report.jobs) - len(failed)
        print(f"recomputed {ok} of {len(report.jobs)} jobs in full ({report.seconds:.1f} s in all)")
        for j in failed:
            print(f"seamline: job {j['job']} {j['status']}: {j['error']}; run seamline jobs run --full")
    if not report.dry_run:
        print(f"audit record: request {report.request_hash[:16]}…")
    return EXIT_ERROR if failed else EXIT_OK


def cmd_explain(ctx, args) -> int:
    from seamline.cli import EXIT_OK, CliError, emit_json
    from seamline.governance.explain import ExplainError, explain, explain_text

    try:
        result = explain(ctx.wh, ctx.settings, args.identifier)
    except ExplainError as e:
        raise CliError(str(e)) from None
    if args.json:
        emit_json(result)
    else:
        print("\n".join(explain_text(result)))
    return EXIT_OK


def cmd_overmerged(ctx, args) -> int:
    from seamline.cli import EXIT_OK, emit_json, print_table
    from seamline.governance.guards import suspected_overmerges

    rows = suspected_overmerges(ctx.wh, ctx.settings, limit=args.limit)
    if args.json:
        emit_json(rows)
    elif not rows:
        print(f"no suspected over-merges (no customer has more than {ctx.settings.identity_max_identifiers} "
              "identifiers)")
    else:
        print(f"{len(rows)} customer(s) with more than {ctx.settings.identity_max_identifiers} identifiers "
              "(see why with: seamline identity explain CUSTOMER):")
        print_table(rows, ["customer", "identifiers", "customer_ids", "anonymous_ids", "emails", "phones", "events"])
    return EXIT_OK


def register(sub) -> None:
    """Add the ``forget`` and ``identity`` parsers to the top-level subparsers."""
    s = sub.add_parser("forget", help="erase one customer everywhere (GDPR/CCPA) and recompute")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer-id", metavar="X")
    who.add_argument("--anonymous-id", metavar="A")
    who.add_argument("--email", metavar="E")
    who.add_argument("--phone", metavar="P")
    s.add_argument("--dry-run", action="store_true", help="report what would be removed, remove nothing")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_forget)

    p = sub.add_parser("identity", help="explain a customer's identity, list suspected over-merges")
    isub = p.add_subparsers(dest="identity_command", metavar="ACTION")
    isub.required = True
    s = isub.add_parser("explain", help="the chain of events that joined a customer's identifiers")
    s.add_argument("identifier", metavar="IDENTIFIER", help="a customer id, anonymous id, email or phone")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_explain)
    s = isub.add_parser("overmerged", help="customers with more identifiers than identity_max_identifiers")
    s.add_argument("--limit", type=int, default=100)
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_overmerged)
