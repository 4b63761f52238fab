"""Alert state in the metadata database (SQLAlchemy 2; SQLite or PostgreSQL):
alert instances, the last evaluation time of each rule, notifications with
their delivery outcome, and silences."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import Engine

metadata = MetaData()

# One row per alert instance (a rule and its identity labels).
alert_instances = Table(
    "alert_instances", metadata,
    Column("fingerprint", String(32), primary_key=True),
    Column("rule", String(128), nullable=False, index=True),
    Column("labels", Text, nullable=False),          # JSON: every label of the latest evaluation
    Column("annotations", Text, nullable=False),     # JSON: summary, description, dashboard
    Column("state", String(16), nullable=False),     # pending / firing / resolved / inactive
    Column("value", Float),
    Column("active_since", DateTime(timezone=True)),  # the condition has held since
    Column("fired_at", DateTime(timezone=True)),
    Column("cleared_at", DateTime(timezone=True)),   # firing, condition false since (keep_firing_for)
    Column("resolved_at", DateTime(timezone=True)),
    Column("notified_at", DateTime(timezone=True)),  # last firing message or reminder (None: not told yet)
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
)

# The last time (the evaluation's TIME) each rule was evaluated as of: an
# evaluation at or before it is a no-op, so the same TIME twice sends nothing.
alert_evaluations = Table(
    "alert_evaluations", metadata,
    Column("rule", String(128), primary_key=True),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
)

# One row per message to one receiver; kept with its outcome.
alert_notifications = Table(
    "alert_notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receiver", String(128), nullable=False, index=True),
    Column("kind", String(16), nullable=False),       # webhook / slack / email
    Column("status", String(16), nullable=False),     # firing / resolved (the message's)
    Column("at", DateTime(timezone=True), nullable=False),  # the evaluation time it comes from
    Column("fingerprints", Text, nullable=False),     # JSON list
    Column("body", Text, nullable=False),             # JSON: what is sent (the same on every attempt)
    Column("outcome", String(16), nullable=False),    # pending / sent / failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_until", DateTime(timezone=True)),  # a deliverer's claim (wall clock)
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)

# What each notification told about each instance: ``firing`` (its first
# message of a cycle), ``reminder`` or ``resolved`` (the dashboard's deliveries).
alert_notification_items = Table(
    "alert_notification_items", metadata,
    Column("notification_id", Integer, primary_key=True),
    Column("fingerprint", String(32), primary_key=True),
    Column("rule", String(128), nullable=False),
    Column("kind", String(16), nullable=False),       # firing / reminder / resolved
)

alert_silences = Table(
    "alert_silences", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(128), nullable=False),
    Column("matchers", Text, nullable=False),         # JSON object: label -> value
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

_ready: set[int] = set()
_ready_lock = threading.Lock()


def engine(md) -> Engine:
    """The metadata DB's engine with the alert tables created (once per engine)."""
    eng = md.engine
    if id(eng) not in _ready:
        with _ready_lock:
            if id(eng) not in _ready:
                metadata.create_all(eng)
                _ready.add(id(eng))
    return eng


def utc(value: datetime | None) -> datetime | None:
    """Aware UTC (SQLite hands naive datetimes back)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _row(r) -> dict[str, Any]:
    out = dict(r._mapping)
    for k, v in out.items():
        if isinstance(v, datetime):
            out[k] = utc(v)
    return out


def instances(md, rule: str | None = None, cx=None) -> list[dict[str, Any]]:
    """The alert instances (of one rule), read on ``cx`` when given (inside a transaction)."""
    q = select(alert_instances).order_by(alert_instances.c.rule, alert_instances.c.fingerprint)
    if rule is not None:
        q = q.where(alert_instances.c.rule == rule)
    if cx is not None:
        rows = [_row(r) for r in cx.execute(q)]
    else:
        with engine(md).connect() as own:
            rows = [_row(r) for r in own.execute(q)]
    for r in rows:
        r["labels"], r["annotations"] = json.loads(r["labels"]), json.loads(r["annotations"])
    return rows


def last_evaluated(md, rule: str) -> datetime | None:
    with engine(md).connect() as cx:
        row = cx.execute(select(alert_evaluations.c.evaluated_at).where(alert_evaluations.c.rule == rule)).first()
    return utc(row[0]) if row else None


def save_evaluation(cx, rule: str, at: datetime) -> None:
    res = cx.execute(update(alert_evaluations).where(alert_evaluations.c.rule == rule).values(evaluated_at=at))
    if res.rowcount == 0:
        cx.execute(insert(alert_evaluations).values(rule=rule, evaluated_at=at))


def save_instance(cx, row: dict[str, Any], new: bool) -> None:
    values = dict(row)
    values["labels"] = json.dumps(values["labels"], sort_keys=True)
    values["annotations"] = json.dumps(values["annotations"], sort_keys=True)
    if new:
        cx.execute(insert(alert_instances).values(**values))
    else:
        fp = values.pop("fingerprint")
        cx.execute(update(alert_instances).where(alert_instances.c.fingerprint == fp).values(**values))


def notifications(md, limit: int = 200) -> list[dict[str, Any]]:
    q = select(alert_notifications).order_by(alert_notifications.c.id.desc()).limit(limit)
    with engine(md).connect() as cx:
        rows = [_row(r) for r in cx.execute(q)]
    for r in rows:
        r["fingerprints"], r["body"] = json.loads(r["fingerprints"]), json.loads(r["body"])
    return rows


# Silences ----------------------------------------------------------------
def add_silence(md, rule: str, matchers: dict[str, str], starts_at: datetime, ends_at: datetime,
                comment: str = "") -> int:
    from seamline.metadata import utcnow

    with engine(md).begin() as cx:
        res = cx.execute(insert(alert_silences).values(
            rule=rule, matchers=json.dumps(matchers, sort_keys=True), starts_at=starts_at, ends_at=ends_at,
            comment=comment, created_at=utcnow()))
        return int(res.inserted_primary_key[0])


def silences(md) -> list[dict[str, Any]]:
    with engine(md).connect() as cx:
        rows = [_row(r) for r in cx.execute(select(alert_silences).order_by(alert_silences.c.id))]
    for r in rows:
        r["matchers"] = json.loads(r["matchers"])
    return rows


def silenced(silence_rows: list[dict[str, Any]], rule: str, labels: dict[str, Any], at: datetime) -> dict | None:
    """The silence muting an instance of ``rule`` with ``labels`` at ``at`` (None: not muted)."""
    for s in silence_rows:
        if s["rule"] in (rule, "*") and s["starts_at"] <= at < s["ends_at"] \
                and all(str(labels.get(k)) == v for k, v in s["matchers"].items()):
            return s
    return None
