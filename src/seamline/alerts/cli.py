"""The ``seamline alerts`` commands (SPEC §5).  Heavy imports happen inside commands."""

from __future__ import annotations

import argparse

# argv prefixes of the read-only actions: they run at once in a running server.
READ_ONLY: set[tuple[str, ...]] = {("alerts", "list")}


def _match(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"not KEY=VALUE: {text!r}")
    return key.strip(), value.strip()


def _duration(text: str):
    from seamline.alerts.models import parse_duration

    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


def _time(text: str):
    from seamline.cli import parse_date

    return parse_date(text)


def cmd_run(ctx, args) -> int:
    from seamline.alerts.delivery import deliver
    from seamline.alerts.engine import evaluate
    from seamline.cli import EXIT_ERROR, EXIT_OK, CliError, emit_json
    from seamline.metadata import utcnow

    if not ctx.settings.alerts:
        raise CliError("no alert rules: add [[alerts]] to seamline.toml (see docs/alerts.md)")
    report = evaluate(ctx.wh, ctx.md, ctx.settings, args.at or utcnow())
    sent = deliver(ctx.md, ctx.settings)
    if args.json:
        emit_json(report.as_dict() | {"deliveries": sent})
    else:
        from seamline.timefmt import iso_utc

        print(f"evaluated {len(report.evaluated)} rule(s) as of {iso_utc(report.at)}")
        for s in report.skipped:
            print(f"  skipped {s['rule']}: {s['reason']}")
        for c in report.changes:
            labels = ",".join(f"{k}={v}" for k, v in c.labels.items() if k not in ("alertname", "severity"))
            told = f" ({c.message})" if c.message else ""
            print(f"  {c.rule} {{{labels}}}: {c.before} -> {c.after}{told}")
        for d in sent:
            extra = f": {d['error']}" if d["error"] else ""
            print(f"  notification {d['id']} to {d['receiver']} ({d['status']}): {d['outcome']}{extra}")
        for e in report.errors:
            print(f"seamline: alert rule {e['rule']}: {e['error']}")
    return EXIT_ERROR if report.errors else EXIT_OK


def cmd_list(ctx, args) -> int:
    from seamline.alerts import state
    from seamline.cli import EXIT_OK, emit_json, print_table

    rows = state.instances(ctx.md)
    silences = state.silences(ctx.md)
    if args.json:
        emit_json({"instances": [{k: r[k] for k in ("rule", "fingerprint", "state", "labels", "value",
                                                    "active_since", "fired_at", "resolved_at", "notified_at",
                                                    "evaluated_at")}
                                 | {"summary": r["annotations"].get("summary")} for r in rows],
                   "silences": silences,
                   "notifications": [{k: n[k] for k in ("id", "receiver", "status", "at", "outcome", "attempts",
                                                         "last_error", "sent_at", "fingerprints")}
                                      for n in state.notifications(ctx.md, limit=args.limit)]})
        return EXIT_OK
    if not rows:
        print("no alert instances")
    else:
        order = {"firing": 0, "pending": 1, "resolved": 2, "inactive": 3}
        rows.sort(key=lambda r: (order.get(r["state"], 9), r["rule"]))
        print_table([{"state": r["state"], "rule": r["rule"],
                      "labels": ",".join(f"{k}={v}" for k, v in r["labels"].items()
                                         if k not in ("alertname", "severity")),
                      "since": r["fired_at"] or r["active_since"], "resolved": r["resolved_at"],
                      "summary": r["annotations"].get("summary")} for r in rows],
                    ["state", "rule", "labels", "since", "resolved", "summary"])
    if silences:
        print()
        print_table([{"id": s["id"], "rule": s["rule"], "match": ",".join(f"{k}={v}" for k, v in s["matchers"].items()),
                      "until": s["ends_at"], "comment": s["comment"]} for s in silences],
                    ["id", "rule", "match", "until", "comment"])
    return EXIT_OK


def cmd_silence(ctx, args) -> int:
    from seamline.alerts import state
    from seamline.cli import EXIT_OK, CliError
    from seamline.metadata import utcnow
    from seamline.timefmt import iso_utc

    names = [r.name for r in ctx.settings.alerts]
    if args.rule != "*" and args.rule not in names:
        raise CliError(f"unknown alert rule {args.rule!r}; rules: {', '.join(names) or '(none)'}")
    start = args.start or utcnow()
    end = start + args.for_
    sid = state.add_silence(ctx.md, args.rule, dict(args.match), start, end, args.comment)
    match = "".join(f" {k}={v}" for k, v in args.match)
    print(f"silence {sid}: {args.rule}{match} muted until {iso_utc(end)}")
    return EXIT_OK


def cmd_test(ctx, args) -> int:
    from seamline.alerts.delivery import DeliveryError, send, trial_message
    from seamline.cli import EXIT_ERROR, EXIT_OK, CliError
    from seamline.metadata import utcnow

    found = {r.name: r for r in ctx.settings.receivers}
    receiver = found.get(args.receiver)
    if receiver is None:
        raise CliError(f"unknown receiver {args.receiver!r}; receivers: {', '.join(found) or '(none)'}")
    try:
        send(receiver, trial_message(receiver, utcnow()))
    except DeliveryError as e:
        print(f"seamline: {receiver.name}: {e}")
        return EXIT_ERROR
    print(f"test notification sent to {receiver.name} ({receiver.kind})")
    return EXIT_OK


def register(sub) -> None:
    """Add the ``alerts`` parser to the top-level subparsers."""
    p = sub.add_parser("alerts", help="evaluate alert rules, list alerts, silence them, test receivers")
    asub = p.add_subparsers(dest="alerts_command", metavar="ACTION")
    asub.required = True

    s = asub.add_parser("run", help="evaluate every rule as of TIME (default now) and send what changed")
    s.add_argument("--at", type=_time, default=None, metavar="TIME",
                   help="evaluate as of TIME, using only events occurred and ingested before it (replay)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_run)

    s = asub.add_parser("list", help="alert instances and their state, silences")
    s.add_argument("--json", action="store_true", help="also the latest notifications and their outcome")
    s.add_argument("--limit", type=int, default=200, help="notifications shown with --json")
    s.set_defaults(fn=cmd_list)

    s = asub.add_parser("silence", help="mute a rule's matching alerts for a time")
    s.add_argument("--rule", required=True, metavar="NAME", help="the rule's name ('*': every rule)")
    s.add_argument("--match", type=_match, action="append", default=[], metavar="KEY=VALUE",
                   help="only instances with this label (repeatable)")
    s.add_argument("--for", dest="for_", type=_duration, required=True, metavar="DURATION", help="e.g. 2h, 1d")
    s.add_argument("--comment", default="", metavar="TEXT")
    s.add_argument("--start", type=_time, default=None, metavar="TIME", help="start later than now (or in a replay)")
    s.set_defaults(fn=cmd_silence)

    s = asub.add_parser("test", help="send a test notification to a receiver")
    s.add_argument("receiver", metavar="RECEIVER")
    s.set_defaults(fn=cmd_test)
