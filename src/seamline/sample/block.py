"""One block of customers: the generation order and the ingestion lag.

Blocks have a fixed size and their own random stream, so the output for a seed
does not depend on the number of customers generated after them.
"""
from __future__ import annotations

import numpy as np

from seamline.sample.arrays import Events, lognormal_ms, obj
from seamline.sample.catalog import DAY, CRM, LAG, CRM_FACTOR, NEGATIVE_LAG_SHARE
from seamline.sample.churn import churn
from seamline.sample.journeys import browse, service, shop, signup
from seamline.sample.marketing import marketing
from seamline.sample.population import customers


class Block:
    """Generates the events of one block of customers.

    The steps of ``run`` share the block's state, each adding attributes the
    later ones read: ``population.customers`` the personas, identifier strings
    and journey schedule ``J``; ``journeys.service`` the transitions ``pairs``
    and per-journey friction ``svc``; ``churn.churn`` ``frictioned``,
    ``churn_t`` and the kept journeys ``jkeep``; ``journeys.shop`` the
    ``purchases`` and ``shipped`` orders that ``marketing.marketing`` suppresses
    and contradicts. The step order fixes the random stream: keep it.
    """

    def __init__(self, seed: int, block: int, first: int, n: int, days: int, cfg: dict):
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, block, 0x5EA41]))
        self.seed, self.block, self.first, self.n, self.days = seed, block, first, n, days
        self.cfg = cfg
        self.end_ms = days * DAY
        self.ev = Events()
        self.purchases = (np.zeros(0, np.int64),) * 3
        self.shipped = (np.zeros(0, np.int64), np.zeros(0, np.int64), obj([]), obj([]))
        self.stats: dict = {}

    def run(self) -> dict:
        customers(self)
        J = self.J
        kind = J["kind"]
        # generate service first (friction drives churn), then churn, then filter journeys
        service(self, kind == 2)
        churn(self)
        keepJ = self.jkeep
        # drop events of removed journeys afterwards by churn filter (journeys after churn)
        browse(self, (kind == 0) & keepJ)
        signup(self, kind == 3)
        shop(self, (kind == 1) & keepJ)
        marketing(self)
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
            lag[m] = lognormal_ms(rng, med, sig, m.sum())
        on, off = self.cfg["crm_onset"], self.cfg["crm_recovery"]
        reg = (E["src"] == CRM) & (E["t"] >= on) & (E["t"] < off)
        lag[reg] = (lag[reg] * CRM_FACTOR).astype(np.int64)
        neg = rng.random(n) < NEGATIVE_LAG_SHARE
        lag[neg] = -rng.integers(50, 2500, neg.sum())
        E["lag"] = lag
        return E
