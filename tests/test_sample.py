"""Tests for the synthetic event generator (seamline.sample)."""
from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seamline.sample import SampleResult, generate

RFC3339_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DIRECTION = {
    "page_view": "inbound", "session_start": "inbound", "login": "inbound", "contact": "inbound",
    "resolution": "outbound", "transfer": "outbound", "repeat_info": "inbound", "reauth": "inbound",
    "message": "outbound", "purchase": "inbound", "survey": "inbound", "signup": "inbound",
    "churn": "inbound", "identify": "inbound",
}
CHANNELS = {"web", "app", "email", "chat", "phone", "sms", "social", "store"}
SOURCES = {"crm", "web", "app", "support", "marketing", "commerce", "survey"}
START = datetime(2026, 9, 1, tzinfo=UTC)


def read_lines(path: Path) -> tuple[list[dict], int]:
    opener = gzip.open if str(path).endswith(".gz") else open
    rows, invalid = [], 0
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                invalid += 1
    return rows, invalid


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[SampleResult, pd.DataFrame, int]:
    out = tmp_path_factory.mktemp("s") / "events.jsonl.gz"
    res = generate(out, customers=1200, days=60, seed=11)
    rows, invalid = read_lines(out)
    return res, pd.DataFrame(rows), invalid


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[SampleResult, pd.DataFrame]:
    out = tmp_path_factory.mktemp("c") / "clean.jsonl"
    res = generate(out, customers=300, days=40, seed=3, bad_rows=False)
    rows, invalid = read_lines(out)
    assert invalid == 0
    return res, pd.DataFrame(rows)


def test_deterministic_bytes(tmp_path):
    a = generate(tmp_path / "a.jsonl.gz", customers=200, days=30, seed=5)
    b = generate(tmp_path / "b.jsonl.gz", customers=200, days=30, seed=5)
    c = generate(tmp_path / "c.jsonl.gz", customers=200, days=30, seed=6)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.path.read_bytes() != c.path.read_bytes()
    assert a.planted == b.planted
    assert (tmp_path / "a.planted.json").exists()


def test_result_and_planted_file(sample):
    res, df, invalid = sample
    assert res.customers == 1200
    assert res.start == START and res.end == START + timedelta(days=60)
    assert res.events == len(df) + invalid
    on_disk = json.loads(res.path.with_name("events.planted.json").read_text())
    assert on_disk == res.planted
    texts = [a["text"] for a in on_disk["annotations"]]
    assert "crm-sync v2.3 deploy" in texts
    for a in on_disk["annotations"]:
        assert RFC3339_MS.match(a["at"]) and a["source"]


def test_clean_output_is_valid_and_unique(clean):
    res, df = clean
    assert res.planted["bad_rows"] == 0 and res.planted["duplicate_rows"] == 0
    assert len(df) == res.events
    assert df["event_id"].is_unique
    assert df["source"].notna().all() and df["channel"].notna().all()
    assert set(df["source"]) <= SOURCES and set(df["channel"]) <= CHANNELS
    assert (df["type"].map(DIRECTION) == df["direction"]).all()
    ids = df[["customer_id", "anonymous_id", "email", "phone"]].notna().any(axis=1)
    assert ids.all()
    for col in ("occurred_at", "ingested_at"):
        assert df[col].str.match(RFC3339_MS).all()
    t = pd.to_datetime(df["occurred_at"], utc=True)
    assert t.min() >= pd.Timestamp(START) and t.max() < pd.Timestamp(START + timedelta(days=40))
    surveys = df[df["type"] == "survey"]
    ces = surveys["attrs"].map(lambda a: int(a["ces"]))
    assert ces.between(1, 7).all()
    # omitted, never empty
    for col in ("customer_id", "anonymous_id", "email", "phone", "topic", "case_id"):
        assert not (df[col] == "").any()


def test_coverage_of_types_channels_directions(sample):
    _, df, _ = sample
    good = df[df["direction"].isin(["inbound", "outbound"])]
    assert set(DIRECTION) <= set(good["type"])
    assert CHANNELS <= set(good["channel"])
    assert SOURCES <= set(good["source"].dropna())
    wrong = good[good["type"].map(DIRECTION) != good["direction"]]
    assert wrong.empty
    contacts = good[good["type"] == "contact"]
    assert contacts["topic"].notna().all() and contacts["case_id"].notna().all()
    assert set(contacts["channel"]) <= {"chat", "phone", "email", "social", "store"}
    # resolutions reuse the case id of a contact; some complaints stay open
    res_cases = set(good.loc[good["type"] == "resolution", "case_id"])
    assert res_cases <= set(contacts["case_id"])
    complaints = set(contacts.loc[contacts["topic"] == "complaint", "case_id"])
    assert complaints - res_cases
    msgs = good[good["type"] == "message"]["attrs"]
    assert {"promo", "service", "transactional"} <= {a["kind"] for a in msgs}
    purchases = good[good["type"] == "purchase"]["attrs"]
    assert all({"product", "order_id", "amount"} <= set(a) for a in purchases)
    rinfo = good[good["type"] == "repeat_info"]["attrs"]
    assert all("field" in a for a in rinfo)
    for a in good["attrs"].dropna():
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in a.items())


def test_identity_variants(sample):
    _, df, _ = sample
    only = lambda col: df[col].notna() & (df[["customer_id", "anonymous_id", "email", "phone"]].notna().sum(axis=1) == 1)  # noqa: E731
    assert only("anonymous_id").sum() > 0
    assert (only("email") & (df["type"] == "contact")).sum() > 0
    assert (only("phone") & (df["type"] == "contact")).sum() > 0
    links = df[df["type"].isin(["identify", "login"]) & df["customer_id"].notna() & df["anonymous_id"].notna()]
    assert len(links) > 0


def test_times_lags_and_ranges(sample):
    res, df, _ = sample
    ok = df["occurred_at"].str.match(RFC3339_MS)
    assert (~ok).sum() == res.planted["bad_rows_by_kind"]["bad_time"]
    d = df[ok]
    t = pd.to_datetime(d["occurred_at"], utc=True)
    assert t.min() >= pd.Timestamp(res.start) and t.max() < pd.Timestamp(res.end)
    lag = (pd.to_datetime(d["ingested_at"], utc=True) - t).dt.total_seconds()
    assert 0 < (lag < 0).mean() < 0.02
    med = lag.groupby(d["source"]).median()
    assert med["web"] < 10 and med["commerce"] < 30
    assert 10 < med["crm"] < 600 and 10 < med["support"] < 600
    assert med["survey"] > 1800


def test_bad_rows_and_duplicates_match_planted(sample):
    res, df, invalid = sample
    p = res.planted
    kinds = p["bad_rows_by_kind"]
    assert p["bad_rows"] >= 6 and all(v >= 1 for v in kinds.values())
    assert invalid == kinds["invalid_json"]
    assert df["source"].isna().sum() == kinds["missing_source"]
    assert (df["occurred_at"] == "yesterday").sum() == kinds["bad_time"]
    assert (df["direction"] == "sideways").sum() == kinds["unknown_direction"]
    surveys = df[df["type"] == "survey"]
    assert (surveys["attrs"].map(lambda a: a.get("ces")) == "9").sum() == kinds["ces_out_of_range"]
    no_id = df[["customer_id", "anonymous_id", "email", "phone"]].isna().all(axis=1)
    assert no_id.sum() == kinds["no_identifier"]
    assert p["bad_rows"] == sum(kinds.values())
    # duplicates are exact copies of a valid event
    dup = df[df.duplicated("event_id", keep="first")]
    assert len(dup) == p["duplicate_rows"] > 0
    full_dup = df.astype(str).duplicated(keep="first")
    assert full_dup.sum() == p["duplicate_rows"]
    assert len(df) + invalid == res.events
    assert p["valid_unique_events"] == res.events - p["bad_rows"] - p["duplicate_rows"]
    # bad rows are spread through the file, not all at the end
    positions = np.nonzero((df["direction"] == "sideways").to_numpy())[0]
    assert positions.size == 0 or positions.min() < len(df) * 0.9


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet(tmp_path, suffix):
    ref = generate(tmp_path / "ref.jsonl", customers=150, days=30, seed=9)
    res = generate(tmp_path / f"ev{suffix}", customers=150, days=30, seed=9)
    assert res.events == ref.events
    df = pd.read_csv(res.path, dtype=str) if suffix == ".csv" else pd.read_parquet(res.path)
    assert len(df) == res.events
    assert list(df.columns)[:7] == ["event_id", "occurred_at", "ingested_at", "source", "channel",
                                    "direction", "type"]
    assert (tmp_path / "ev.planted.json").exists()
    attrs = df["attrs"].dropna()
    parsed = 0
    for a in attrs:
        try:
            assert isinstance(json.loads(a), dict)
            parsed += 1
        except json.JSONDecodeError:
            pass
    assert parsed == len(attrs) - res.planted["bad_rows_by_kind"]["invalid_attrs_json"]
    ref_rows, _ = read_lines(ref.path)
    ref_ids = {r["event_id"] for r in ref_rows}
    assert set(df["event_id"]) <= ref_ids | set(df["event_id"][df["event_id"].str.contains("bad")])


def test_planted_latency_regression(sample):
    res, df, _ = sample
    p = res.planted["latency_regression"]
    assert p["source"] == "crm" and p["recovered"] is True
    d = df[(df["source"] == "crm") & df["occurred_at"].str.match(RFC3339_MS)]
    t = pd.to_datetime(d["occurred_at"], utc=True)
    lag = ((pd.to_datetime(d["ingested_at"], utc=True) - t).dt.total_seconds()).clip(lower=0)
    onset, rec = pd.Timestamp(p["onset"]), pd.Timestamp(p["recovered_at"])
    before = lag[t < onset].quantile(0.95)
    after = lag[(t >= onset) & (t < rec)].quantile(0.95)
    recovered = lag[t >= rec].quantile(0.95)
    assert after >= 3 * before
    assert recovered < 1.5 * before
    assert onset.hour == 14
    # other sources are unaffected
    w = df[(df["source"] == "web") & df["occurred_at"].str.match(RFC3339_MS)]
    tw = pd.to_datetime(w["occurred_at"], utc=True)
    lw = (pd.to_datetime(w["ingested_at"], utc=True) - tw).dt.total_seconds().clip(lower=0)
    assert lw[(tw >= onset) & (tw < rec)].quantile(0.95) < 2 * lw[tw < onset].quantile(0.95)


def _norm_email(e: str) -> str:
    return e.strip().lower()


def _norm_phone(p: str) -> str:
    return ("+" if p.strip().startswith("+") else "") + re.sub(r"\D", "", p)


def _resolved(df: pd.DataFrame) -> pd.DataFrame:
    """Events with a resolved customer key (simple one-hop identity resolution)."""
    d = df[df["direction"].isin(["inbound", "outbound"]) & df["source"].notna()
           & df["occurred_at"].str.match(RFC3339_MS)].drop_duplicates("event_id").copy()
    d["email_n"] = d["email"].dropna().map(_norm_email)
    d["phone_n"] = d["phone"].dropna().map(_norm_phone)
    key = d["customer_id"].copy()
    for col in ("anonymous_id", "email_n", "phone_n"):
        link = d.dropna(subset=["customer_id", col]).drop_duplicates(col).set_index(col)["customer_id"]
        key = key.fillna(d[col].map(link))
    d["cust"] = key
    d["t"] = pd.to_datetime(d["occurred_at"], utc=True)
    return d.dropna(subset=["cust"]).sort_values(["cust", "t"], kind="stable")


def test_planted_friction_hotspot(sample):
    res, df, _ = sample
    d = _resolved(df)
    touches = d[(d["direction"] == "inbound") & ~d["type"].isin(["repeat_info", "reauth"])].copy()
    fr = d[d["type"].isin(["repeat_info", "reauth", "transfer"])]
    prev_c = touches["cust"].shift()
    gap = touches["t"] - touches["t"].shift()
    same_journey = (touches["cust"] == prev_c) & (gap <= pd.Timedelta(hours=48))
    tr = touches[same_journey & (touches["channel"] != touches["channel"].shift())].copy()
    tr["from"] = touches["channel"].shift()[tr.index]
    # friction in the 30 minutes starting at the second touch
    fr_sorted = fr.sort_values("t")
    fr_times = {c: g["t"].dt.tz_localize(None).to_numpy() for c, g in fr_sorted.groupby("cust")}

    def frictionless(row) -> bool:
        ts = fr_times.get(row.cust)
        if ts is None:
            return True
        t0 = row.t.tz_localize(None).to_datetime64()
        i = np.searchsorted(ts, t0, side="left")
        return not (i < ts.size and ts[i] < t0 + np.timedelta64(30, "m"))

    tr["ok"] = [frictionless(r) for r in tr.itertuples()]
    hot = tr[(tr["from"] == "chat") & (tr["channel"] == "phone")]
    other = tr[~((tr["from"] == "chat") & (tr["channel"] == "phone"))]
    assert len(hot) >= 100
    assert hot["ok"].mean() < 0.5
    assert other["ok"].mean() > 0.75
    assert other["ok"].mean() - hot["ok"].mean() > 0.3
    p = res.planted["friction_hotspot"]
    assert (p["from"], p["to"]) == ("chat", "phone")
    assert abs(hot["ok"].mean() - p["frictionless_share"]) < 0.1


def test_planted_conflicting_messages(sample):
    res, df, _ = sample
    p = res.planted["conflicting_messages"]
    d = _resolved(df)
    msgs = d[d["type"] == "message"].copy()
    msgs["kind"] = msgs["attrs"].map(lambda a: a.get("kind"))
    msgs["product"] = msgs["attrs"].map(lambda a: a.get("product"))
    purchases = d[d["type"] == "purchase"].copy()
    purchases["product"] = purchases["attrs"].map(lambda a: a["product"])
    promos = msgs[msgs["kind"] == "promo"]
    m = promos.reset_index().merge(purchases[["cust", "product", "t"]], on=["cust", "product"],
                                   suffixes=("", "_p"))
    m = m[(m["t_p"] < m["t"]) & (m["t"] - m["t_p"] <= pd.Timedelta(days=14))]
    violating = m.drop_duplicates("event_id")
    assert len(violating) == p["promo_after_purchase"] > 10
    assert set(violating["t"].dt.strftime("%Y-%m-%d")) == {p["day"]}
    # contradictory status: same subject, different status, different channel, within 24 h
    st = msgs[msgs["attrs"].map(lambda a: "status" in a and "subject" in a)].copy()
    st["subject"] = st["attrs"].map(lambda a: a["subject"])
    st["status"] = st["attrs"].map(lambda a: a["status"])
    pairs = st.merge(st, on=["cust", "subject"], suffixes=("", "_o"))
    pairs = pairs[(pairs["t_o"] < pairs["t"]) & (pairs["t"] - pairs["t_o"] <= pd.Timedelta(hours=24))
                  & (pairs["channel"] != pairs["channel_o"]) & (pairs["status"] != pairs["status_o"])]
    offending = pairs.drop_duplicates("event_id")
    assert len(offending) == p["contradictory_status"] > 5
    assert set(offending["channel"]) == {"sms"} and set(offending["status"]) == {"cancelled"}


def test_planted_churn_effect(sample):
    res, _, _ = sample
    c = res.planted["churn"]
    assert c["hazard_ratio"] >= 2
    assert c["customers_frictioned"] > 100 and c["customers_seamless"] > 100
    rate_f = c["churned_frictioned"] / c["customers_frictioned"]
    rate_s = c["churned_seamless"] / c["customers_seamless"]
    assert rate_f > 1.5 * rate_s


def test_committed_sample_is_consistent():
    root = Path(__file__).resolve().parents[1] / "sample_data"
    path = root / "events.jsonl.gz"
    if not path.exists():
        pytest.skip("committed sample not generated")
    assert path.stat().st_size < 5_000_000
    planted = json.loads((root / "events.planted.json").read_text())
    rows, invalid = read_lines(path)
    assert len(rows) + invalid == planted["events"]
    assert planted["friction_hotspot"]["transitions"] >= 100
    assert planted["latency_regression"]["ratio"] >= 3


def test_generator_reproduces_committed_sample(tmp_path):
    """sample_data/README.md's arguments make the committed files again, byte for byte
    (the rows compared uncompressed: gzip bytes may differ between zlib versions)."""
    root = Path(__file__).resolve().parents[1] / "sample_data"
    if not (root / "events.jsonl.gz").exists():
        pytest.skip("committed sample not generated")
    res = generate(tmp_path / "events.jsonl", customers=3000, days=60, seed=7)
    with gzip.open(root / "events.jsonl.gz", "rb") as fh:
        assert res.path.read_bytes() == fh.read()
    assert res.planted_path.read_bytes() == (root / "events.planted.json").read_bytes()


def test_sample_package_is_shipped():
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8"))
    assert "seamline.sample" in pyproject["tool"]["setuptools"]["packages"]


def test_progress_and_volume(tmp_path):
    seen: list[int] = []
    res = generate(tmp_path / "big.jsonl.gz", customers=5200, days=60, seed=1, progress=seen.append)
    assert res.events >= 200_000
    assert seen and seen[-1] == res.events and seen == sorted(seen) and len(seen) >= 2
    with gzip.open(res.path, "rb") as fh:
        assert sum(1 for _ in fh) == res.events


def test_a_handful_of_customers_with_no_purchase_still_generates(tmp_path):
    # 5 customers over 8 days (seed 1) make no purchase: the marketing step's
    # "purchased within 14 days" lookup has nothing to search
    res = generate(tmp_path / "few.jsonl", customers=5, days=8, seed=1, bad_rows=False)
    lines = (tmp_path / "few.jsonl").read_text().splitlines()
    assert res.events == len(lines) > 0
    assert not any(json.loads(line)["type"] == "purchase" for line in lines)
