"""A small adversarial events file for the pandas ↔ Seamline cross-check.

The synthetic generator never puts events exactly on a window boundary; these
do: gaps of exactly 48 h, friction exactly 30 min after a touch, repeat
contacts exactly 7 days apart, promos exactly 14 days after a purchase,
contradictory messages exactly 24 h apart, ties on the same millisecond
(ordered by event_id), identifiers that only link through other events,
empty vs missing topics, events on the period boundary, negative lags and a
source-hour whose p95 is exactly the 300 s target.  Each case notes what the
SPEC (as read by ``pandas_baseline``) expects.

``events()`` returns the rows (dicts, JSON Lines ready); ``PERIODS`` the
periods to compare.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

T0 = datetime(2026, 9, 1, tzinfo=timezone.utc)
END = datetime(2026, 10, 1, tzinfo=timezone.utc)
PERIODS = [("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"), ("2026-09-05T00:00:00Z", "2026-09-12T00:00:00Z")]
MS = timedelta(milliseconds=1)
H = timedelta(hours=1)
D = timedelta(days=1)


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Rows:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, eid: str, t: datetime, type_: str, channel: str, direction: str = "inbound", *,
            source: str = "crm", lag: timedelta = timedelta(seconds=5), **kw) -> None:
        row = {"event_id": f"x-{eid}", "occurred_at": _iso(t), "ingested_at": _iso(t + lag), "source": source,
               "channel": channel, "direction": direction, "type": type_}
        attrs = kw.pop("attrs", None)
        row.update({k: v for k, v in kw.items() if v is not None})
        if attrs:
            row["attrs"] = attrs
        self.rows.append(row)


def events() -> list[dict]:
    r = _Rows()
    a = r.add
    # A: identity via normalised email / phone; friction exactly 30 min after the touch; repeat exactly 7 d
    a("a0", T0 + 9 * H, "signup", "web", customer_id="C100", email="alice@example.com", phone="+44 7000 000001")
    a("a1", T0 + D + 10 * H, "page_view", "web", source="web", anonymous_id="a-A1")
    a("a2", T0 + D + 10 * H + 60_000 * MS, "identify", "web", anonymous_id="a-A1", customer_id="C100")
    ta3 = T0 + D + 10 * H + 5 * 60_000 * MS
    a("a3", ta3, "contact", "chat", source="support", email=" Alice@Example.COM ", topic="billing", case_id="case-A1")
    a("a3f", ta3 + 30 * 60_000 * MS, "reauth", "chat", customer_id="C100")           # in [t2, t2+30 min]: friction
    a("a4", ta3 + 7 * D, "contact", "phone", source="support", phone="+4470000 00001", topic="billing")  # repeat (=7 d)
    a("a5", ta3 + 14 * D + MS, "contact", "chat", source="support", customer_id="C100", topic="billing")  # 7 d + 1 ms: not
    # B: journey gaps exactly 48 h (same journey) and 48 h + 1 ms (new journey); friction window edges
    tb1 = T0 + 2 * D + 12 * H
    a("b1", tb1, "page_view", "web", source="web", customer_id="C200")
    a("b2", tb1 + 48 * H, "contact", "phone", source="support", customer_id="C200", topic="order")  # web→phone ok
    tb3 = tb1 + 96 * H + MS
    a("b3", tb3, "contact", "email", source="support", customer_id="C200", topic="order")  # new journey; repeat
    tb4 = tb3 + H
    a("b4f", tb4 - MS, "transfer", "email", "outbound", customer_id="C200")  # before t2: irrelevant
    a("b4", tb4, "page_view", "app", source="app", customer_id="C200")      # email→app
    a("b4g", tb4 + 30 * 60_000 * MS + MS, "repeat_info", "app", customer_id="C200",
      attrs={"field": "address"})                                         # 30 min + 1 ms: outside → frictionless
    a("b5", tb4 + 2 * H, "message", "email", "outbound", source="commerce", customer_id="C200",
      attrs={"kind": "service"})
    a("b6", tb4 + 3 * H, "login", "app", source="app", customer_id="C200")  # app→app: no transition
    a("b7", tb4 + 4 * H, "repeat_info", "app", customer_id="C200", attrs={"field": "order_id"})  # not a touch
    tb8 = tb4 + 5 * H
    a("b8", tb8, "contact", "chat", source="support", customer_id="C200", topic="tech")  # app→chat
    a("b9", tb8, "transfer", "chat", "outbound", customer_id="C200")        # exactly at t2: friction
    # C: two customer ids joined by a shared device; same-ms touches ordered by event_id; empty/missing topic
    tc = T0 + 3 * D + 8 * H
    a("c1", tc, "login", "web", source="web", customer_id="C301", anonymous_id="a-C")
    a("c2", tc, "login", "app", source="app", customer_id="C300", anonymous_id="a-C")   # web→app at the same ms
    a("c3", tc + H, "contact", "chat", source="support", customer_id="C301")             # topic missing
    a("c4", tc + H, "contact", "phone", source="support", customer_id="C300", topic="")  # '' = missing: repeat (Δ=0)
    a("c5", tc + 2 * H, "contact", "chat", source="support", customer_id="C300", topic="unknown")  # repeat
    a("c6", tc + 3 * H, "survey", "email", source="survey", customer_id="C300", attrs={"ces": "5"})
    a("c7", tc + 4 * H, "survey", "sms", source="survey", customer_id="C301", attrs={"ces": "4"})
    a("c8", tc + 5 * H, "survey", "email", source="survey", anonymous_id="a-C", attrs={"ces": "7"})
    a("c9", tc + 6 * H, "survey", "email", source="survey", customer_id="C300", attrs={"ces": "1"})
    # D: incident windows
    td = T0 + 5 * D + 12 * H
    a("d0", T0 + 4 * H, "signup", "web", customer_id="C400", email="dora@example.com", phone="+447000000004")
    a("d1", td, "purchase", "web", source="commerce", customer_id="C400",
      attrs={"product": "tv-plus", "order_id": "ord-d1", "amount": "25.00"})
    promo = {"kind": "promo"}
    a("d2", td + 14 * D, "message", "email", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "tv-plus"})                                 # exactly 14 d: incident
    a("d3", td + 14 * D + MS, "message", "sms", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "tv-plus"})                                 # 14 d + 1 ms: none
    a("d4", td, "message", "email", "outbound", source="marketing", email="DORA@example.com",
      attrs=promo | {"product": "tv-plus"})                                 # same ms as the purchase: incident
    a("d5", td + D, "message", "email", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "router-x"})                                # other product: none
    a("d6", T0 + 6 * D, "purchase", "store", source="commerce", phone="+44 7000 000004",
      attrs={"product": "smartwatch", "order_id": "ord-d6", "amount": "249.00"})  # buyer known by phone only
    a("d7", T0 + 7 * D, "message", "sms", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "smartwatch"})                              # incident (identity)
    t8 = T0 + 10 * D + 10 * H
    a("d8", t8, "contact", "chat", source="support", customer_id="C400", topic="complaint", case_id="case-D1")
    a("d9", t8, "message", "email", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "fiber-500"})                               # case opened at the same ms: incident
    a("d10", t8 + D, "resolution", "chat", "outbound", source="support", customer_id="C400", case_id="case-D1",
      topic="complaint")
    a("d11", t8 + D, "message", "email", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "device-care"})                             # resolved at the same ms: none
    a("d12", T0 + 12 * D, "contact", "phone", source="support", customer_id="C400", topic="billing", case_id="case-D2")
    a("d13", T0 + 12 * D + H, "message", "email", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "device-care"})                             # billing case: none
    a("d14", T0 + 13 * D, "contact", "chat", source="support", customer_id="C400", topic="complaint", case_id="case-D3")
    a("d14b", T0 + 19 * D, "contact", "chat", source="support", customer_id="C400", topic="complaint",
      case_id="case-D4")
    a("d15", T0 + 20 * D, "message", "sms", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "device-care"})                             # two open cases: one incident
    a("d16", T0 + 21 * D, "message", "sms", "outbound", source="marketing", customer_id="C400",
      attrs=promo | {"product": "device-care"})                             # another incident
    # E: contradictory status windows
    te = T0 + 4 * D + 10 * H
    tx = {"kind": "transactional"}
    a("e1", te, "message", "email", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-1", "status": "shipped"})
    a("e2", te + 24 * H, "message", "sms", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-1", "status": "cancelled"})              # exactly 24 h: incident
    a("e3", te + 24 * H + MS, "message", "sms", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-1", "status": "cancelled"})              # vs e1 24 h + 1 ms; vs e2 same channel
    a("e4", T0 + 6 * D, "message", "email", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-2", "status": "shipped"})
    a("e5", T0 + 6 * D + H, "message", "email", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-2", "status": "delivered"})              # same channel: none
    a("e6", T0 + 8 * D, "message", "email", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-3", "status": "shipped"})
    a("e7", T0 + 8 * D + H, "message", "sms", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-3", "status": "shipped"})                # same status: none
    t9 = T0 + 9 * D
    a("e8", t9, "message", "email", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-4", "status": "shipped"})
    a("e9", t9, "message", "sms", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-4", "status": "cancelled"})              # same ms: one incident (later id)
    a("e10", t9 + H, "message", "app", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-4", "status": "delivered"})              # incident
    a("e11", T0 + 11 * D, "message", "email", "outbound", source="commerce", customer_id="C500",
      attrs=tx | {"subject": "ord-5", "status": "shipped"})
    a("e12", T0 + 11 * D + H, "message", "sms", "outbound", source="commerce", customer_id="C100",
      attrs=tx | {"subject": "ord-5", "status": "cancelled"})              # other customer: none
    # F: the period boundary; a repeat whose first contact is before the period
    a("f_pre", T0 - 2 * D, "contact", "chat", source="support", customer_id="C600", topic="tech")
    a("f_in", T0 + D, "contact", "chat", source="support", customer_id="C600", topic="tech")  # repeat, 3 d
    a("f0", END - H, "page_view", "web", source="web", customer_id="C600")
    a("f1", END - MS, "contact", "chat", source="support", customer_id="C600", topic="account")  # web→chat in period
    a("f1r", END + 10 * 60_000 * MS, "reauth", "chat", customer_id="C600")     # friction after the period end
    a("f2", END, "contact", "phone", source="support", customer_id="C600", topic="account")  # outside
    # G: outbound only in the period → not active; H: anonymous only; I: repeat_info only
    a("g1", T0 + 2 * D, "message", "email", "outbound", source="marketing", customer_id="C700",
      attrs={"kind": "promo", "product": "tv-plus"})
    a("h1", T0 + 2 * D + 5 * H, "page_view", "web", source="web", anonymous_id="a-H")
    a("i1", T0 + 2 * D + 6 * H, "page_view", "web", source="web", customer_id="C800")
    a("i2", T0 + 2 * D + 7 * H, "repeat_info", "web", customer_id="C800", attrs={"field": "address"})
    # J: journeys split over all events: an outbound message keeps a 80 h span in one journey
    tj = T0 + 15 * D + 9 * H
    a("j1", tj, "page_view", "web", source="web", customer_id="C900")
    a("j2", tj + 40 * H, "message", "email", "outbound", source="crm", customer_id="C900",
      attrs={"kind": "service"})
    a("j3", tj + 80 * H, "contact", "chat", source="support", customer_id="C900", topic="order")  # web→chat
    # freshness: negative lags; a source-hour whose p95 is exactly 300 s, one just above
    th = T0 + 16 * D + 3 * H
    a("k1", th, "page_view", "web", source="edge", customer_id="C910", lag=timedelta(seconds=300))
    a("k2", th + H, "page_view", "web", source="edge", customer_id="C910", lag=timedelta(seconds=300) + MS)
    a("k3", th + 2 * H, "page_view", "web", source="edge", customer_id="C910", lag=-timedelta(seconds=2))
    a("k4", th + 2 * H + MS, "page_view", "web", source="edge", customer_id="C910", lag=-MS)
    a("k5", th + 2 * H + 2 * MS, "page_view", "web", source="edge", customer_id="C910", lag=timedelta(0))
    for i in range(40):  # enough spread for quantiles
        a(f"l{i}", T0 + 17 * D + i * 7 * 60_000 * MS, "page_view", "app", source="app", customer_id="C920",
          lag=timedelta(milliseconds=137 * i * i))
    # R: retention landmarks (first event T0 + 1 h, landmark T0 + 30 d + 1 h; end of data = the last event)
    t1 = T0 + H
    lm = t1 + 30 * D
    a("r1a", t1, "page_view", "web", source="web", customer_id="C950")
    a("r1b", t1 + H, "repeat_info", "web", customer_id="C950", attrs={"field": "address"})  # frictioned
    a("r1c", lm + 10 * D, "churn", "web", customer_id="C950")                            # churned after 10 d
    a("r1d", lm + 12 * D, "churn", "phone", customer_id="C950")                          # a second churn
    a("r2a", t1, "page_view", "web", source="web", customer_id="C951")
    a("r2b", lm, "churn", "web", customer_id="C951")                                     # at the landmark
    a("r3a", t1, "page_view", "web", source="web", customer_id="C952")
    a("r3b", lm, "repeat_info", "web", customer_id="C952", attrs={"field": "address"})  # at the landmark
    a("r4a", t1, "page_view", "app", source="app", customer_id="C953")                   # seamless, censored
    a("r5a", t1, "page_view", "app", source="app", customer_id="C954")
    a("r5b", lm + 20 * D, "churn", "store", customer_id="C954")                          # seamless, churned
    a("r6a", t1 + 2 * H, "page_view", "web", source="web", customer_id="C956")
    a("r6b", t1 + 3 * H, "contact", "chat", source="support", customer_id="C956", topic="tech")
    a("r6c", t1 + 4 * D, "contact", "phone", source="support", customer_id="C956", topic="tech")  # repeat: frictioned
    a("r6d", lm + 5 * D, "churn", "web", customer_id="C956")
    # end of data: 61 days after the landmark's day, so survival at 60 d is
    # observed; in the past, as SPEC §1 quarantines times after load time + 1 day
    a("r9", END + 61 * D, "page_view", "web", source="web", customer_id="C955")
    rows = r.rows
    rows.append(dict(rows[1]))  # a duplicate line: loads keep one copy
    return rows


def write(path: Path, rows: list[dict] | None = None) -> Path:
    rows = events() if rows is None else rows
    path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in rows), encoding="utf-8")
    return path


if __name__ == "__main__":
    import sys

    write(Path(sys.argv[1] if len(sys.argv) > 1 else "edge_events.jsonl"))
