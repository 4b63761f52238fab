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

from seamline.sample.generator import SampleResult, generate

__all__ = ["SampleResult", "generate"]
