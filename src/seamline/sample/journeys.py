"""The events of each journey kind: browse, signup, shop and service.

Service journeys move across contact channels along ``NEXT_CONTACT_P``; their
transitions and friction (planted: ``chat -> phone`` is rarely frictionless)
are kept on the block for the churn model and the planted facts.
"""
from __future__ import annotations

import numpy as np

from seamline.sample.arrays import choice, lognormal_ms, obj, seg, seg_cumsum
from seamline.sample.catalog import (SEC, MIN, HOUR, DAY, CRM, WEB_S, APP_S, SUPPORT, COMMERCE,
    SURVEY, WEB, EMAIL, CHAT, PHONE, SMS, SOCIAL, STORE, IN, OUT, PAGE_VIEW, SESSION_START, LOGIN,
    CONTACT, RESOLUTION, TRANSFER, REPEAT_INFO, REAUTH, MESSAGE, PURCHASE, SURVEY_T, SIGNUP,
    IDENTIFY, TOPIC_P, COMPLAINT, PRODUCTS, PRODUCT_P, PRODUCT_PRICE, FIELDS, ID_CID, ID_ANON,
    ID_EMAIL, ID_PHONE, ID_EMAIL_RAW, ID_PHONE_RAW, CONTACT_CH, FIRST_CONTACT_P, NEXT_CONTACT_P,
    FRICTIONLESS_HOTSPOT, FRICTIONLESS_OTHER)


def ids_digital(ident):
    return np.where(ident, ID_CID | ID_ANON, ID_ANON)


def browse(blk, sel):
    rng, J = blk.rng, blk.J
    c, t0, ident = J["cust"][sel], J["t"][sel], J["ident"][sel]
    ch = blk.dig[c]
    src = np.where(ch == WEB, WEB_S, APP_S)
    ids = ids_digital(ident)
    blk.ev.add(c, t0, src, ch, IN, SESSION_START, ids)
    m = 1 + rng.poisson(2.5, c.size)
    o, _ = seg(m)
    tp = t0[o] + seg_cumsum(rng.integers(5 * SEC, 90 * SEC, o.size), m)
    blk.ev.add(c[o], tp, src[o], ch[o], IN, PAGE_VIEW, ids[o])
    lg = ident & (rng.random(c.size) < 0.5)
    blk.ev.add(c[lg], t0[lg] + 3 * SEC, src[lg], ch[lg], IN, LOGIN, ID_CID | ID_ANON)
    # the CRM sync identifies every session of a known (remembered or logged-in) visitor
    blk.ev.add(c[ident], t0[ident] + 4 * SEC + rng.integers(0, 2 * SEC, ident.sum()), CRM, ch[ident],
               IN, IDENTIFY, ID_CID | ID_ANON)


def signup(blk, sel):
    rng, J = blk.rng, blk.J
    c, t0 = J["cust"][sel], J["t"][sel]
    store = rng.random(c.size) < 0.15
    ch = np.where(store, STORE, blk.dig[c])
    d = ~store
    blk.ev.add(c[d], t0[d], np.where(ch[d] == WEB, WEB_S, APP_S), ch[d], IN, SESSION_START, ID_ANON)
    ts = t0 + np.where(store, 0, rng.integers(2 * MIN, 6 * MIN, c.size))
    blk.ev.add(c, ts, CRM, ch, IN, SIGNUP, ID_CID | ID_EMAIL | ID_PHONE)
    # online signups link the device; store signups get linked on the first login
    blk.ev.add(c, ts + SEC, CRM, ch, IN, IDENTIFY,
               np.where(store, ID_CID | ID_EMAIL | ID_PHONE, ID_CID | ID_ANON | ID_EMAIL | ID_PHONE))
    anon = d & blk.anon_start[c]
    blk.ev.add(c[anon], ts[anon] + 20 * SEC, np.where(ch[anon] == WEB, WEB_S, APP_S), ch[anon], IN,
               LOGIN, ID_CID | ID_ANON)


def shop(blk, sel):
    rng, J = blk.rng, blk.J
    c, t0 = J["cust"][sel], J["t"][sel]
    k = c.size
    store = rng.random(k) < 0.12
    on = ~store
    ch = np.where(store, STORE, blk.dig[c])
    src = np.where(ch == WEB, WEB_S, APP_S)
    co, t_on, ch_on, src_on = c[on], t0[on], ch[on], src[on]
    blk.ev.add(co, t_on, src_on, ch_on, IN, SESSION_START, ID_CID | ID_ANON)
    blk.ev.add(co, t_on + rng.integers(1 * SEC, 3 * SEC, co.size), CRM, ch_on, IN, IDENTIFY,
               ID_CID | ID_ANON)
    m = 1 + rng.poisson(3.0, co.size)
    o, _ = seg(m)
    tp = t_on[o] + seg_cumsum(rng.integers(5 * SEC, 90 * SEC, o.size), m)
    blk.ev.add(co[o], tp, src_on[o], ch_on[o], IN, PAGE_VIEW, ID_CID | ID_ANON)
    tpur = t0.copy()
    tpur[on] = t_on + m * 90 * SEC + rng.integers(30 * SEC, 5 * MIN, co.size)
    prod = choice(rng, PRODUCT_P, k)
    amount = PRODUCT_PRICE[prod] * (1 + (rng.random(k) < 0.25))
    base = (blk.block * 10_000_000 + blk.stats.setdefault("orders", 0))
    onum = base + np.arange(k)
    blk.stats["orders"] += k
    oid = obj([f"ord-{x:08d}" for x in onum])
    pn = obj(PRODUCTS)[prod]
    am = obj([f"{a:.2f}" for a in amount])
    attrs = '{"product":"' + pn + '","order_id":"' + oid + '","amount":"' + am + '"}'
    blk.ev.add(c, tpur, COMMERCE, ch, IN, PURCHASE, ID_CID, attrs=attrs)
    blk.purchases = (c, tpur, prod)

    def msg(mask, t, chan, status, ids):
        a = ('{"kind":"transactional","product":"' + pn[mask] + '","subject":"' + oid[mask]
             + f'","status":"{status}"' + '}')
        blk.ev.add(c[mask], t, COMMERCE, chan, OUT, MESSAGE, ids, attrs=a)

    allm = np.ones(k, bool)
    msg(allm, tpur + rng.integers(1 * MIN, 5 * MIN, k), EMAIL,
        "confirmed", ID_CID | ID_EMAIL)
    tship = tpur[on] + rng.integers(int(1.1 * DAY), 2 * DAY, co.size)
    msg(on, tship, EMAIL, "shipped", ID_CID | ID_EMAIL)
    msg(on, tship + rng.integers(int(1.2 * DAY), 3 * DAY, co.size), SMS, "delivered", ID_CID | ID_PHONE)
    blk.shipped = (co, tship, pn[on], oid[on])


def service(blk, sel):
    rng, J = blk.rng, blk.J
    c, t0 = J["cust"][sel], J["t"][sel]
    jg = np.nonzero(sel)[0]
    k = c.size
    topic = np.where(rng.random(k) < 0.55, blk.primary_topic[c], choice(rng, TOPIC_P, k))
    case_base = blk.block * 10_000_000
    case = case_base + np.arange(k)
    digital = rng.random(k) < 0.5
    dch = blk.dig[c]
    dsrc = np.where(dch == WEB, WEB_S, APP_S)
    dd = digital
    blk.ev.add(c[dd], t0[dd], dsrc[dd], dch[dd], IN, SESSION_START, ID_CID | ID_ANON, jid=jg[dd])
    blk.ev.add(c[dd], t0[dd] + rng.integers(1 * SEC, 3 * SEC, dd.sum()), CRM, dch[dd], IN, IDENTIFY,
               ID_CID | ID_ANON, jid=jg[dd])
    m = 1 + rng.poisson(1.5, dd.sum())
    o, _ = seg(m)
    cd = c[dd]
    blk.ev.add(cd[o], t0[dd][o] + seg_cumsum(rng.integers(5 * SEC, 60 * SEC, o.size), m),
               dsrc[dd][o], dch[dd][o], IN, PAGE_VIEW, ID_CID | ID_ANON, jid=jg[dd][o])
    # contact steps
    nsteps = 1 + (rng.random(k) < 0.45) + 0
    nsteps = nsteps + ((nsteps == 2) & (rng.random(k) < 0.3))
    cur = CONTACT_CH[choice(rng, FIRST_CONTACT_P, k)]
    tc = t0 + np.where(digital, rng.integers(35 * MIN, 90 * MIN, k), 0)
    prev = np.where(digital, dch, -1)
    nfric = np.zeros(k, np.int64)
    pairs_from, pairs_to, pairs_ok, pairs_t, pairs_j = [], [], [], [], []
    last_ch = cur.copy()
    last_t = tc.copy()
    first_t = tc.copy()
    for step in range(3):
        act = nsteps > step
        if step > 0:
            nxt = np.empty(k, np.int64)
            for fc, p in NEXT_CONTACT_P.items():
                sm = cur == fc
                nxt[sm] = CONTACT_CH[choice(rng, p, sm.sum())]
            prev = np.where(act, cur, prev)
            cur = np.where(act, nxt, cur)
            tc = np.where(act, tc + rng.integers(35 * MIN, 180 * MIN, k), tc)
        a = np.nonzero(act)[0]
        ca, cha, ta = c[a], cur[a], tc[a]
        srca = np.where((cha == CHAT) | (cha == SOCIAL), SUPPORT, CRM)
        r = rng.random(a.size)
        ids = np.full(a.size, ID_CID, np.int8)
        ids = np.where((cha == EMAIL) & (r < 0.3), ID_EMAIL_RAW, ids)
        ids = np.where((cha == EMAIL) & (r >= 0.3), ID_CID | ID_EMAIL, ids)
        ids = np.where((cha == PHONE) & (r < 0.3), ID_PHONE_RAW, ids)
        blk.ev.add(ca, ta, srca, cha, IN, CONTACT, ids, topic[a], case[a], jid=jg[a])
        has_prev = prev[a] >= 0
        hot = (prev[a] == CHAT) & (cha == PHONE)
        pf = np.where(has_prev, np.where(hot, 1 - FRICTIONLESS_HOTSPOT, 1 - FRICTIONLESS_OTHER), 0.08)
        fr = rng.random(a.size) < pf
        pairs_from.append(prev[a][has_prev]); pairs_to.append(cha[has_prev])
        pairs_ok.append(~fr[has_prev]); pairs_t.append(ta[has_prev]); pairs_j.append(jg[a][has_prev])
        f = np.nonzero(fr)[0]
        nf = 1 + (rng.random(f.size) < 0.35)
        o, _ = seg(nf)
        fi = f[o]
        ft = choice(rng, [0.5, 0.3, 0.2], fi.size)
        ftyp = np.array([REPEAT_INFO, REAUTH, TRANSFER])[ft]
        fattrs = np.full(fi.size, None, dtype=object)
        ri = ftyp == REPEAT_INFO
        fattrs[ri] = '{"field":"' + obj(FIELDS)[rng.integers(0, len(FIELDS), ri.sum())] + '"}'
        blk.ev.add(ca[fi], ta[fi] + rng.integers(1 * MIN, 25 * MIN, fi.size), srca[fi], cha[fi],
                   np.where(ftyp == TRANSFER, OUT, IN), ftyp, ID_CID, topic[a][fi], case[a][fi],
                   attrs=fattrs, jid=jg[a][fi])
        np.add.at(nfric, a[fi], 1)
        last_ch[a], last_t[a] = cha, ta
    # acknowledgement + resolution + surveys
    cs = obj([f"case-{x:08d}" for x in case])
    blk.case_str = (case_base, cs)
    ack = ('{"kind":"service","subject":"' + cs + '","status":"received"}')
    blk.ev.add(c, first_t + rng.integers(1 * MIN, 10 * MIN, k), CRM, EMAIL, OUT, MESSAGE,
               ID_CID | ID_EMAIL, topic, case, attrs=ack, jid=jg)
    unresolved = rng.random(k) < np.where(topic == COMPLAINT, 0.35, 0.04)
    rs = ~unresolved
    tres = last_t + np.clip(lognormal_ms(rng, 5 * 3600, 1.2, k), 20 * MIN, 6 * DAY)
    srcl = np.where((last_ch == CHAT) | (last_ch == SOCIAL), SUPPORT, CRM)
    blk.ev.add(c[rs], tres[rs], srcl[rs], last_ch[rs], OUT, RESOLUTION, ID_CID, topic[rs], case[rs], jid=jg[rs])
    done = '{"kind":"service","subject":"' + cs[rs] + '","status":"resolved"}'
    blk.ev.add(c[rs], tres[rs] + rng.integers(1 * MIN, 5 * MIN, rs.sum()), CRM, EMAIL, OUT, MESSAGE,
               ID_CID | ID_EMAIL, topic[rs], case[rs], attrs=done, jid=jg[rs])
    sv = rng.random(k) < 0.45
    sch = np.where(rng.random(k) < 0.75, EMAIL, SMS)
    tsv = last_t + rng.integers(2 * HOUR, 16 * HOUR, k)
    ces = np.clip(np.rint(rng.normal(5.9 - 1.3 * nfric - 0.6 * (nsteps - 1), 0.9)), 1, 7).astype(int)
    sattrs = '{"ces":"' + obj([str(x) for x in range(8)])[ces[sv]] + '"}'
    blk.ev.add(c[sv], tsv[sv], SURVEY, sch[sv], IN, SURVEY_T,
               np.where(sch[sv] == EMAIL, ID_CID | ID_EMAIL, ID_CID | ID_PHONE), topic[sv], case[sv],
               attrs=sattrs, jid=jg[sv])
    svt = sv & (sch != last_ch)
    pairs_from.append(last_ch[svt]); pairs_to.append(sch[svt])
    pairs_ok.append(np.ones(svt.sum(), bool)); pairs_t.append(tsv[svt]); pairs_j.append(jg[svt])
    blk.pairs = (np.concatenate(pairs_from), np.concatenate(pairs_to),
                 np.concatenate(pairs_ok), np.concatenate(pairs_t), np.concatenate(pairs_j))
    # per-journey friction for the retention segments
    multi = nsteps > 1
    blk.svc = dict(cust=c, t=t0, topic=topic, friction=(nfric > 0) | multi)
