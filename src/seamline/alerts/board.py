"""What the dashboard shows of the alerts (the /alerts page, the header's
count, the periods shaded on charts), read from the metadata database.

Read only: a metadata database the alert tables were never created in (no
rule evaluated yet) reads as no alerts, and nothing here creates them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import urlencode

from seamline.alerts import state as st

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COUNT_TTL_S = 5.0         # the header's count may be this old (one read per 5 s, not per page view)
LIMIT = 200               # rows per history / delivery table
HIDDEN_LABELS = ("alertname", "severity")

FIRING_COLUMNS = ["rule", "severity", "labels", "firing_since", "evaluated_at", "summary"]
PENDING_COLUMNS = ["rule", "severity", "labels", "pending_since", "evaluated_at", "summary"]
HISTORY_COLUMNS = ["rule", "severity", "labels", "fired_at", "resolved_at", "lasted_s", "summary"]
SILENCE_COLUMNS = ["status", "rule", "matchers", "starts_at", "expires_at", "comment", "created_at"]
DELIVERY_COLUMNS = ["at", "receiver", "rules", "kind", "outcome", "attempts", "error", "sent_at", "channel"]


def view_href(page: str, view: Mapping[str, str] | None = None) -> str:
    """The dashboard path of a view: its page and URL state (period, filters)
    as ``seamline.urlstate`` parses them (``/freshness?period=custom&from=...``)."""
    view = {k: v for k, v in (view or {}).items() if v not in (None, "")}
    return (page or "/") + (f"?{urlencode(view, safe=',:/@')}" if view else "")


# Reads ------------------------------------------------------------------------
_present: set[tuple[int, str]] = set()


def _has(eng, table: str) -> bool:
    """The table exists (remembered once it does: tables are never dropped)."""
    key = (id(eng), table)
    if key in _present:
        return True
    from sqlalchemy import inspect

    if inspect(eng).has_table(table):
        _present.add(key)
        return True
    return False


def _select(md, table, query) -> list[dict[str, Any]]:
    eng = md.engine
    if not _has(eng, table.name):
        return []
    with eng.connect() as cx:
        return [st._row(r) for r in cx.execute(query)]


def instances(md) -> list[dict[str, Any]]:
    """Every alert instance, labels and annotations decoded ([] before the first evaluation)."""
    import json

    from sqlalchemy import select

    t = st.alert_instances
    rows = _select(md, t, select(t).order_by(t.c.rule, t.c.fingerprint))
    for r in rows:
        r["labels"], r["annotations"] = json.loads(r["labels"]), json.loads(r["annotations"])
    return rows


def silences(md) -> list[dict[str, Any]]:
    import json

    from sqlalchemy import select

    t = st.alert_silences
    rows = _select(md, t, select(t).order_by(t.c.id.desc()).limit(LIMIT))
    for r in rows:
        r["matchers"] = json.loads(r["matchers"])
    return rows


def notifications(md, start: datetime | None = None, end: datetime | None = None) -> list[dict[str, Any]]:
    """The latest notifications whose evaluation time is in [start, end), with
    what each told (``items``: fingerprint -> (rule, kind))."""
    import json

    from sqlalchemy import select

    t, i = st.alert_notifications, st.alert_notification_items
    q = select(t.c.id, t.c.receiver, t.c.kind, t.c.status, t.c.at, t.c.fingerprints, t.c.outcome, t.c.attempts,
               t.c.last_error, t.c.next_attempt_at, t.c.sent_at).order_by(t.c.id.desc()).limit(LIMIT)
    if start is not None:
        q = q.where(t.c.at >= start)
    if end is not None:
        q = q.where(t.c.at < end)
    rows = _select(md, t, q)
    ids = [r["id"] for r in rows]
    items: dict[int, dict[str, tuple[str, str]]] = {}
    if ids:
        for it in _select(md, i, select(i).where(i.c.notification_id.in_(ids))):
            items.setdefault(it["notification_id"], {})[it["fingerprint"]] = (it["rule"], it["kind"])
    for r in rows:
        r["fingerprints"] = json.loads(r["fingerprints"])
        r["items"] = items.get(r["id"], {})
    return rows


_count_cache: dict[int, tuple[float, int]] = {}
_count_lock = threading.Lock()


def firing_count(md, fresh: bool = False) -> int:
    """How many alert instances fire (kept ``COUNT_TTL_S``)."""
    from sqlalchemy import func, select

    key, now = id(md.engine), time.monotonic()
    with _count_lock:
        hit = _count_cache.get(key)
    if hit is not None and not fresh and now - hit[0] < COUNT_TTL_S:
        return hit[1]
    t = st.alert_instances
    rows = _select(md, t, select(func.count().label("n")).where(t.c.state == "firing"))
    n = int(rows[0]["n"]) if rows else 0
    with _count_lock:
        _count_cache[key] = (now, n)
    return n


# Frames for the page ------------------------------------------------------------
def labels_text(labels: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (labels or {}).items() if k not in HIDDEN_LABELS)


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def _base(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"rule": r["rule"], "severity": (r.get("labels") or {}).get("severity", ""),
            "labels": labels_text(r.get("labels")), "summary": (r.get("annotations") or {}).get("summary", "")}


def firing_frame(insts: Iterable[Mapping[str, Any]]) -> "pd.DataFrame":
    rows = [_base(r) | {"firing_since": r.get("fired_at"), "evaluated_at": r.get("evaluated_at")}
            for r in insts if r["state"] == "firing"]
    return _frame(sorted(rows, key=lambda r: r["firing_since"], reverse=True), FIRING_COLUMNS)


def pending_frame(insts: Iterable[Mapping[str, Any]]) -> "pd.DataFrame":
    rows = [_base(r) | {"pending_since": r.get("active_since"), "evaluated_at": r.get("evaluated_at")}
            for r in insts if r["state"] == "pending"]
    return _frame(sorted(rows, key=lambda r: r["pending_since"], reverse=True), PENDING_COLUMNS)


def history_frame(insts: Iterable[Mapping[str, Any]], start: datetime | None = None,
                  end: datetime | None = None) -> "pd.DataFrame":
    """Resolved instances (their latest cycle) that fired in [start, end)."""
    rows = []
    for r in insts:
        fired, resolved = r.get("fired_at"), r.get("resolved_at")
        if r["state"] != "resolved" or fired is None or resolved is None:
            continue
        if (start is not None and resolved < start) or (end is not None and fired >= end):
            continue
        rows.append(_base(r) | {"fired_at": fired, "resolved_at": resolved,
                                "lasted_s": (resolved - fired).total_seconds()})
    return _frame(sorted(rows, key=lambda r: r["resolved_at"], reverse=True)[:LIMIT], HISTORY_COLUMNS)


def silence_status(s: Mapping[str, Any], now: datetime) -> str:
    return "scheduled" if now < s["starts_at"] else ("active" if now < s["ends_at"] else "expired")


def silence_frame(rows: Iterable[Mapping[str, Any]], now: datetime) -> "pd.DataFrame":
    """Active silences first, then scheduled, then expired (latest first)."""
    order = {"active": 0, "scheduled": 1, "expired": 2}
    out = [{"status": silence_status(s, now), "rule": s["rule"],
            "matchers": ", ".join(f"{k}={v}" for k, v in s["matchers"].items()) or "(every instance)",
            "starts_at": s["starts_at"], "expires_at": s["ends_at"], "comment": s.get("comment") or "",
            "created_at": s.get("created_at")} for s in rows]
    out.sort(key=lambda r: (order[r["status"]], -r["expires_at"].timestamp()))
    return _frame(out, SILENCE_COLUMNS)


def delivery_frame(rows: Iterable[Mapping[str, Any]], insts: Iterable[Mapping[str, Any]] = ()) -> "pd.DataFrame":
    """One row per notification: when (the evaluation's time), to whom, about
    which rules, what it told (firing / reminder / resolved), its outcome."""
    rule_of = {r["fingerprint"]: r["rule"] for r in insts}
    out = []
    for n in rows:
        if n["items"]:
            rules = sorted({rule for rule, _ in n["items"].values()})
            kinds = sorted({kind for _, kind in n["items"].values()}, key=("firing", "reminder", "resolved").index)
        else:  # recorded before the kinds were: the message's status
            rules = sorted({rule_of.get(fp, fp) for fp in n["fingerprints"]})
            kinds = [n["status"]]
        outcome = n["outcome"]
        if outcome == "pending" and n["attempts"]:
            outcome = "retrying"
        out.append({"at": n["at"], "receiver": n["receiver"], "rules": ", ".join(rules), "kind": ", ".join(kinds),
                    "outcome": outcome, "attempts": n["attempts"], "error": (n.get("last_error") or "")[:300],
                    "sent_at": n.get("sent_at"), "channel": n["kind"]})
    out.sort(key=lambda r: r["at"], reverse=True)  # latest evaluation first (stable: then latest recorded)
    return _frame(out, DELIVERY_COLUMNS)


# Periods on charts --------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    rule: str
    source: str | None
    start: datetime          # UTC: when it fired
    end: datetime            # UTC: resolved, or its latest evaluation while it fires
    firing: bool
    summary: str


def firing_periods(insts: Iterable[Mapping[str, Any]], page: str, sources: Iterable[str] = (),
                   kpis: Iterable[str] = ()) -> list[Period]:
    """The firing periods of the instances whose view is ``page`` and, for an
    instance about a source, whose source is among ``sources`` (all when
    empty); for an instance about a KPI, whose KPI key starts with one of
    ``kpis`` (all when empty: a page showing several families' charts names
    the chart's)."""
    shown, families = set(sources), tuple(kpis)
    out = []
    for r in insts:
        ann, labels = r.get("annotations") or {}, r.get("labels") or {}
        fired = r.get("fired_at")
        if ann.get("page") != page or fired is None or r["state"] not in ("firing", "resolved"):
            continue
        if families and labels.get("kpi") is not None and not str(labels["kpi"]).startswith(families):
            continue
        source = labels.get("source")
        if shown and source is not None and source not in shown:
            continue
        firing = r["state"] == "firing"
        end = r.get("evaluated_at") if firing else r.get("resolved_at")
        out.append(Period(r["rule"], source, fired, max(end or fired, fired), firing, ann.get("summary", "")))
    return sorted(out, key=lambda p: (p.start, p.rule))


def clip(periods: Iterable[Period], start: datetime, end: datetime, min_share: float = 0.005) -> list[Period]:
    """The periods overlapping [start, end), cut to it; a period shorter than
    ``min_share`` of the span is widened to it (an alert that fired at its
    latest evaluation would otherwise have no width to draw)."""
    from dataclasses import replace

    least = (end - start) * min_share
    out = []
    for p in periods:
        if p.end < start or p.start >= end:
            continue
        s, e = max(p.start, start), min(p.end, end)
        if e - s < least:
            e = min(s + least, end)
            s = min(s, e - least)
        out.append(replace(p, start=s, end=e))
    return out

