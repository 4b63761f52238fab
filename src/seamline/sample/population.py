"""The customers of a block: personas, identifiers and journey schedule.

Each customer gets a name-based e-mail (also in an un-normalised spelling), a
phone number (also un-normalised), an anonymous device id, a preferred digital
channel and a primary topic; ~32 % start anonymous and ~3 % never identify.
Journeys (browse, shop, service, signup) start at least 4 days apart in the
daytime.
"""
from __future__ import annotations

import numpy as np

from seamline.sample.arrays import choice, obj, tod
from seamline.sample.catalog import DAY, WEB, APP, TOPIC_P


def customers(blk):
    rng, n, days = blk.rng, blk.n, blk.days
    g = blk.first + np.arange(n)
    u = rng.random(n)
    blk.never = u < 0.03
    blk.anon_start = (u >= 0.03) & (u < 0.35)
    blk.dig = np.where(rng.random(n) < 0.6, WEB, APP)
    blk.primary_topic = choice(rng, TOPIC_P, n)
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
    blk.s_cid, blk.s_email, blk.s_email_raw = obj(cid), obj(email), obj(email_raw)
    blk.s_phone, blk.s_phone_raw, blk.s_anon = obj(phone), obj(phone_raw), obj(anon_s)

    # journeys: start days at least 4 days apart, daytime start (6:00-23:30)
    first_day = rng.integers(0, max(1, int(days * 0.8)), n)
    K = days // 4 + 2
    extra_mean = np.exp(rng.normal(np.log(2.5), 0.6, n))  # activity level
    gaps = 4 + rng.geometric(1.0 / (1.0 + extra_mean[:, None]), (n, K)) - 1
    gaps[:, 0] = 0
    jday = first_day[:, None] + np.cumsum(gaps, axis=1)
    jt = jday * DAY + tod(rng, (n, K))
    valid = jday < days
    kind = choice(rng, [0.38, 0.27, 0.35], (n, K))  # 0 browse, 1 shop, 2 service
    jidx = np.broadcast_to(np.arange(K), (n, K))
    sidx = np.where(blk.anon_start, 1, 0)
    sidx = np.where(blk.never, K + 1, sidx)
    kind = np.where(jidx == sidx[:, None], 3, kind)  # 3 signup
    kind = np.where(jidx < sidx[:, None], 0, kind)
    ident = jidx > sidx[:, None]
    # anon-start customers whose signup would fall after the end stay anonymous
    signup_valid = (sidx < K) & valid[np.arange(n), np.minimum(sidx, K - 1)]
    blk.identified = signup_valid
    blk.signup_t = np.where(signup_valid, jt[np.arange(n), np.minimum(sidx, K - 1)], blk.end_ms)
    blk.first_t = jt[:, 0]
    blk.J = dict(cust=np.nonzero(valid)[0], t=jt[valid], kind=kind[valid], ident=ident[valid])
