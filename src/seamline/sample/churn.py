"""Churn (planted: friction in the first 30 days raises the hazard 2.5x).

A customer is frictioned by a friction event, an escalated contact or a
same-topic repeat contact before the landmark; journeys too close to the churn
are dropped.
"""
from __future__ import annotations

import numpy as np

from seamline.sample.catalog import (HOUR, DAY, CRM, WEB, PHONE, STORE, IN, CHURN, ID_CID,
    CHURN_HAZARD_SEAMLESS, CHURN_HAZARD_RATIO, LANDMARK_DAYS)


def churn(blk):
    rng, n = blk.rng, blk.n
    s = blk.svc
    # cross-journey repeat contacts: same topic within 7 days
    order = np.lexsort((s["t"], s["topic"], s["cust"]))
    cc, tt, tp = s["cust"][order], s["t"][order], s["topic"][order]
    rep = np.zeros(order.size, bool)
    rep[1:] = (cc[1:] == cc[:-1]) & (tp[1:] == tp[:-1]) & (tt[1:] - tt[:-1] <= 7 * DAY + 26 * HOUR)
    fr = np.zeros(order.size, bool)
    fr[order] = s["friction"]
    flag = np.zeros(order.size, bool)
    flag[order] = rep
    jf = fr | flag
    in30 = s["t"] < blk.first_t[s["cust"]] + LANDMARK_DAYS * DAY
    frictioned = np.zeros(n, bool)
    frictioned[s["cust"][jf & in30]] = True
    blk.frictioned = frictioned
    landmark = blk.first_t + LANDMARK_DAYS * DAY
    h = CHURN_HAZARD_SEAMLESS * np.where(frictioned, CHURN_HAZARD_RATIO, 1.0)
    churn_t = landmark + (rng.exponential(1.0, n) / h * DAY).astype(np.int64)
    early = rng.random(n) < 0.03
    churn_t = np.where(early, blk.first_t + rng.integers(5 * DAY, LANDMARK_DAYS * DAY, n), churn_t)
    churn_t = np.maximum(churn_t, blk.signup_t + 4 * DAY)
    churn_t = np.where(blk.identified, churn_t, np.iinfo(np.int64).max // 4)
    blk.churn_t = churn_t
    ok = (churn_t < blk.end_ms)
    cc = np.nonzero(ok)[0]
    r = rng.random(cc.size)
    ch = np.where(r < 0.35, WEB, np.where(r < 0.5, STORE, PHONE))
    blk.ev.add(cc, churn_t[cc], CRM, ch, IN, CHURN, ID_CID)
    # journeys must start >= 3.4 days before the churn (so the churn is its own journey)
    keep = blk.J["t"] <= churn_t[blk.J["cust"]] - int(3.4 * DAY)
    keep |= blk.J["kind"] == 3
    blk.jkeep = keep
