"""Evaluating the rules as of a time: alert instances move inactive ->
pending (condition true for less than ``for``) -> firing -> resolved; the
instances that fire, remind or resolve in one evaluation go out as one
message per receiver (recorded as pending notifications, delivered by
``seamline.alerts.delivery``).

An evaluation as of TIME is a no-op for a rule already evaluated as of TIME
or later, so running it twice sends nothing new and a history is replayed by
evaluating increasing times.  Every change of one evaluation (instances,
notifications, the rules' evaluation times) is one metadata transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from seamline.alerts import state
from seamline.alerts.rules import EVALUATORS, Finding

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.warehouse import Warehouse

LEASE = "alerts:evaluate"


@dataclass
class Change:
    rule: str
    fingerprint: str
    labels: dict[str, str]
    before: str           # inactive (no instance) / pending / firing / resolved
    after: str
    message: str | None   # firing / reminder / resolved / silenced (None: nothing to tell)


@dataclass
class Report:
    at: datetime
    evaluated: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)   # rule, reason
    errors: list[dict[str, str]] = field(default_factory=list)    # rule, error
    changes: list[Change] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "evaluated": self.evaluated, "skipped": self.skipped, "errors": self.errors,
                "changes": [c.__dict__ for c in self.changes], "notifications": self.notifications}


def fingerprint(rule: str, identity: dict[str, str]) -> str:
    """16 hex digits of the rule's name and its identity labels (as Alertmanager's)."""
    text = json.dumps([rule, sorted(identity.items())], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def evaluate(wh: "Warehouse", md: "Metadata", settings: "Settings", at: datetime) -> Report:
    """Evaluate every rule as of ``at`` and record what is to be sent."""
    at = _utc(at)
    report = Report(at=at)
    if not settings.alerts:
        return report
    owner = md.acquire_lease(LEASE)
    if owner is None:
        report.skipped.append({"rule": "*", "reason": "another evaluation is running"})
        return report
    try:
        _evaluate(wh, md, settings, at, report)
    finally:
        md.release_lease(LEASE, owner)
    return report


def _evaluate(wh, md, settings, at: datetime, report: Report) -> None:
    from seamline.alerts.delivery import render
    from seamline.metadata import utcnow

    eng = state.engine(md)
    found: dict[str, list[Finding]] = {}
    for rule in settings.alerts:
        last = state.last_evaluated(md, rule.name)
        if last is not None and at <= last:
            report.skipped.append({"rule": rule.name, "reason": f"already evaluated as of {last.isoformat()}"})
            continue
        try:
            found[rule.name] = EVALUATORS[rule.kind](wh, md, settings, rule, at)
        except Exception as exc:  # one rule's failure is reported; the others still run
            report.errors.append({"rule": rule.name, "error": f"{type(exc).__name__}: {exc}"})
    silences = state.silences(md)
    receivers = {r.name: r for r in settings.receivers}
    outgoing: dict[str, list[dict[str, Any]]] = {}
    with eng.begin() as cx:
        for rule in settings.alerts:
            if rule.name not in found:
                continue
            current = {r["fingerprint"]: r for r in state.instances(md, rule.name, cx)}
            seen: set[str] = set()
            for f in found[rule.name]:
                labels = {"alertname": rule.name, "severity": f.severity or rule.severity, **f.labels}
                fp = fingerprint(rule.name, {k: labels[k] for k in f.identity})
                seen.add(fp)
                inst = current.get(fp)
                before = inst["state"] if inst else "inactive"
                row = dict(inst) if inst else {"fingerprint": fp, "rule": rule.name, "notified_at": None}
                row.update(labels=labels, value=f.value, evaluated_at=at, cleared_at=None,
                           annotations={"summary": rule.summary or f.summary, "description": f.description,
                                        "page": f.page, "view": f.view})
                if before in ("inactive", "resolved"):  # a new cycle
                    row.update(active_since=at, fired_at=None, resolved_at=None, notified_at=None, state="pending")
                if row["state"] == "pending" and at - row["active_since"] >= rule.for_:
                    row.update(state="firing", fired_at=at)
                message = None
                if row["state"] == "firing":
                    due = row["notified_at"] is None or at - row["notified_at"] >= rule.repeat
                    if due and state.silenced(silences, rule.name, labels, at):
                        message = "silenced"
                    elif due:
                        message = "firing" if row["notified_at"] is None else "reminder"
                        row["notified_at"] = at
                        for name in rule.receivers:
                            outgoing.setdefault(name, []).append(dict(row, status="firing", told=message))
                state.save_instance(cx, row, new=inst is None)
                if before != row["state"] or message:
                    report.changes.append(Change(rule.name, fp, labels, before, row["state"], message))
            for fp, inst in current.items():
                if fp in seen or inst["state"] not in ("pending", "firing"):
                    continue
                row = dict(inst, evaluated_at=at)
                message = None
                if inst["state"] == "pending":
                    row["state"] = "inactive"
                elif at - (inst["cleared_at"] or at) < rule.keep_firing_for:  # kept firing a while
                    row["cleared_at"] = inst["cleared_at"] or at
                    state.save_instance(cx, row, new=False)
                    continue
                else:
                    row.update(state="resolved", resolved_at=at)
                    if inst["notified_at"] is not None:  # only what was told is resolved for its receivers
                        if state.silenced(silences, rule.name, inst["labels"], at):
                            message = "silenced"
                        else:
                            message = "resolved"
                            for name in rule.receivers:
                                outgoing.setdefault(name, []).append(dict(row, status="resolved", told="resolved"))
                state.save_instance(cx, row, new=False)
                report.changes.append(Change(rule.name, fp, inst["labels"], inst["state"], row["state"], message))
            state.save_evaluation(cx, rule.name, at)
            report.evaluated.append(rule.name)
        _retire_removed_rules(cx, md, {r.name for r in settings.alerts}, at, report)
        now = utcnow()
        for name, alerts in outgoing.items():
            receiver = receivers[name]
            status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
            body = render(receiver, status, alerts, at)
            res = cx.execute(state.alert_notifications.insert().values(
                receiver=name, kind=receiver.kind, status=status, at=at,
                fingerprints=json.dumps([a["fingerprint"] for a in alerts]), body=json.dumps(body),
                outcome="pending", attempts=0, next_attempt_at=now, created_at=now))
            nid = int(res.inserted_primary_key[0])
            items = {a["fingerprint"]: {"notification_id": nid, "fingerprint": a["fingerprint"], "rule": a["rule"],
                                        "kind": a["told"]} for a in alerts}
            cx.execute(state.alert_notification_items.insert(), list(items.values()))
            report.notifications.append(nid)


def _retire_removed_rules(cx, md, names: set[str], at: datetime, report: Report) -> None:
    """Instances of a rule no longer in the settings end without a message
    (its receivers may be gone too): resolved if firing, inactive if pending."""
    for inst in state.instances(md, cx=cx):
        if inst["rule"] in names or inst["state"] not in ("pending", "firing"):
            continue
        after = "resolved" if inst["state"] == "firing" else "inactive"
        row = dict(inst, state=after, evaluated_at=at)
        if after == "resolved":
            row["resolved_at"] = at
        state.save_instance(cx, row, new=False)
        report.changes.append(Change(inst["rule"], inst["fingerprint"], inst["labels"], inst["state"], after, None))
