"""Deterministic, realistic synthetic event generator (``seamline sample``).

Everything is generated with vectorised numpy per block of customers, so memory
stays bounded and the output for a given seed is byte-identical whatever the
number of customers (blocks have a fixed size and their own random stream).

Planted phenomena (see ``sample_data/README.md`` and the ``*.planted.json``
written beside every output):

1. ``crm`` ingestion lag grows 4x from a deploy until a hotfix (step up, step down);
2. ``chat -> phone`` transitions are frictionless ~35 % of the time (others ~85 %);
3. a misconfigured campaign on one day: promos for a product to its recent buyers,
   plus contradictory order-status SMS ("cancelled") next to "shipped" e-mails;
4. customers with friction in their first 30 days churn 2.5x faster after the landmark.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["SampleResult", "generate"]

SEC = 1_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR

BLOCK_CUSTOMERS = 5_000  # fixed: output must not depend on the number of blocks

SOURCES = ["crm", "web", "app", "support", "marketing", "commerce", "survey"]
CRM, WEB_S, APP_S, SUPPORT, MARKETING, COMMERCE, SURVEY = range(7)
CHANNELS = ["web", "app", "email", "chat", "phone", "sms", "social", "store"]
WEB, APP, EMAIL, CHAT, PHONE, SMS, SOCIAL, STORE = range(8)
DIRECTIONS = ["inbound", "outbound"]
IN, OUT = 0, 1
TYPES = ["page_view", "session_start", "login", "contact", "resolution", "transfer",
         "repeat_info", "reauth", "message", "purchase", "survey", "signup", "churn", "identify"]
(PAGE_VIEW, SESSION_START, LOGIN, CONTACT, RESOLUTION, TRANSFER, REPEAT_INFO, REAUTH,
 MESSAGE, PURCHASE, SURVEY_T, SIGNUP, CHURN, IDENTIFY) = range(14)
TOPICS = ["billing", "order", "delivery", "account", "tech", "complaint"]
TOPIC_P = np.array([0.22, 0.18, 0.2, 0.14, 0.14, 0.12])
COMPLAINT = 5
PRODUCTS = ["fiber-500", "mobile-unlimited", "tv-plus", "router-x", "smartwatch", "device-care"]
PRODUCT_P = np.array([0.3, 0.22, 0.14, 0.14, 0.12, 0.08])
PRODUCT_PRICE = np.array([49.0, 35.0, 25.0, 129.0, 249.0, 9.0])
FIELDS = ["account_number", "address", "order_id", "issue_description", "date_of_birth"]
CAMPAIGN = "autumn-sale"
CAMPAIGN_PRODUCT = 0  # fiber-500, the best seller

# identifier bits
ID_CID, ID_ANON, ID_EMAIL, ID_PHONE, ID_EMAIL_RAW, ID_PHONE_RAW = 1, 2, 4, 8, 16, 32

# contact channels and their escalation chain (rows: from; cols: to; last col = stop)
CONTACT_CH = np.array([CHAT, PHONE, EMAIL, SOCIAL, STORE])
FIRST_CONTACT_P = np.array([0.42, 0.26, 0.18, 0.09, 0.05])
NEXT_CONTACT_P = {  # probabilities over CONTACT_CH (no self loops)
    CHAT: [0.0, 0.75, 0.15, 0.0, 0.10],
    PHONE: [0.30, 0.0, 0.45, 0.05, 0.20],
    EMAIL: [0.30, 0.60, 0.0, 0.0, 0.10],
    SOCIAL: [0.55, 0.25, 0.20, 0.0, 0.0],
    STORE: [0.10, 0.70, 0.20, 0.0, 0.0],
}
FRICTIONLESS_HOTSPOT = 0.35
FRICTIONLESS_OTHER = 0.85

# ingestion lag per source: (median seconds, lognormal sigma)
LAG = {CRM: (45.0, 0.8), WEB_S: (1.5, 0.9), APP_S: (3.0, 1.1), SUPPORT: (75.0, 0.9),
       MARKETING: (150.0, 0.7), COMMERCE: (4.0, 0.7), SURVEY: (3600.0, 0.8)}
CRM_FACTOR = 4.0
NEGATIVE_LAG_SHARE = 0.003
CHURN_HAZARD_SEAMLESS = 0.004  # per day after the landmark
CHURN_HAZARD_RATIO = 2.5
LANDMARK_DAYS = 30

COLUMNS = ["event_id", "occurred_at", "ingested_at", "source", "channel", "direction", "type",
           "customer_id", "anonymous_id", "email", "phone", "topic", "case_id", "attrs"]


@dataclass
class SampleResult:
    path: Path
    events: int
    customers: int
    start: datetime
    end: datetime
    planted: dict = field(default_factory=dict)
    planted_path: Path | None = None


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _seg(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner index and position within segment for segments of the given lengths."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(owner.size) - np.repeat(starts, counts)
    return owner, pos


def _seg_cumsum(values: np.ndarray, owner_counts: np.ndarray) -> np.ndarray:
    cs = np.cumsum(values)
    ends = np.cumsum(owner_counts)
    base = np.concatenate([[0], cs[ends[:-1] - 1]]) if owner_counts.size else np.zeros(0)
    return cs - np.repeat(base, owner_counts)


def _choice(rng, p, size) -> np.ndarray:
    c = np.cumsum(p) / np.sum(p)
    return np.minimum(np.searchsorted(c, rng.random(size), side="right"), len(p) - 1)


def _obj(values) -> np.ndarray:
    a = np.empty(len(values), dtype=object)
    a[:] = values
    return a


class _Events:
    def __init__(self) -> None:
        self.parts: list[dict] = []

    def add(self, cust, t, src, ch, dirn, typ, ids, topic=-1, case=-1, attrs=None, mark=0, jid=-1):
        t = np.asarray(t, dtype=np.int64)
        n = t.size
        if n == 0:
            return

        def full(v, dt):
            v = np.asarray(v)
            return np.full(n, v, dtype=dt) if v.ndim == 0 else v.astype(dt, copy=False)

        if attrs is None:
            attrs = np.full(n, None, dtype=object)
        self.parts.append(dict(
            cust=full(cust, np.int64), t=t, src=full(src, np.int8), ch=full(ch, np.int8),
            dir=full(dirn, np.int8), typ=full(typ, np.int8), ids=full(ids, np.int8),
            topic=full(topic, np.int8), case=full(case, np.int64), attrs=attrs,
            mark=full(mark, np.int8), jid=full(jid, np.int64)))

    def concat(self) -> dict:
        keys = self.parts[0].keys()
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}


def _lognormal_ms(rng, median_s, sigma, size):
    return (median_s * 1000.0 * np.exp(sigma * rng.standard_normal(size))).astype(np.int64)


def _tod(rng, size, lo=6.0, hi=23.5):
    """Time of day (ms) with a daytime peak, within [lo, hi) hours."""
    hours = np.arange(24)
    w = np.where((hours >= lo) & (hours < hi), 1.0, 0.0)
    w *= 0.5 + np.exp(-0.5 * ((hours - 13.5) / 4.0) ** 2)
    w[hours == int(lo)] *= (1 - (lo - int(lo)))
    h = _choice(rng, w, size)
    ms = h * HOUR + rng.integers(0, HOUR, size)
    return np.clip(ms, int(lo * HOUR), int(hi * HOUR) - 1)


class _Block:
    """Generates the events of one block of customers."""

    def __init__(self, seed: int, block: int, first: int, n: int, days: int, cfg: dict):
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, block, 0x5EA41]))
        self.seed, self.block, self.first, self.n, self.days = seed, block, first, n, days
        self.cfg = cfg
        self.end_ms = days * DAY
        self.ev = _Events()
        self.purchases = (np.zeros(0, np.int64),) * 3
        self.shipped = (np.zeros(0, np.int64), np.zeros(0, np.int64), _obj([]), _obj([]))
        self.stats: dict = {}

    # ------------------------------------------------------------------ customers
    def customers(self):
        rng, n, days = self.rng, self.n, self.days
        g = self.first + np.arange(n)
        u = rng.random(n)
        self.never = u < 0.03
        self.anon_start = (u >= 0.03) & (u < 0.35)
        self.dig = np.where(rng.random(n) < 0.6, WEB, APP)
        self.primary_topic = _choice(rng, TOPIC_P, n)
        first_names = ["anna", "ben", "carla", "dev", "emma", "farid", "grace", "hugo", "ines",
                       "jonas", "kim", "leila", "marco", "nora", "omar", "petra", "quinn",
                       "rosa", "sven", "tara", "umar", "vera", "will", "yara", "zoe"]
        last_names = ["smith", "garcia", "müller", "novak", "rossi", "kowalski", "silva",
                      "dubois", "jensen", "khan", "lee", "martin", "nguyen", "olsen", "patel"]
        domains = ["example.com", "mail.example", "inbox.test", "post.example.org"]
        fn = rng.integers(0, len(first_names), n)
        ln = rng.integers(0, len(last_names), n)
        dm = rng.integers(0, len(domains), n)
        anon = rng.integers(0, 2**48, n, dtype=np.int64)
        cid, email, email_raw, phone, phone_raw, anon_s = [], [], [], [], [], []
        for i in range(n):
            gi = int(g[i])
            cid.append(f"C{gi:07d}")
            local = f"{first_names[fn[i]]}.{last_names[ln[i]]}{gi}"
            email.append(f"{local}@{domains[dm[i]]}")
            email_raw.append(f" {local.title()}@{domains[dm[i]].upper()} ")
            digits = f"{(gi * 7919 + 1_000_003) % 10**9:09d}"
            phone.append(f"+447{digits}")
            phone_raw.append(f"+44 7{digits[:3]} {digits[3:]}")
            anon_s.append(f"a-{int(anon[i]):012x}")
        self.s_cid, self.s_email, self.s_email_raw = _obj(cid), _obj(email), _obj(email_raw)
        self.s_phone, self.s_phone_raw, self.s_anon = _obj(phone), _obj(phone_raw), _obj(anon_s)

        # journeys: start days at least 4 days apart, daytime start (6:00-23:30)
        first_day = rng.integers(0, max(1, int(days * 0.8)), n)
        K = days // 4 + 2
        extra_mean = np.exp(rng.normal(np.log(2.5), 0.6, n))  # activity level
        gaps = 4 + rng.geometric(1.0 / (1.0 + extra_mean[:, None]), (n, K)) - 1
        gaps[:, 0] = 0
        jday = first_day[:, None] + np.cumsum(gaps, axis=1)
        jt = jday * DAY + _tod(rng, (n, K))
        valid = jday < days
        kind = _choice(rng, [0.38, 0.27, 0.35], (n, K))  # 0 browse, 1 shop, 2 service
        jidx = np.broadcast_to(np.arange(K), (n, K))
        sidx = np.where(self.anon_start, 1, 0)
        sidx = np.where(self.never, K + 1, sidx)
        kind = np.where(jidx == sidx[:, None], 3, kind)  # 3 signup
        kind = np.where(jidx < sidx[:, None], 0, kind)
        ident = jidx > sidx[:, None]
        # anon-start customers whose signup would fall after the end stay anonymous
        signup_valid = (sidx < K) & valid[np.arange(n), np.minimum(sidx, K - 1)]
        self.identified = signup_valid
        self.signup_t = np.where(signup_valid, jt[np.arange(n), np.minimum(sidx, K - 1)], self.end_ms)
        self.first_t = jt[:, 0]
        self.J = dict(cust=np.nonzero(valid)[0], t=jt[valid], kind=kind[valid], ident=ident[valid])

    # ------------------------------------------------------------------ journeys
    def ids_digital(self, ident):
        return np.where(ident, ID_CID | ID_ANON, ID_ANON)

    def browse(self, sel):
        rng, J = self.rng, self.J
        c, t0, ident = J["cust"][sel], J["t"][sel], J["ident"][sel]
        ch = self.dig[c]
        src = np.where(ch == WEB, WEB_S, APP_S)
        ids = self.ids_digital(ident)
        self.ev.add(c, t0, src, ch, IN, SESSION_START, ids)
        m = 1 + rng.poisson(2.5, c.size)
        o, _ = _seg(m)
        tp = t0[o] + _seg_cumsum(rng.integers(5 * SEC, 90 * SEC, o.size), m)
        self.ev.add(c[o], tp, src[o], ch[o], IN, PAGE_VIEW, ids[o])
        lg = ident & (rng.random(c.size) < 0.5)
        self.ev.add(c[lg], t0[lg] + 3 * SEC, src[lg], ch[lg], IN, LOGIN, ID_CID | ID_ANON)
        # the CRM sync identifies every session of a known (remembered or logged-in) visitor
        self.ev.add(c[ident], t0[ident] + 4 * SEC + rng.integers(0, 2 * SEC, ident.sum()), CRM, ch[ident],
                    IN, IDENTIFY, ID_CID | ID_ANON)

    def signup(self, sel):
        rng, J = self.rng, self.J
        c, t0 = J["cust"][sel], J["t"][sel]
        store = rng.random(c.size) < 0.15
        ch = np.where(store, STORE, self.dig[c])
        d = ~store
        self.ev.add(c[d], t0[d], np.where(ch[d] == WEB, WEB_S, APP_S), ch[d], IN, SESSION_START, ID_ANON)
        ts = t0 + np.where(store, 0, rng.integers(2 * MIN, 6 * MIN, c.size))
        self.ev.add(c, ts, CRM, ch, IN, SIGNUP, ID_CID | ID_EMAIL | ID_PHONE)
        # online signups link the device; store signups get linked on the first login
        self.ev.add(c, ts + SEC, CRM, ch, IN, IDENTIFY,
                    np.where(store, ID_CID | ID_EMAIL | ID_PHONE, ID_CID | ID_ANON | ID_EMAIL | ID_PHONE))
        anon = d & self.anon_start[c]
        self.ev.add(c[anon], ts[anon] + 20 * SEC, np.where(ch[anon] == WEB, WEB_S, APP_S), ch[anon], IN,
                    LOGIN, ID_CID | ID_ANON)

    def shop(self, sel):
        rng, J = self.rng, self.J
        c, t0 = J["cust"][sel], J["t"][sel]
        k = c.size
        store = rng.random(k) < 0.12
        on = ~store
        ch = np.where(store, STORE, self.dig[c])
        src = np.where(ch == WEB, WEB_S, APP_S)
        co, t_on, ch_on, src_on = c[on], t0[on], ch[on], src[on]
        self.ev.add(co, t_on, src_on, ch_on, IN, SESSION_START, ID_CID | ID_ANON)
        self.ev.add(co, t_on + rng.integers(1 * SEC, 3 * SEC, co.size), CRM, ch_on, IN, IDENTIFY,
                    ID_CID | ID_ANON)
        m = 1 + rng.poisson(3.0, co.size)
        o, _ = _seg(m)
        tp = t_on[o] + _seg_cumsum(rng.integers(5 * SEC, 90 * SEC, o.size), m)
        self.ev.add(co[o], tp, src_on[o], ch_on[o], IN, PAGE_VIEW, ID_CID | ID_ANON)
        tpur = t0.copy()
        tpur[on] = t_on + m * 90 * SEC + rng.integers(30 * SEC, 5 * MIN, co.size)
        prod = _choice(rng, PRODUCT_P, k)
        amount = PRODUCT_PRICE[prod] * (1 + (rng.random(k) < 0.25))
        base = (self.block * 10_000_000 + self.stats.setdefault("orders", 0))
        onum = base + np.arange(k)
        self.stats["orders"] += k
        oid = _obj([f"ord-{x:08d}" for x in onum])
        pn = _obj(PRODUCTS)[prod]
        am = _obj([f"{a:.2f}" for a in amount])
        attrs = '{"product":"' + pn + '","order_id":"' + oid + '","amount":"' + am + '"}'
        self.ev.add(c, tpur, COMMERCE, ch, IN, PURCHASE, ID_CID, attrs=attrs)
        self.purchases = (c, tpur, prod)

        def msg(mask, t, chan, status, ids):
            a = ('{"kind":"transactional","product":"' + pn[mask] + '","subject":"' + oid[mask]
                 + f'","status":"{status}"' + '}')
            self.ev.add(c[mask], t, COMMERCE, chan, OUT, MESSAGE, ids, attrs=a)

        allm = np.ones(k, bool)
        msg(allm, tpur + rng.integers(1 * MIN, 5 * MIN, k), EMAIL,
            "confirmed", ID_CID | ID_EMAIL)
        tship = tpur[on] + rng.integers(int(1.1 * DAY), 2 * DAY, co.size)
        msg(on, tship, EMAIL, "shipped", ID_CID | ID_EMAIL)
        msg(on, tship + rng.integers(int(1.2 * DAY), 3 * DAY, co.size), SMS, "delivered", ID_CID | ID_PHONE)
        self.shipped = (co, tship, pn[on], oid[on])

    def service(self, sel):
        rng, J = self.rng, self.J
        c, t0 = J["cust"][sel], J["t"][sel]
        jg = np.nonzero(sel)[0]
        k = c.size
        topic = np.where(rng.random(k) < 0.55, self.primary_topic[c], _choice(rng, TOPIC_P, k))
        case_base = self.block * 10_000_000
        case = case_base + np.arange(k)
        digital = rng.random(k) < 0.5
        dch = self.dig[c]
        dsrc = np.where(dch == WEB, WEB_S, APP_S)
        dd = digital
        self.ev.add(c[dd], t0[dd], dsrc[dd], dch[dd], IN, SESSION_START, ID_CID | ID_ANON, jid=jg[dd])
        self.ev.add(c[dd], t0[dd] + rng.integers(1 * SEC, 3 * SEC, dd.sum()), CRM, dch[dd], IN, IDENTIFY,
                    ID_CID | ID_ANON, jid=jg[dd])
        m = 1 + rng.poisson(1.5, dd.sum())
        o, _ = _seg(m)
        cd = c[dd]
        self.ev.add(cd[o], t0[dd][o] + _seg_cumsum(rng.integers(5 * SEC, 60 * SEC, o.size), m),
                    dsrc[dd][o], dch[dd][o], IN, PAGE_VIEW, ID_CID | ID_ANON, jid=jg[dd][o])
        # contact steps
        nsteps = 1 + (rng.random(k) < 0.45) + 0
        nsteps = nsteps + ((nsteps == 2) & (rng.random(k) < 0.3))
        cur = CONTACT_CH[_choice(rng, FIRST_CONTACT_P, k)]
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
                    nxt[sm] = CONTACT_CH[_choice(rng, p, sm.sum())]
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
            self.ev.add(ca, ta, srca, cha, IN, CONTACT, ids, topic[a], case[a], jid=jg[a])
            has_prev = prev[a] >= 0
            hot = (prev[a] == CHAT) & (cha == PHONE)
            pf = np.where(has_prev, np.where(hot, 1 - FRICTIONLESS_HOTSPOT, 1 - FRICTIONLESS_OTHER), 0.08)
            fr = rng.random(a.size) < pf
            pairs_from.append(prev[a][has_prev]); pairs_to.append(cha[has_prev])
            pairs_ok.append(~fr[has_prev]); pairs_t.append(ta[has_prev]); pairs_j.append(jg[a][has_prev])
            f = np.nonzero(fr)[0]
            nf = 1 + (rng.random(f.size) < 0.35)
            o, _ = _seg(nf)
            fi = f[o]
            ft = _choice(rng, [0.5, 0.3, 0.2], fi.size)
            ftyp = np.array([REPEAT_INFO, REAUTH, TRANSFER])[ft]
            fattrs = np.full(fi.size, None, dtype=object)
            ri = ftyp == REPEAT_INFO
            fattrs[ri] = '{"field":"' + _obj(FIELDS)[rng.integers(0, len(FIELDS), ri.sum())] + '"}'
            self.ev.add(ca[fi], ta[fi] + rng.integers(1 * MIN, 25 * MIN, fi.size), srca[fi], cha[fi],
                        np.where(ftyp == TRANSFER, OUT, IN), ftyp, ID_CID, topic[a][fi], case[a][fi],
                        attrs=fattrs, jid=jg[a][fi])
            np.add.at(nfric, a[fi], 1)
            last_ch[a], last_t[a] = cha, ta
        # acknowledgement + resolution + surveys
        cs = _obj([f"case-{x:08d}" for x in case])
        self.case_str = (case_base, cs)
        ack = ('{"kind":"service","subject":"' + cs + '","status":"received"}')
        self.ev.add(c, first_t + rng.integers(1 * MIN, 10 * MIN, k), CRM, EMAIL, OUT, MESSAGE,
                    ID_CID | ID_EMAIL, topic, case, attrs=ack, jid=jg)
        unresolved = rng.random(k) < np.where(topic == COMPLAINT, 0.35, 0.04)
        rs = ~unresolved
        tres = last_t + np.clip(_lognormal_ms(rng, 5 * 3600, 1.2, k), 20 * MIN, 6 * DAY)
        srcl = np.where((last_ch == CHAT) | (last_ch == SOCIAL), SUPPORT, CRM)
        self.ev.add(c[rs], tres[rs], srcl[rs], last_ch[rs], OUT, RESOLUTION, ID_CID, topic[rs], case[rs], jid=jg[rs])
        done = '{"kind":"service","subject":"' + cs[rs] + '","status":"resolved"}'
        self.ev.add(c[rs], tres[rs] + rng.integers(1 * MIN, 5 * MIN, rs.sum()), CRM, EMAIL, OUT, MESSAGE,
                    ID_CID | ID_EMAIL, topic[rs], case[rs], attrs=done, jid=jg[rs])
        sv = rng.random(k) < 0.45
        sch = np.where(rng.random(k) < 0.75, EMAIL, SMS)
        tsv = last_t + rng.integers(2 * HOUR, 16 * HOUR, k)
        ces = np.clip(np.rint(rng.normal(5.9 - 1.3 * nfric - 0.6 * (nsteps - 1), 0.9)), 1, 7).astype(int)
        sattrs = '{"ces":"' + _obj([str(x) for x in range(8)])[ces[sv]] + '"}'
        self.ev.add(c[sv], tsv[sv], SURVEY, sch[sv], IN, SURVEY_T,
                    np.where(sch[sv] == EMAIL, ID_CID | ID_EMAIL, ID_CID | ID_PHONE), topic[sv], case[sv],
                    attrs=sattrs, jid=jg[sv])
        svt = sv & (sch != last_ch)
        pairs_from.append(last_ch[svt]); pairs_to.append(sch[svt])
        pairs_ok.append(np.ones(svt.sum(), bool)); pairs_t.append(tsv[svt]); pairs_j.append(jg[svt])
        self.pairs = (np.concatenate(pairs_from), np.concatenate(pairs_to),
                      np.concatenate(pairs_ok), np.concatenate(pairs_t), np.concatenate(pairs_j))
        # per-journey friction for the retention segments
        multi = nsteps > 1
        self.svc = dict(cust=c, t=t0, topic=topic, friction=(nfric > 0) | multi)

    # ------------------------------------------------------------------ churn
    def churn(self):
        rng, n = self.rng, self.n
        s = self.svc
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
        in30 = s["t"] < self.first_t[s["cust"]] + LANDMARK_DAYS * DAY
        frictioned = np.zeros(n, bool)
        frictioned[s["cust"][jf & in30]] = True
        self.frictioned = frictioned
        landmark = self.first_t + LANDMARK_DAYS * DAY
        h = CHURN_HAZARD_SEAMLESS * np.where(frictioned, CHURN_HAZARD_RATIO, 1.0)
        churn_t = landmark + (rng.exponential(1.0, n) / h * DAY).astype(np.int64)
        early = rng.random(n) < 0.03
        churn_t = np.where(early, self.first_t + rng.integers(5 * DAY, LANDMARK_DAYS * DAY, n), churn_t)
        churn_t = np.maximum(churn_t, self.signup_t + 4 * DAY)
        churn_t = np.where(self.identified, churn_t, np.iinfo(np.int64).max // 4)
        self.churn_t = churn_t
        ok = (churn_t < self.end_ms)
        cc = np.nonzero(ok)[0]
        r = rng.random(cc.size)
        ch = np.where(r < 0.35, WEB, np.where(r < 0.5, STORE, PHONE))
        self.ev.add(cc, churn_t[cc], CRM, ch, IN, CHURN, ID_CID)
        # journeys must start >= 3.4 days before the churn (so the churn is its own journey)
        keep = self.J["t"] <= churn_t[self.J["cust"]] - int(3.4 * DAY)
        keep |= self.J["kind"] == 3
        self.jkeep = keep

    # ------------------------------------------------------------------ marketing
    def _purchased_within(self, cust, prod, t, window):
        pc, pt, pp = self.purchases
        key_p = (pc * 8 + pp) * (1 << 36) + pt
        srt = np.sort(key_p)
        key_q = (cust * 8 + prod) * (1 << 36) + t
        i = np.searchsorted(srt, key_q, side="left") - 1  # last purchase strictly before t
        found = i >= 0
        prev = srt[np.maximum(i, 0)]
        same = found & ((prev >> 36) == (cust * 8 + prod))
        return same & (t - (prev & ((1 << 36) - 1)) <= window)

    def marketing(self):
        rng, n, days = self.rng, self.n, self.days
        idc = np.nonzero(self.identified)[0]
        active_days = np.maximum(0, (self.end_ms - self.signup_t[idc]) / DAY)
        cnt = rng.poisson(active_days / 6.0)
        o, _ = _seg(cnt)
        c = idc[o]
        t = self.signup_t[c] + (rng.random(c.size) * (self.end_ms - self.signup_t[c])).astype(np.int64)
        t = (t // DAY) * DAY + _tod(rng, c.size, 8, 20)
        t = np.maximum(t, self.signup_t[c] + HOUR)
        prod = _choice(rng, PRODUCT_P, c.size)
        suppressed = self._purchased_within(c, prod, t, 14 * DAY)
        c, t, prod = c[~suppressed], t[~suppressed], prod[~suppressed]
        r = rng.random(c.size)
        ch = np.where(r < 0.7, EMAIL, np.where(r < 0.9, SMS, SOCIAL))
        ids = np.where(ch == SMS, ID_CID | ID_PHONE, np.where(ch == EMAIL, ID_CID | ID_EMAIL, ID_CID))
        attrs = '{"kind":"promo","product":"' + _obj(PRODUCTS)[prod] + '"}'
        self.ev.add(c, t, MARKETING, ch, OUT, MESSAGE, ids, attrs=attrs)

        # planted: misconfigured campaign (suppression list disabled)
        cday = self.cfg["campaign_day"]
        tc = cday * DAY + 10 * HOUR + rng.integers(0, HOUR, n)
        cust = np.arange(n)
        elig = self.identified & (self.signup_t < tc) & (self.churn_t > tc)
        prodc = np.full(n, CAMPAIGN_PRODUCT)
        bought = self._purchased_within(cust, prodc, tc, 14 * DAY)
        target = elig & (bought | (rng.random(n) < 0.2))
        tch = np.where(rng.random(n) < 0.7, EMAIL, SMS)
        ids = np.where(tch == SMS, ID_CID | ID_PHONE, ID_CID | ID_EMAIL)
        attrs = np.full(n, '{"kind":"promo","product":"' + PRODUCTS[CAMPAIGN_PRODUCT]
                        + f'","campaign":"{CAMPAIGN}"' + '}', dtype=object)
        mark = np.where(bought, 1, 0)
        self.ev.add(cust[target], tc[target], MARKETING, tch[target], OUT, MESSAGE, ids[target],
                    attrs=attrs[target], mark=mark[target])
        # planted: contradictory status: "cancelled" SMS next to the "shipped" e-mail
        co, tship, pn, oid = self.shipped
        on_day = (tship >= cday * DAY) & (tship < (cday + 1) * DAY)
        k = on_day.sum()
        a = ('{"kind":"transactional","product":"' + pn[on_day] + '","subject":"' + oid[on_day]
             + '","status":"cancelled"}')
        self.ev.add(co[on_day], tship[on_day] + rng.integers(5 * MIN, 3 * HOUR, k), COMMERCE, SMS, OUT,
                    MESSAGE, ID_CID | ID_PHONE, attrs=a, mark=2)

    # ------------------------------------------------------------------ run
    def run(self) -> dict:
        self.customers()
        J = self.J
        kind = J["kind"]
        # generate service first (friction drives churn), then churn, then filter journeys
        self.service(kind == 2)
        self.churn()
        keepJ = self.jkeep
        # drop events of removed journeys afterwards by churn filter (journeys after churn)
        self.browse((kind == 0) & keepJ)
        self.signup(kind == 3)
        self.shop((kind == 1) & keepJ)
        self.marketing()
        E = self.ev.concat()
        # service journeys were generated before the churn was known: drop those starting
        # less than 3.4 days before it, and every event after the churn or outside the period
        keep = (E["t"] >= 0) & (E["t"] < self.end_ms) & (E["t"] <= self.churn_t[E["cust"]])
        keep &= (E["jid"] < 0) | keepJ[np.maximum(E["jid"], 0)]
        E = {k: v[keep] for k, v in E.items()}
        order = np.lexsort((E["typ"], E["t"], E["cust"]))
        E = {k: v[order] for k, v in E.items()}
        # ingestion lag
        rng = self.rng
        n = E["t"].size
        lag = np.zeros(n, np.int64)
        for s, (med, sig) in LAG.items():
            m = E["src"] == s
            lag[m] = _lognormal_ms(rng, med, sig, m.sum())
        on, off = self.cfg["crm_onset"], self.cfg["crm_recovery"]
        reg = (E["src"] == CRM) & (E["t"] >= on) & (E["t"] < off)
        lag[reg] = (lag[reg] * CRM_FACTOR).astype(np.int64)
        neg = rng.random(n) < NEGATIVE_LAG_SHARE
        lag[neg] = -rng.integers(50, 2500, neg.sum())
        E["lag"] = lag
        return E


def _columns(blk: _Block, E: dict, start_ms: int, id_prefix: str, id_start: int) -> dict:
    n = E["t"].size
    occ = np.datetime_as_string((start_ms + E["t"]).astype("datetime64[ms]"), unit="ms").astype(object) + "Z"
    ing = np.datetime_as_string((start_ms + E["t"] + E["lag"]).astype("datetime64[ms]"),
                                unit="ms").astype(object) + "Z"
    eid = _obj([f"{id_prefix}{i:09d}" for i in range(id_start, id_start + n)])
    c = E["cust"]
    ids = E["ids"]
    none = np.full(n, None, dtype=object)

    def pick(bit, arr):
        out = none.copy()
        m = (ids & bit) != 0
        out[m] = arr[c[m]]
        return out

    email = pick(ID_EMAIL, blk.s_email)
    m = (ids & ID_EMAIL_RAW) != 0
    email[m] = blk.s_email_raw[c[m]]
    phone = pick(ID_PHONE, blk.s_phone)
    m = (ids & ID_PHONE_RAW) != 0
    phone[m] = blk.s_phone_raw[c[m]]
    topic = none.copy()
    m = E["topic"] >= 0
    topic[m] = _obj(TOPICS)[E["topic"][m]]
    case = none.copy()
    m = E["case"] >= 0
    case[m] = _obj([f"case-{x:08d}" for x in E["case"][m]]) if m.any() else case[m]
    return {
        "event_id": eid, "occurred_at": occ, "ingested_at": ing,
        "source": _obj(SOURCES)[E["src"]], "channel": _obj(CHANNELS)[E["ch"]],
        "direction": _obj(DIRECTIONS)[E["dir"]], "type": _obj(TYPES)[E["typ"]],
        "customer_id": pick(ID_CID, blk.s_cid), "anonymous_id": pick(ID_ANON, blk.s_anon),
        "email": email, "phone": phone, "topic": topic, "case_id": case, "attrs": E["attrs"],
    }


def _jsonl_lines(cols: dict) -> np.ndarray:
    n = cols["event_id"].size
    opt = []
    for k in ("customer_id", "anonymous_id", "email", "phone", "topic", "case_id"):
        v = cols[k]
        m = v != None  # noqa: E711
        frag = np.full(n, "", dtype=object)
        if m.any():
            frag[m] = f',"{k}":"' + v[m] + '"'
        opt.append(frag)
    a = cols["attrs"]
    m = a != None  # noqa: E711
    at = np.full(n, "", dtype=object)
    if m.any():
        at[m] = ',"attrs":' + a[m]
    lines = [
        f'{{"event_id":"{e}","occurred_at":"{o}","ingested_at":"{i}","source":"{s}","channel":"{c}",'
        f'"direction":"{d}","type":"{t}"{f1}{f2}{f3}{f4}{f5}{f6}{f7}}}'
        for e, o, i, s, c, d, t, f1, f2, f3, f4, f5, f6, f7 in zip(
            cols["event_id"].tolist(), cols["occurred_at"].tolist(), cols["ingested_at"].tolist(),
            cols["source"].tolist(), cols["channel"].tolist(), cols["direction"].tolist(),
            cols["type"].tolist(), *(f.tolist() for f in opt), at.tolist())
    ]
    return _obj(lines)


BAD_KINDS = ["invalid_json", "missing_source", "bad_time", "unknown_direction", "ces_out_of_range",
             "no_identifier"]


def _bad_row(kind: str, base: dict, eid: str, table: bool) -> tuple[dict | None, str | None]:
    row = {k: base[k] for k in COLUMNS}
    row["event_id"] = eid
    if kind == "invalid_json":
        if table:
            row["attrs"] = '{"kind":"promo","product":'  # truncated: attrs is not valid JSON
            return row, None
        line = _jsonl_lines({k: _obj([v]) for k, v in row.items()})[0]
        return None, line[: len(line) // 2]
    if kind == "missing_source":
        row["source"] = None
    elif kind == "bad_time":
        row["occurred_at"] = "yesterday"
    elif kind == "unknown_direction":
        row["direction"] = "sideways"
    elif kind == "ces_out_of_range":
        row.update(type="survey", source="survey", channel="email", direction="inbound", attrs='{"ces":"9"}')
    elif kind == "no_identifier":
        row.update(customer_id=None, anonymous_id=None, email=None, phone=None)
    if table:
        return row, None
    d = {k: v for k, v in row.items() if v is not None}
    if "attrs" in d:
        d["attrs"] = json.loads(d["attrs"])
    return None, json.dumps(d, separators=(",", ":"), ensure_ascii=False)


class _Writer:
    def __init__(self, path: Path, compresslevel: int):
        name = path.name.lower()
        if name.endswith(".jsonl.gz") or name.endswith(".json.gz"):
            self.fmt = "jsonl"
            self._raw = open(path, "wb")
            self.fh = gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", compresslevel=compresslevel,
                                    mtime=0)
        elif name.endswith(".jsonl") or name.endswith(".json"):
            self.fmt = "jsonl"
            self._raw = None
            self.fh = open(path, "wb")
        elif name.endswith(".csv") or name.endswith(".csv.gz"):
            self.fmt = "csv"
            self._raw = open(path, "wb")
            self.fh = (gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", compresslevel=compresslevel,
                                     mtime=0) if name.endswith(".gz") else self._raw)
            self.header = True
        elif name.endswith(".parquet"):
            self.fmt = "parquet"
            self.path = path
            self.pq = None
        else:
            raise ValueError(f"unsupported output format: {path.name} (use .jsonl, .jsonl.gz, .csv, .parquet)")

    @property
    def table(self) -> bool:
        return self.fmt != "jsonl"

    def write(self, cols: dict, order: np.ndarray, bad: list[tuple[int, dict | None, str | None]]) -> int:
        if self.fmt == "jsonl":
            lines = _jsonl_lines(cols)[order]
            if bad:
                pos = np.array([b[0] for b in bad])
                lines = np.insert(lines, pos, _obj([b[2] for b in bad]))
            self.fh.write(("\n".join(lines.tolist()) + "\n").encode("utf-8"))
            return lines.size
        out = {k: v[order] for k, v in cols.items()}
        if bad:
            pos = np.array([b[0] for b in bad])
            out = {k: np.insert(v, pos, _obj([b[1][k] for b in bad])) for k, v in out.items()}
        n = out["event_id"].size
        if self.fmt == "csv":
            import pandas as pd
            df = pd.DataFrame({k: out[k] for k in COLUMNS})
            self.fh.write(df.to_csv(index=False, header=self.header, lineterminator="\n").encode("utf-8"))
            self.header = False
            return n
        import pyarrow as pa
        import pyarrow.parquet as pq
        tbl = pa.table({k: pa.array(out[k].tolist(), type=pa.string()) for k in COLUMNS})
        if self.pq is None:
            self.pq = pq.ParquetWriter(self.path, tbl.schema, compression="zstd")
        self.pq.write_table(tbl)
        return n

    def close(self, empty_cols: dict | None = None):
        if self.fmt == "parquet":
            if self.pq is None:
                import pyarrow as pa
                import pyarrow.parquet as pq
                pq.write_table(pa.table({k: pa.array([], type=pa.string()) for k in COLUMNS}), self.path)
            else:
                self.pq.close()
            return
        if self.fh is not self._raw:
            self.fh.close()
        if self._raw is not None:
            self._raw.close()


def _planted_base(path: Path) -> Path:
    name = path.name
    for ext in (".jsonl.gz", ".json.gz", ".csv.gz", ".jsonl", ".json", ".csv", ".parquet"):
        if name.lower().endswith(ext):
            return path.with_name(name[: -len(ext)] + ".planted.json")
    return path.with_name(name + ".planted.json")


def generate(out: str | Path, customers: int = 2000, days: int = 60, seed: int = 7,
             start: datetime | None = None, bad_rows: bool = True,
             progress: Callable[[int], None] | None = None, compresslevel: int = 3) -> SampleResult:
    """Write ``customers`` synthetic customers' events over ``days`` days to ``out``.

    The format follows the suffix: ``.jsonl``, ``.jsonl.gz``, ``.csv`` (attrs as a JSON
    string) or ``.parquet`` (all columns strings). A ``<name>.planted.json`` with the
    planted facts is written beside it. Same arguments => byte-identical files.
    """
    if customers < 1 or days < 8:
        raise ValueError("need customers >= 1 and days >= 8")
    path = Path(out)
    start = start or datetime(2026, 9, 1, tzinfo=UTC)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    start = start.astimezone(UTC)
    start_ms = int(round(start.timestamp() * 1000))
    end = start + timedelta(days=days)
    onset = int(days * 0.6) * DAY + 14 * HOUR
    recovery = onset + max(2, int(days * 0.2)) * DAY - 4 * HOUR
    cday = int(days * 0.4)
    cfg = dict(crm_onset=onset, crm_recovery=recovery, campaign_day=cday)

    writer = _Writer(path, compresslevel)
    id_prefix = f"s{seed}-"
    next_id = 0
    written = 0
    bad_counts = {k: 0 for k in BAD_KINDS}
    dup_total = 0
    bad_seq = 0
    agg = dict(pair_hot=0, pair_hot_ok=0, pair_other=0, pair_other_ok=0, promo_after_purchase=0,
               contradictory_status=0, crm_before=[], crm_after=[], crm_recovered=[],
               frictioned=0, seamless=0, churn_frictioned=0, churn_seamless=0, types={}, never=0,
               anon_start=0, unresolved_complaints=0)
    nblocks = (customers + BLOCK_CUSTOMERS - 1) // BLOCK_CUSTOMERS
    try:
        for b in range(nblocks):
            first = b * BLOCK_CUSTOMERS
            n = min(BLOCK_CUSTOMERS, customers - first)
            blk = _Block(seed, b, first, n, days, cfg)
            E = blk.run()
            cols = _columns(blk, E, start_ms, id_prefix, next_id)
            ne = E["t"].size
            next_id += ne
            _accumulate(agg, blk, E, cfg)
            rng = np.random.default_rng(np.random.SeedSequence([seed, b, 0xBAD]))
            order = np.arange(ne)
            bad: list = []
            if bad_rows and ne > 0:
                ndup = int(round(ne * 0.001)) + (1 if b == 0 else 0)
                src = np.sort(rng.choice(ne, size=min(ndup, ne), replace=False))
                pos = np.minimum(src + 1 + rng.integers(0, 2000, src.size), ne)
                order = np.insert(order, pos, src)
                dup_total += src.size
                nbad = max(len(BAD_KINDS) if b == 0 else 0, int(round(ne * 0.001)))
                bpos = np.sort(rng.integers(0, order.size + 1, nbad))
                for j in range(nbad):
                    kind = BAD_KINDS[(bad_seq + j) % len(BAD_KINDS)]
                    base_i = int(rng.integers(0, ne))
                    base = {k: cols[k][base_i] for k in COLUMNS}
                    row, line = _bad_row(kind, base, f"{id_prefix}bad-{bad_seq + j:06d}", writer.table)
                    bad.append((int(bpos[j]), row, line))
                    bad_counts[kind] += 1
                bad_seq += nbad
            written += writer.write(cols, order, bad)
            if progress is not None:
                progress(written)
    finally:
        writer.close()

    planted = _planted(agg, cfg, start_ms, start, end, customers, days, seed, written,
                       bad_counts, dup_total, writer.table)
    ppath = _planted_base(path)
    ppath.write_text(json.dumps(planted, indent=2, sort_keys=False) + "\n")
    return SampleResult(path=path, events=written, customers=customers, start=start, end=end,
                        planted=planted, planted_path=ppath)


def _accumulate(agg: dict, blk: _Block, E: dict, cfg: dict) -> None:
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


def _planted(agg, cfg, start_ms, start, end, customers, days, seed, written, bad_counts, dup_total,
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
        "start": _iso(start_ms), "end": _iso(start_ms + days * DAY),
        "events": written,
        "valid_unique_events": written - sum(bad_counts.values()) - dup_total,
        "event_types": agg["types"],
        "identity": {"anonymous_start_customers": agg["anon_start"], "never_identified_customers": agg["never"],
                     "notes": "anonymous sessions are linked by a later identify/login carrying anonymous_id + "
                              "customer_id; ~30% of email/phone contacts carry only an un-normalised email "
                              "or phone, linked by the signup/identify events"},
        "latency_regression": {
            "source": "crm", "onset": _iso(start_ms + on), "recovered_at": _iso(start_ms + off),
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
            "day": _iso(start_ms + cday * DAY)[:10],
            "from": _iso(start_ms + cday * DAY), "to": _iso(start_ms + (cday + 2) * DAY),
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
            {"at": _iso(start_ms + on), "source": "crm", "text": "crm-sync v2.3 deploy"},
            {"at": _iso(start_ms + off), "source": "crm",
             "text": "crm-sync v2.3.1 hotfix (batching reverted)"},
            {"at": _iso(start_ms + ctime), "source": "marketing",
             "text": f"campaign {CAMPAIGN} launched (suppression list disabled by mistake)"},
        ],
    }
