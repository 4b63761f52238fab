"""The planted facts: per-block tallies and the ``*.planted.json`` document."""
from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from seamline.sample.block import Block
from seamline.sample.catalog import (HOUR, DAY, SOURCES, CRM, CHAT, PHONE, TYPES, PRODUCTS,
    CAMPAIGN, CAMPAIGN_PRODUCT, FRICTIONLESS_HOTSPOT, FRICTIONLESS_OTHER, LAG, CRM_FACTOR,
    NEGATIVE_LAG_SHARE, CHURN_HAZARD_SEAMLESS, CHURN_HAZARD_RATIO, LANDMARK_DAYS)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def accumulate(agg: dict, blk: Block, E: dict, cfg: dict) -> None:
    # transitions of service journeys that were kept and fall inside the period
    pf, pt, pok, ptt, pj = blk.pairs
    inside = (ptt < blk.end_ms) & blk.jkeep[pj]
    hot = (pf == CHAT) & (pt == PHONE) & inside
    oth = ~((pf == CHAT) & (pt == PHONE)) & inside
    agg["pair_hot"] += int(hot.sum())
    agg["pair_hot_ok"] += int((hot & pok).sum())
    agg["pair_other"] += int(oth.sum())
    agg["pair_other_ok"] += int((oth & pok).sum())
    agg["promo_after_purchase"] += int((E["mark"] == 1).sum())
    agg["contradictory_status"] += int((E["mark"] == 2).sum())
    crm = E["src"] == CRM
    on, off = cfg["crm_onset"], cfg["crm_recovery"]
    lag = np.maximum(E["lag"], 0) / 1000.0
    agg["crm_before"].append(lag[crm & (E["t"] < on)])
    agg["crm_after"].append(lag[crm & (E["t"] >= on) & (E["t"] < off)])
    agg["crm_recovered"].append(lag[crm & (E["t"] >= off)])
    at_landmark = (blk.identified & (blk.first_t + LANDMARK_DAYS * DAY < blk.end_ms)
                   & (blk.churn_t > blk.first_t + LANDMARK_DAYS * DAY))
    churned = blk.churn_t < blk.end_ms
    agg["frictioned"] += int((at_landmark & blk.frictioned).sum())
    agg["seamless"] += int((at_landmark & ~blk.frictioned).sum())
    agg["churn_frictioned"] += int((at_landmark & blk.frictioned & churned).sum())
    agg["churn_seamless"] += int((at_landmark & ~blk.frictioned & churned).sum())
    agg["never"] += int(blk.never.sum())
    agg["anon_start"] += int(blk.anon_start.sum())
    counts = np.bincount(E["typ"], minlength=len(TYPES))
    for i, t in enumerate(TYPES):
        agg["types"][t] = agg["types"].get(t, 0) + int(counts[i])


def _p95(parts: list) -> float | None:
    a = np.concatenate(parts) if parts else np.zeros(0)
    return round(float(np.percentile(a, 95)), 3) if a.size else None


def planted_facts(agg, cfg, start_ms, start, end, customers, days, seed, written, bad_counts, dup_total,
                  table) -> dict:
    on, off, cday = cfg["crm_onset"], cfg["crm_recovery"], cfg["campaign_day"]
    b95, a95, r95 = _p95(agg["crm_before"]), _p95(agg["crm_after"]), _p95(agg["crm_recovered"])
    hot_share = agg["pair_hot_ok"] / agg["pair_hot"] if agg["pair_hot"] else None
    oth_share = agg["pair_other_ok"] / agg["pair_other"] if agg["pair_other"] else None
    ctime = cday * DAY + 10 * HOUR
    if table:
        bad_counts = {("invalid_attrs_json" if k == "invalid_json" else k): v for k, v in bad_counts.items()}
    return {
        "generator": "seamline.sample",
        "seed": seed, "customers": customers, "days": days,
        "start": iso(start_ms), "end": iso(start_ms + days * DAY),
        "events": written,
        "valid_unique_events": written - sum(bad_counts.values()) - dup_total,
        "event_types": agg["types"],
        "identity": {"anonymous_start_customers": agg["anon_start"], "never_identified_customers": agg["never"],
                     "notes": "anonymous sessions are linked by a later identify/login carrying anonymous_id + "
                              "customer_id; ~30% of email/phone contacts carry only an un-normalised email "
                              "or phone, linked by the signup/identify events"},
        "latency_regression": {
            "source": "crm", "onset": iso(start_ms + on), "recovered_at": iso(start_ms + off),
            "recovered": True, "factor": CRM_FACTOR,
            "baseline_p95_s": b95, "after_p95_s": a95, "recovered_p95_s": r95,
            "ratio": round(a95 / b95, 3) if a95 and b95 else None,
        },
        "friction_hotspot": {
            "from": "chat", "to": "phone",
            "frictionless_share_target": FRICTIONLESS_HOTSPOT, "other_pairs_target": FRICTIONLESS_OTHER,
            "transitions": agg["pair_hot"], "frictionless": agg["pair_hot_ok"],
            "frictionless_share": round(hot_share, 4) if hot_share is not None else None,
            "other_transitions": agg["pair_other"], "other_frictionless": agg["pair_other_ok"],
            "other_frictionless_share": round(oth_share, 4) if oth_share is not None else None,
            "note": "counts are the generated service-journey transitions; digital-only journeys "
                    "stay on one channel",
        },
        "conflicting_messages": {
            "campaign": CAMPAIGN, "product": PRODUCTS[CAMPAIGN_PRODUCT],
            "day": iso(start_ms + cday * DAY)[:10],
            "from": iso(start_ms + cday * DAY), "to": iso(start_ms + (cday + 2) * DAY),
            "promo_after_purchase": agg["promo_after_purchase"],
            "contradictory_status": agg["contradictory_status"],
            "note": "baseline promos honour a 14-day suppression list and baseline order-status "
                    "messages never contradict, so these are all such incidents in the data; "
                    "promo_during_open_complaint incidents occur in the background (unresolved "
                    "complaint cases) and are not planted",
        },
        "churn": {
            "landmark_days": LANDMARK_DAYS, "hazard_ratio": CHURN_HAZARD_RATIO,
            "daily_hazard_seamless": CHURN_HAZARD_SEAMLESS,
            "daily_hazard_frictioned": CHURN_HAZARD_SEAMLESS * CHURN_HAZARD_RATIO,
            "customers_frictioned": agg["frictioned"], "customers_seamless": agg["seamless"],
            "churned_frictioned": agg["churn_frictioned"], "churned_seamless": agg["churn_seamless"],
            "note": "segments as generated (friction = friction event, escalated contact or same-topic "
                    "repeat contact in the first 30 days); customers present at the landmark",
        },
        "lag_model_s": {SOURCES[s]: {"median": m, "sigma": sg} for s, (m, sg) in LAG.items()},
        "negative_lag_share": NEGATIVE_LAG_SHARE,
        "bad_rows": sum(bad_counts.values()),
        "bad_rows_by_kind": bad_counts,
        "duplicate_rows": dup_total,
        "annotations": [
            {"at": iso(start_ms + on), "source": "crm", "text": "crm-sync v2.3 deploy"},
            {"at": iso(start_ms + off), "source": "crm",
             "text": "crm-sync v2.3.1 hotfix (batching reverted)"},
            {"at": iso(start_ms + ctime), "source": "marketing",
             "text": f"campaign {CAMPAIGN} launched (suppression list disabled by mistake)"},
        ],
    }
