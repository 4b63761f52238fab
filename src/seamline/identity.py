"""Identity resolution (SPEC §2): customers are connected components of identifiers.

Nodes are prefixed identifiers (``c:`` customer_id, ``a:`` anonymous_id,
``e:`` email hash, ``p:`` phone hash); edges come from events that carry
several of them (``identity_edges``, fed at load time by a materialized view).
The key of a component is its smallest customer_id, else its smallest
identifier (without the prefix).  ``identity_map`` maps every node to its key;
events keep their raw identifiers, so a later merge re-keys earlier events
without rewriting them.  Keys that changed are logged in ``identity_changes``
so incremental jobs recompute the customers involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from seamline.warehouse import Warehouse


@dataclass
class IdentityResult:
    nodes: int
    customers: int
    changed_idents: int
    changed_customers: set[str] = field(default_factory=set)


def components(a: list[str], b: list[str]) -> dict[str, str]:
    """Map each node to its component key (pure; the algorithm under test)."""
    import numpy as np
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not a:
        return {}
    codes, uniques = pd.factorize(pd.Series(list(a) + list(b), dtype="object"))
    n = len(uniques)
    half = len(a)
    graph = coo_matrix((np.ones(half, dtype=np.int8), (codes[:half], codes[half:])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    nodes = pd.DataFrame({"node": uniques, "label": labels})
    nodes["value"] = nodes["node"].str.slice(2)
    is_cust = nodes["node"].str.startswith("c:")
    key_any = nodes.groupby("label")["value"].min()
    key_cust = nodes[is_cust].groupby("label")["value"].min()
    key = key_any.copy()
    key.loc[key_cust.index] = key_cust
    return dict(zip(nodes["node"], key.loc[nodes["label"]].to_numpy()))


def resolve(wh: Warehouse) -> IdentityResult:
    """Recompute identity_map from identity_edges; log the keys that changed."""
    import pandas as pd

    edges = wh.rows("SELECT a, b FROM identity_edges")
    mapping = components([e[0] for e in edges], [e[1] for e in edges])
    new = pd.DataFrame({"ident": list(mapping.keys()), "customer": list(mapping.values())})
    old = pd.DataFrame(wh.rows("SELECT ident, customer FROM identity_map"), columns=["ident", "customer"])
    merged = new.merge(old, on="ident", how="outer", suffixes=("", "_old"))
    changed = merged[merged["customer"].fillna("") != merged["customer_old"].fillna("")]
    result = IdentityResult(nodes=len(new), customers=new["customer"].nunique(), changed_idents=len(changed))
    if changed.empty:
        return result
    # Customers whose rollup rows must be recomputed: old keys (merged away) and new keys.
    # A brand-new identifier is not a change of key: its events are new and jobs see them anyway.
    moved = changed[changed["customer_old"].notna()]
    affected = set(moved["customer"].dropna()) | set(moved["customer_old"].dropna())
    result.changed_customers = affected
    staging = "identity_map_next"
    wh.command("DROP TABLE IF EXISTS identity_map_next")
    wh.command("CREATE TABLE identity_map_next AS identity_map")
    if len(new):
        wh.insert_df(staging, new[["ident", "customer"]])
    wh.command("EXCHANGE TABLES identity_map AND identity_map_next")
    wh.command("DROP TABLE IF EXISTS identity_map_next")
    if affected:
        now = datetime.now(timezone.utc)
        wh.insert("identity_changes", [[now, c] for c in sorted(affected)], ["changed_at", "customer"])
    return result
