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


def _labels(codes_a, codes_b, n: int):
    """Connected-component label per node, from integer edge endpoints."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(codes_a), dtype=np.int8), (codes_a, codes_b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def components(a: list[str], b: list[str]) -> dict[str, str]:
    """Map each node to its component key (pure; the reference for ``resolve``)."""
    import pandas as pd

    if not a:
        return {}
    codes, uniques = pd.factorize(pd.Series(list(a) + list(b), dtype="object"))
    labels = _labels(codes[: len(a)], codes[len(a):], len(uniques))
    nodes = pd.DataFrame({"node": uniques, "label": labels})
    nodes["value"] = nodes["node"].str.slice(2)
    nodes["rank"] = (~nodes["node"].str.startswith("c:")).astype(int)  # customer ids first
    best = nodes.sort_values(["label", "rank", "value"]).drop_duplicates("label").set_index("label")["value"]
    return dict(zip(nodes["node"], best.loc[nodes["label"]].to_numpy()))


def resolve(wh: Warehouse) -> IdentityResult:
    """Recompute identity_map from identity_edges; log the keys that changed.

    Python only labels integer-coded nodes (SciPy); keys and the diff with the
    previous map are computed in ClickHouse.
    """
    import pyarrow as pa

    with wh.client() as c:
        edges = c.query_arrow("SELECT a, b FROM identity_edges")
    a = edges.column("a").combine_chunks()
    b = edges.column("b").combine_chunks()
    enc = pa.concat_arrays([a, b]).dictionary_encode()
    codes = enc.indices.to_numpy(zero_copy_only=False)
    nodes = enc.dictionary
    labels = _labels(codes[: len(a)], codes[len(a):], len(nodes)) if len(nodes) else []
    for t in ("identity_nodes_next", "identity_map_next"):
        wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": t})
    wh.command("CREATE TABLE identity_nodes_next (node String, label UInt32) ENGINE = Memory")
    wh.command("CREATE TABLE identity_map_next AS identity_map")
    try:
        if len(nodes):
            with wh.client() as c:
                c.insert_arrow("identity_nodes_next", pa.table({"node": nodes, "label": pa.array(labels, pa.uint32())}))
        wh.command(
            "INSERT INTO identity_map_next "
            "SELECT n.node, k.key FROM identity_nodes_next AS n INNER JOIN ("
            "  SELECT label, if(countIf(startsWith(node, 'c:')) > 0, minIf(substring(node, 3), startsWith(node, 'c:')),"
            "                   min(substring(node, 3))) AS key"
            "  FROM identity_nodes_next GROUP BY label) AS k ON k.label = n.label")
        moved = [r[0] for r in wh.rows(
            "SELECT DISTINCT arrayJoin([o.customer, n.customer]) FROM identity_map AS o "
            "INNER JOIN identity_map_next AS n ON o.ident = n.ident WHERE o.customer != n.customer")]
        moved_idents = int(wh.scalar(
            "SELECT count() FROM identity_map AS o "
            "INNER JOIN identity_map_next AS n ON o.ident = n.ident WHERE o.customer != n.customer"))
        added = int(wh.scalar("SELECT count() FROM identity_map_next WHERE ident NOT IN (SELECT ident FROM identity_map)"))
        customers = int(wh.scalar("SELECT uniqExact(customer) FROM identity_map_next"))
        result = IdentityResult(nodes=len(nodes), customers=customers, changed_idents=added + moved_idents,
                                changed_customers=set(moved))
        if added or moved:
            wh.command("EXCHANGE TABLES identity_map AND identity_map_next")
        if moved:
            now = datetime.now(timezone.utc)
            wh.insert("identity_changes", [[now, c] for c in sorted(moved)], ["changed_at", "customer"])
        return result
    finally:
        for t in ("identity_nodes_next", "identity_map_next"):
            wh.command("DROP TABLE IF EXISTS {t:Identifier}", {"t": t})
