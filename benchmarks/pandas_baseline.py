"""An independent, straightforward pandas implementation of the SPEC §3 period KPIs.

It reads a raw events file (JSON Lines, optionally gzipped) or takes a
DataFrame, resolves identities with ``scipy.sparse.csgraph`` and computes the
SPEC §5 ``metrics --json`` keys for a period ``[start, end)``.  It shares no
code with Seamline (only the SPEC), so it doubles as a cross-check of the SQL:
``compare(seamline_metrics, pandas_metrics)`` lists every disagreement.

Definitions (SPEC §3, with the choices the SPEC leaves open written down):

- identity: connected components of typed identifiers (customer_id,
  anonymous_id, email trimmed + lower-cased, phone = leading '+' + digits)
  that appear on one event; key = smallest customer_id, else smallest
  identifier.  Hashing does not change the partition, so it is skipped.
- freshness: lag = ingested_at - occurred_at (s), negatives clipped to 0 and
  counted as skewed; p50/p95/p99 = numpy linear interpolation; per
  source-hour p95 (linear) <= target (300 s) for ``slo_met_rate``.
- continuity: a customer's events sorted by (occurred_at, event_id) split into
  journeys at gaps > 48 h; touches = inbound events except repeat_info/reauth;
  a transition = consecutive touches of a journey on different channels,
  attributed to the second touch's time; frictionless = no repeat_info, reauth
  or transfer of the customer in [t2, t2 + 30 min] (closed).
- silence: repeat contact = previous contact of the same customer and topic
  (missing -> 'unknown') with 0 <= dt <= 7 d (ties ordered by event_id);
  active customers = >= 1 inbound event on a UTC day of the period.
- effort: survey events; ces = attrs.ces; easy = ces >= 5.
- incidents: promo_after_purchase (promo of P within [purchase of P,
  purchase + 14 d]); promo_during_open_complaint (a case opened by a
  complaint-topic contact at or before the promo, with no resolution of that
  case_id at or before it); contradictory_status (outbound messages of the
  customer with the same subject, different status, different channels,
  within 24 h closed; one incident per later message).
- retention: landmark = first event + 30 d; cohort = first event in the
  period; present at the landmark = landmark <= end of data and no churn at or
  before it; frictioned = a non-frictionless transition, repeat contact or
  repeat_info in [first, landmark); time = landmark -> first churn after it,
  else censored at the end of data (last occurred_at); KM at 30/60/90 d
  (carried forward past the last follow-up), log-rank p (scipy).

CLI: ``python benchmarks/pandas_baseline.py EVENTS.jsonl.gz --from 2026-09-01
--to 2026-11-30 [--json-out PATH]`` prints/writes ``{"metrics", "seconds",
"peak_rss_mb", "events"}``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MS = 1
SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR


class Params:
    journey_gap_ms = 48 * HOUR
    friction_ms = 30 * MIN
    repeat_ms = 7 * DAY
    landmark_days = 30
    easy_min = 5
    slo_target_s = 300.0
    promo_after_purchase_ms = 14 * DAY
    contradiction_ms = 24 * HOUR


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
def read_events(path: str | Path) -> pd.DataFrame:
    """Read a JSONL(.gz) events file into a DataFrame (strings, attrs as dicts)."""
    df = pd.read_json(path, lines=True, dtype=False, convert_dates=False, compression="infer")
    return df


def _ms(series: pd.Series) -> np.ndarray:
    t = pd.to_datetime(series, utc=True, format="ISO8601")
    return t.values.astype("datetime64[ms]").astype(np.int64)


def _str(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series([None] * len(df), index=df.index, dtype=object)
    s = df[col]
    return s.where(s.notna() & (s.astype(str) != ""), None)


def _attr(attrs: pd.Series, key: str) -> np.ndarray:
    return np.array([a.get(key) if isinstance(a, dict) else None for a in attrs.tolist()], dtype=object)


def prepare(raw: pd.DataFrame) -> pd.DataFrame:
    """Typed working frame: times in epoch ms, normalised identifiers, used attrs."""
    df = pd.DataFrame({"event_id": raw["event_id"].astype(str).to_numpy()})
    df["t"] = _ms(raw["occurred_at"])
    if "ingested_at" in raw.columns:
        ing = raw["ingested_at"]
        now = int(time.time() * 1000)
        df["ing"] = np.where(ing.notna(), _ms(ing.fillna("1970-01-01T00:00:00Z")), now)
    else:
        df["ing"] = int(time.time() * 1000)
    for c in ("source", "channel", "direction", "type"):
        df[c] = raw[c].astype(str).to_numpy()
    df["customer_id"] = _str(raw, "customer_id").to_numpy()
    df["anonymous_id"] = _str(raw, "anonymous_id").to_numpy()
    email = _str(raw, "email")
    df["email"] = email.str.strip().str.lower().to_numpy()
    phone = _str(raw, "phone")
    p = phone.str.strip()
    digits = p.str.replace(r"[^0-9]", "", regex=True)
    df["phone"] = np.where(p.notna(), np.where(p.str.startswith("+").to_numpy(dtype=object) == True, "+", "") + digits.fillna(""),  # noqa: E712
                           None)
    df.loc[df["phone"].isin(["", "+"]), "phone"] = None
    topic = _str(raw, "topic")
    df["topic"] = topic.to_numpy()
    df["case_id"] = _str(raw, "case_id").to_numpy()
    attrs = raw["attrs"] if "attrs" in raw.columns else pd.Series([None] * len(raw))
    for k in ("kind", "product", "subject", "status", "ces"):
        df["a_" + k] = _attr(attrs, k)
    # SPEC §1: times outside [1970-01-01, load time + 1 day] are quarantined
    # (before deduplication: a rejected row does not claim its event_id)
    latest = int(time.time() * 1000) + 86_400_000
    df = df[(df["t"] >= 0) & (df["t"] <= latest) & (df["ing"] >= 0) & (df["ing"] <= latest)]
    # loads keep one copy of an event_id
    df = df.drop_duplicates("event_id", keep="first").reset_index(drop=True)
    return df


# ---------------------------------------------------------------------------
# Identity
# ---------------------------------------------------------------------------
def resolve_identity(df: pd.DataFrame) -> np.ndarray:
    """Resolved customer key per row (None for a row without identifiers)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows, idents = [], []
    for prefix, col in (("c", "customer_id"), ("a", "anonymous_id"), ("e", "email"), ("p", "phone")):
        s = df[col]
        m = s.notna().to_numpy()
        rows.append(np.nonzero(m)[0])
        idents.append((prefix + ":" + s[m].astype(str)).to_numpy())
    rows_a = np.concatenate(rows)
    ids_a = np.concatenate(idents)
    codes, uniques = pd.factorize(ids_a)
    k = len(uniques)
    # connect every identifier of a row to the row's first identifier
    first = pd.Series(codes).groupby(rows_a).transform("first").to_numpy()
    g = coo_matrix((np.ones(codes.size, dtype=np.int8), (codes, first)), shape=(k, k))
    _, labels = connected_components(g, directed=False)
    uniq = pd.Series(np.asarray(uniques, dtype=object))
    comp = pd.DataFrame({"comp": labels, "ident": uniq, "is_cid": uniq.str.startswith("c:")})
    cid_min = comp[comp["is_cid"]].groupby("comp")["ident"].min()
    any_min = comp.groupby("comp")["ident"].min()
    key = any_min.copy()
    key.loc[cid_min.index] = cid_min
    key = key.str.slice(2).where(key.index.isin(cid_min.index), key)  # customer ids without prefix
    key_of_code = key.reindex(labels).to_numpy()
    out = np.full(len(df), None, dtype=object)
    first_code_per_row = pd.Series(codes).groupby(rows_a).first()
    out[first_code_per_row.index.to_numpy()] = key_of_code[first_code_per_row.to_numpy()]
    return out


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------
def _utc_ms(value: date | datetime | str) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(round(value.timestamp() * 1000))


def _rate(num, den):
    return None if not den else float(num) / float(den)


def freshness(df: pd.DataFrame, start: int, end: int, p: Params) -> dict[str, Any]:
    m = (df["t"] >= start) & (df["t"] < end)
    d = df.loc[m, ["t", "ing", "source"]]
    lag_ms = (d["ing"] - d["t"]).to_numpy()
    lag = np.maximum(lag_ms, 0) / 1000.0
    out: dict[str, Any] = {"events": int(lag.size), "skewed": int((lag_ms < 0).sum()),
                           "p50_s": None, "p95_s": None, "p99_s": None, "slo_met_rate": None}
    if lag.size:
        q = np.percentile(lag, [50, 95, 99])
        out["p50_s"], out["p95_s"], out["p99_s"] = (float(x) for x in q)
        sh = pd.DataFrame({"source": d["source"].to_numpy(), "hour": d["t"].to_numpy() // HOUR, "lag": lag})
        p95 = sh.groupby(["source", "hour"])["lag"].quantile(0.95)
        out["source_hours"] = int(p95.size)
        out["source_hours_met"] = int((p95 <= p.slo_target_s).sum())
        out["slo_met_rate"] = _rate(out["source_hours_met"], out["source_hours"])
    return out


def transitions(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    """All transitions of the data: customer, t (second touch), from, to, frictionless."""
    ev = df.loc[df["customer"].notna(), ["customer", "t", "event_id", "channel", "direction", "type"]]
    ev = ev.sort_values(["customer", "t", "event_id"], kind="mergesort")
    cust = ev["customer"].to_numpy()
    t = ev["t"].to_numpy()
    new = np.ones(len(ev), dtype=bool)
    if len(ev) > 1:
        new[1:] = (cust[1:] != cust[:-1]) | (t[1:] - t[:-1] > p.journey_gap_ms)
    ev = ev.assign(journey=np.cumsum(new))
    touch = ev[(ev["direction"] == "inbound") & ~ev["type"].isin(["repeat_info", "reauth"])]
    j = touch["journey"].to_numpy()
    ch = touch["channel"].to_numpy()
    same = np.zeros(len(touch), dtype=bool)
    if len(touch) > 1:
        same[1:] = (j[1:] == j[:-1]) & (ch[1:] != ch[:-1])
    prev_ch = np.empty(len(touch), dtype=object)
    if len(touch) > 1:
        prev_ch[1:] = ch[:-1]
    tr = pd.DataFrame({"customer": touch["customer"].to_numpy()[same], "t": touch["t"].to_numpy()[same],
                       "from": prev_ch[same], "to": ch[same]})
    fr = df.loc[df["type"].isin(["repeat_info", "reauth", "transfer"]) & df["customer"].notna(), ["customer", "t"]]
    fr = fr.rename(columns={"t": "tf"}).sort_values("tf", kind="mergesort")
    if tr.empty:
        return tr.assign(frictionless=pd.Series(dtype=bool))
    left = tr.reset_index(drop=True).reset_index().sort_values("t", kind="mergesort")
    if fr.empty:
        left["tf"] = np.nan
        merged = left
    else:
        merged = pd.merge_asof(left, fr, left_on="t", right_on="tf", by="customer", direction="forward",
                               allow_exact_matches=True)
    merged["frictionless"] = merged["tf"].isna() | (merged["tf"] - merged["t"] > p.friction_ms)
    return merged.sort_values("index").drop(columns=["index", "tf"]).reset_index(drop=True)


def continuity(tr: pd.DataFrame, start: int, end: int) -> dict[str, Any]:
    m = (tr["t"] >= start) & (tr["t"] < end)
    n = int(m.sum())
    ok = int(tr.loc[m, "frictionless"].sum())
    return {"transitions": n, "frictionless": ok, "rate": _rate(ok, n)}


def contacts(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    c = df.loc[(df["type"] == "contact") & df["customer"].notna(), ["customer", "t", "event_id", "topic"]].copy()
    c["topic"] = c["topic"].fillna("unknown")
    c = c.sort_values(["customer", "topic", "t", "event_id"], kind="mergesort")
    cu, tp, t = c["customer"].to_numpy(), c["topic"].to_numpy(), c["t"].to_numpy()
    rep = np.zeros(len(c), dtype=bool)
    if len(c) > 1:
        rep[1:] = (cu[1:] == cu[:-1]) & (tp[1:] == tp[:-1]) & (t[1:] - t[:-1] <= p.repeat_ms)
    c["repeat"] = rep
    return c


def silence(df: pd.DataFrame, con: pd.DataFrame, start: int, end: int) -> dict[str, Any]:
    day = df["t"] // DAY
    sd, ed = start // DAY, end // DAY  # UTC days [date(start), date(end))
    inday = (day >= sd) & (day < ed) & df["customer"].notna()
    active = set(df.loc[inday & (df["direction"] == "inbound"), "customer"].unique())
    cday = con["t"] // DAY
    cp = con[(cday >= sd) & (cday < ed)]
    n_contacts = int(len(cp))
    n_repeat = int(cp["repeat"].sum())
    with_contact = set(cp["customer"].unique())
    with_repeat = set(cp.loc[cp["repeat"], "customer"].unique())
    with_ri = set(df.loc[inday & (df["type"] == "repeat_info"), "customer"].unique())
    a = len(active)
    no_contact = len(active - with_contact)
    silent = len(active - with_repeat - with_ri)
    return {
        "active_customers": a,
        "contacts": n_contacts,
        "repeat_contacts": n_repeat,
        "repeat_contact_rate": _rate(n_repeat, n_contacts),
        "no_contact_rate": _rate(no_contact, a),
        "silence_rate": _rate(silent, a),
        "contacts_per_100_customers": None if not a else 100.0 * n_contacts / a,
    }


def effort(df: pd.DataFrame, start: int, end: int, p: Params) -> dict[str, Any]:
    s = df[(df["type"] == "survey") & (df["t"] >= start) & (df["t"] < end) & df["a_ces"].notna()]
    ces = pd.to_numeric(s["a_ces"], errors="coerce").dropna()
    ces = ces[(ces >= 1) & (ces <= 7)]
    n = int(len(ces))
    return {"responses": n, "ces_mean": float(ces.mean()) if n else None,
            "ces_easy_rate": _rate(int((ces >= p.easy_min).sum()), n)}


def incidents(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    """All incidents of the data: rule, customer, at, message event_id."""
    out = []
    has = df["customer"].notna()
    msgs = df[has & (df["type"] == "message") & (df["direction"] == "outbound")]
    promos = msgs[msgs["a_kind"] == "promo"][["customer", "t", "event_id", "a_product"]]
    # promo_after_purchase
    pur = df[has & (df["type"] == "purchase") & df["a_product"].notna()][["customer", "t", "a_product"]]
    pp = promos[promos["a_product"].notna()]
    if len(pp) and len(pur):
        left = pp.sort_values("t", kind="mergesort")
        right = pur.rename(columns={"t": "tp"}).sort_values("tp", kind="mergesort")
        m = pd.merge_asof(left, right, left_on="t", right_on="tp", by=["customer", "a_product"],
                          direction="backward", allow_exact_matches=True)
        hit = m[m["tp"].notna() & (m["t"] - m["tp"] <= p.promo_after_purchase_ms)]
        out.append(pd.DataFrame({"rule": "promo_after_purchase", "customer": hit["customer"], "at": hit["t"],
                                 "event_id": hit["event_id"]}))
    # promo_during_open_complaint
    opened = df[has & (df["type"] == "contact") & (df["topic"] == "complaint") & df["case_id"].notna()]
    opened = opened.groupby(["customer", "case_id"], as_index=False)["t"].min().rename(columns={"t": "t_open"})
    res = df[has & (df["type"] == "resolution") & df["case_id"].notna()]
    res = res.groupby(["customer", "case_id"], as_index=False)["t"].min().rename(columns={"t": "t_res"})
    cases = opened.merge(res, on=["customer", "case_id"], how="left")
    if len(promos) and len(cases):
        j = promos.merge(cases, on="customer")
        open_now = (j["t_open"] <= j["t"]) & (j["t_res"].isna() | (j["t_res"] > j["t"]))
        hit = j[open_now].drop_duplicates("event_id")
        out.append(pd.DataFrame({"rule": "promo_during_open_complaint", "customer": hit["customer"], "at": hit["t"],
                                 "event_id": hit["event_id"]}))
    # contradictory_status
    st = msgs[msgs["a_subject"].notna() & msgs["a_status"].notna()][
        ["customer", "t", "event_id", "channel", "a_subject", "a_status"]]
    if len(st):
        j = st.merge(st, on=["customer", "a_subject"], suffixes=("", "_e"))
        later = (j["t"] > j["t_e"]) | ((j["t"] == j["t_e"]) & (j["event_id"] > j["event_id_e"]))
        hit = j[later & (j["t"] - j["t_e"] <= p.contradiction_ms) & (j["channel"] != j["channel_e"])
                & (j["a_status"] != j["a_status_e"])].drop_duplicates("event_id")
        out.append(pd.DataFrame({"rule": "contradictory_status", "customer": hit["customer"], "at": hit["t"],
                                 "event_id": hit["event_id"]}))
    if not out:
        return pd.DataFrame(columns=["rule", "customer", "at", "event_id"])
    return pd.concat(out, ignore_index=True)


RULES = ("promo_after_purchase", "promo_during_open_complaint", "contradictory_status")


def incidents_summary(inc: pd.DataFrame, start: int, end: int) -> dict[str, Any]:
    m = inc[(inc["at"] >= start) & (inc["at"] < end)]
    by_rule = {r: int((m["rule"] == r).sum()) for r in RULES}
    return {"total": sum(by_rule.values()), "by_rule": by_rule}


def _km_at(durations: np.ndarray, events: np.ndarray, t: float) -> float | None:
    if durations.size == 0:
        return None
    s = 1.0
    for u in np.unique(durations[events]):
        if u > t:
            break
        at_risk = int((durations >= u).sum())
        d = int(((durations == u) & events).sum())
        s *= 1.0 - d / at_risk
    return s


def retention(df: pd.DataFrame, tr: pd.DataFrame, con: pd.DataFrame, start: int, end: int,
              p: Params) -> dict[str, Any]:
    ev = df[df["customer"].notna()]
    eod = int(df["t"].max())
    first = ev.groupby("customer")["t"].min().rename_axis(None)
    cohort = first[(first >= start) & (first < end)]
    landmark = cohort + p.landmark_days * DAY
    churn = ev[ev["type"] == "churn"][["customer", "t"]]
    c = pd.DataFrame({"first": cohort, "landmark": landmark})
    c = c[c["landmark"] <= eod]
    ch = churn.merge(c[["landmark"]], left_on="customer", right_index=True).reset_index(drop=True)
    before = set(ch.loc[ch["t"] <= ch["landmark"], "customer"])
    c = c[~c.index.isin(before)]
    after = ch[ch["t"] > ch["landmark"]].groupby("customer")["t"].min()
    c["churn_t"] = after.reindex(c.index)
    # friction in the first 30 days
    win = c[["first", "landmark"]]

    def flagged(frame: pd.DataFrame) -> set:
        f = frame.merge(win, left_on="customer", right_index=True).reset_index(drop=True)
        return set(f.loc[(f["t"] >= f["first"]) & (f["t"] < f["landmark"]), "customer"])

    fr = flagged(tr.loc[~tr["frictionless"], ["customer", "t"]]) | flagged(con.loc[con["repeat"], ["customer", "t"]]) \
        | flagged(ev.loc[ev["type"] == "repeat_info", ["customer", "t"]])
    c["frictioned"] = c.index.isin(fr)
    c["churned"] = c["churn_t"].notna()
    c["dur"] = (c["churn_t"].fillna(eod) - c["landmark"]) / DAY
    out: dict[str, Any] = {"landmark_days": p.landmark_days, "logrank_p": None, "segments": {}}
    parts = {}
    for seg, mask in (("seamless", ~c["frictioned"]), ("frictioned", c["frictioned"])):
        part = c[mask]
        d, e = part["dur"].to_numpy(float), part["churned"].to_numpy(bool)
        entry = {"customers": int(len(part)), "churned": int(e.sum())}
        for day in (30, 60, 90):
            entry[f"survival_{day}"] = _km_at(d, e, float(day))
        out["segments"][seg] = entry
        parts[seg] = (d, e)
    (da, ea), (db, eb) = parts["seamless"], parts["frictioned"]
    if da.size and db.size and (ea.any() or eb.any()):
        from scipy import stats

        r = stats.logrank(stats.CensoredData(uncensored=da[ea], right=da[~ea]),
                          stats.CensoredData(uncensored=db[eb], right=db[~eb]))
        out["logrank_p"] = float(r.pvalue)
    return out


class Prepared:
    """Everything period-independent: typed events with customers, transitions, contacts, incidents."""

    def __init__(self, events: pd.DataFrame | str | Path, params: Params | None = None):
        self.p = params or Params()
        raw = read_events(events) if isinstance(events, (str, Path)) else events
        df = prepare(raw)
        del raw
        df["customer"] = resolve_identity(df)
        self.df = df
        self.tr = transitions(df, self.p)
        self.con = contacts(df, self.p)
        self.inc = incidents(df, self.p)

    def metrics(self, start, end, with_retention: bool = True) -> dict[str, Any]:
        s, e, p, df = _utc_ms(start), _utc_ms(end), self.p, self.df
        out = {
            "freshness": freshness(df, s, e, p),
            "continuity": continuity(self.tr, s, e),
            "silence": silence(df, self.con, s, e),
            "effort": effort(df, s, e, p),
            "incidents": incidents_summary(self.inc, s, e),
        }
        if with_retention:
            out["retention"] = retention(df, self.tr, self.con, s, e, p)
        return out


def compute(events: pd.DataFrame | str | Path, start, end, params: Params | None = None,
            with_retention: bool = True) -> dict[str, Any]:
    """Period metrics (SPEC §5 keys) from raw events (a file path or a raw DataFrame)."""
    return Prepared(events, params).metrics(start, end, with_retention)


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------
COUNTS = [
    "freshness.events", "freshness.skewed",
    "continuity.transitions", "continuity.frictionless",
    "silence.active_customers", "silence.contacts", "silence.repeat_contacts",
    "effort.responses",
    "incidents.total", "incidents.by_rule.promo_after_purchase",
    "incidents.by_rule.promo_during_open_complaint", "incidents.by_rule.contradictory_status",
    "retention.segments.seamless.customers", "retention.segments.seamless.churned",
    "retention.segments.frictioned.customers", "retention.segments.frictioned.churned",
]
RATES = [
    "freshness.slo_met_rate", "continuity.rate",
    "silence.repeat_contact_rate", "silence.no_contact_rate", "silence.silence_rate",
    "silence.contacts_per_100_customers",
    "effort.ces_mean", "effort.ces_easy_rate",
    "retention.segments.seamless.survival_30", "retention.segments.seamless.survival_60",
    "retention.segments.seamless.survival_90", "retention.segments.frictioned.survival_30",
    "retention.segments.frictioned.survival_60", "retention.segments.frictioned.survival_90",
]
QUANTILES = ["freshness.p50_s", "freshness.p95_s", "freshness.p99_s"]
PVALUES = ["retention.logrank_p"]  # within 1e-6 (absolute)


def _get(d: dict, path: str):
    cur: Any = d
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return KeyError
        cur = cur[part]
    return cur


def compare(seamline: dict, pandas_m: dict, rate_tol: float = 1e-9, quantile_rel_tol: float = 0.02,
            exact_quantile_tol: float = 1e-6, rounding: float = 5e-4) -> list[dict[str, Any]]:
    """Mismatches between Seamline's ``period_metrics`` and ``compute``'s output.

    Counts must be equal; rates within ``rate_tol``; freshness quantiles within
    ``quantile_rel_tol`` (relative) when Seamline reports ``freshness.exact`` =
    False, else within ``exact_quantile_tol`` plus ``rounding`` (Seamline rounds
    quantiles to milliseconds).  Keys missing on the pandas side (e.g.
    retention skipped) are not compared.
    """
    out = []
    exact = bool((seamline.get("freshness") or {}).get("exact", True))

    def add(key, a, b, why):
        out.append({"key": key, "seamline": a, "pandas": b, "reason": why})

    for key in COUNTS + RATES + QUANTILES + PVALUES:
        b = _get(pandas_m, key)
        if b is KeyError:
            continue
        a = _get(seamline, key)
        if a is KeyError:
            add(key, None, b, "missing in Seamline output")
            continue
        if a is None or b is None:
            if not (a is None and b is None):
                add(key, a, b, "null on one side")
            continue
        if key in COUNTS:
            if int(a) != int(b):
                add(key, a, b, "count differs")
        elif key in PVALUES:
            if not math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=1e-6):
                add(key, a, b, f"p-value differs by {float(a) - float(b):.3g}")
        elif key in RATES:
            if not math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=rate_tol):
                add(key, a, b, f"differs by {float(a) - float(b):.3g}")
        else:
            a, b = float(a), float(b)
            if exact:
                ok = abs(a - b) <= exact_quantile_tol + rounding
            else:
                ok = abs(a - b) <= quantile_rel_tol * max(abs(b), 1e-9) + rounding
            if not ok:
                add(key, a, b, f"quantile differs ({'exact' if exact else 'approx'}; rel {abs(a - b) / max(abs(b), 1e-9):.3%})")
    return out


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
def peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024.0 * 1024.0) if sys.platform == "darwin" else r / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--from", dest="start", help="period start (with --to)")
    ap.add_argument("--to", dest="end")
    ap.add_argument("--period", action="append", default=[], help="FROM,TO (repeatable; metrics becomes a list)")
    ap.add_argument("--no-retention", action="store_true")
    ap.add_argument("--json-out")
    a = ap.parse_args(argv)
    periods = [tuple(x.split(",", 1)) for x in a.period]
    if a.start and a.end:
        periods.insert(0, (a.start, a.end))
    if not periods:
        ap.error("give --from/--to or --period")
    t0 = time.perf_counter()
    prep = Prepared(a.path)
    ms = [prep.metrics(periods[0][0], periods[0][1], with_retention=not a.no_retention)]
    secs = time.perf_counter() - t0
    ms += [prep.metrics(x, y, with_retention=not a.no_retention) for x, y in periods[1:]]
    total = time.perf_counter() - t0
    res = {"metrics": ms if a.period else ms[0], "seconds": round(secs, 3), "seconds_total": round(total, 3),
           "peak_rss_mb": round(peak_rss_mb(), 1), "events": int(len(prep.df))}
    text = json.dumps(res, indent=2, default=str)
    if a.json_out:
        Path(a.json_out).write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
