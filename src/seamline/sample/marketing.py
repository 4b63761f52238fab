"""Marketing messages and the planted misconfigured campaign.

Baseline promos honour a 14-day suppression list; on the campaign day the list
is disabled (promos to recent buyers), and order-status SMS say "cancelled"
next to the "shipped" e-mails.
"""
from __future__ import annotations

import numpy as np

from seamline.sample.arrays import choice, obj, seg, tod
from seamline.sample.catalog import (MIN, HOUR, DAY, MARKETING, COMMERCE, EMAIL, SMS, SOCIAL, OUT,
    MESSAGE, PRODUCTS, PRODUCT_P, CAMPAIGN, CAMPAIGN_PRODUCT, ID_CID, ID_EMAIL, ID_PHONE)


def purchased_within(blk, cust, prod, t, window):
    pc, pt, pp = blk.purchases
    key_p = (pc * 8 + pp) * (1 << 36) + pt
    srt = np.sort(key_p)
    if srt.size == 0:  # a small sample may hold no purchase at all
        return np.zeros(np.shape(t), dtype=bool)
    key_q = (cust * 8 + prod) * (1 << 36) + t
    i = np.searchsorted(srt, key_q, side="left") - 1  # last purchase strictly before t
    found = i >= 0
    prev = srt[np.maximum(i, 0)]
    same = found & ((prev >> 36) == (cust * 8 + prod))
    return same & (t - (prev & ((1 << 36) - 1)) <= window)


def marketing(blk):
    rng, n = blk.rng, blk.n
    idc = np.nonzero(blk.identified)[0]
    active_days = np.maximum(0, (blk.end_ms - blk.signup_t[idc]) / DAY)
    cnt = rng.poisson(active_days / 6.0)
    o, _ = seg(cnt)
    c = idc[o]
    t = blk.signup_t[c] + (rng.random(c.size) * (blk.end_ms - blk.signup_t[c])).astype(np.int64)
    t = (t // DAY) * DAY + tod(rng, c.size, 8, 20)
    t = np.maximum(t, blk.signup_t[c] + HOUR)
    prod = choice(rng, PRODUCT_P, c.size)
    suppressed = purchased_within(blk, c, prod, t, 14 * DAY)
    c, t, prod = c[~suppressed], t[~suppressed], prod[~suppressed]
    r = rng.random(c.size)
    ch = np.where(r < 0.7, EMAIL, np.where(r < 0.9, SMS, SOCIAL))
    ids = np.where(ch == SMS, ID_CID | ID_PHONE, np.where(ch == EMAIL, ID_CID | ID_EMAIL, ID_CID))
    attrs = '{"kind":"promo","product":"' + obj(PRODUCTS)[prod] + '"}'
    blk.ev.add(c, t, MARKETING, ch, OUT, MESSAGE, ids, attrs=attrs)

    # planted: misconfigured campaign (suppression list disabled)
    cday = blk.cfg["campaign_day"]
    tc = cday * DAY + 10 * HOUR + rng.integers(0, HOUR, n)
    cust = np.arange(n)
    elig = blk.identified & (blk.signup_t < tc) & (blk.churn_t > tc)
    prodc = np.full(n, CAMPAIGN_PRODUCT)
    bought = purchased_within(blk, cust, prodc, tc, 14 * DAY)
    target = elig & (bought | (rng.random(n) < 0.2))
    tch = np.where(rng.random(n) < 0.7, EMAIL, SMS)
    ids = np.where(tch == SMS, ID_CID | ID_PHONE, ID_CID | ID_EMAIL)
    attrs = np.full(n, '{"kind":"promo","product":"' + PRODUCTS[CAMPAIGN_PRODUCT]
                    + f'","campaign":"{CAMPAIGN}"' + '}', dtype=object)
    mark = np.where(bought, 1, 0)
    blk.ev.add(cust[target], tc[target], MARKETING, tch[target], OUT, MESSAGE, ids[target],
               attrs=attrs[target], mark=mark[target])
    # planted: contradictory status: "cancelled" SMS next to the "shipped" e-mail
    co, tship, pn, oid = blk.shipped
    on_day = (tship >= cday * DAY) & (tship < (cday + 1) * DAY)
    k = on_day.sum()
    a = ('{"kind":"transactional","product":"' + pn[on_day] + '","subject":"' + oid[on_day]
         + '","status":"cancelled"}')
    blk.ev.add(co[on_day], tship[on_day] + rng.integers(5 * MIN, 3 * HOUR, k), COMMERCE, SMS, OUT,
               MESSAGE, ID_CID | ID_PHONE, attrs=a, mark=2)
