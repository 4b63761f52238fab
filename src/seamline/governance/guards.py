"""Identity guards (SPEC §2): identifier values that identify no one, and
components too large to be one person (suspected over-merges)."""

from __future__ import annotations

from typing import Any

from seamline.sqlfile import statement
from seamline.warehouse import Warehouse

# SPEC §2's blocked values, compared with the trimmed, lower-cased value
# (sql/load_parse.sql holds the same list).
DEFAULT_BLOCKED = ("null", "undefined", "none", "nan", "0", "-1", "anonymous", "unknown", "guest")


def blocked_values(settings) -> list[str]:
    return sorted(set(DEFAULT_BLOCKED) | {v.strip().lower() for v in getattr(settings, "identity_blocked_values", [])})


def blocked_nodes(wh: Warehouse | None, settings) -> list[str]:
    """The identity nodes of the blocked values (a search for a component never crosses them)."""
    from seamline.governance.forget import hash_value, normalise
    from seamline.governance.salt import effective

    salt = effective(wh, settings)
    nodes = []
    for v in blocked_values(settings):
        nodes += [f"c:{v}", f"a:{v}"]  # (ids are blocked in any case: see migration 0020)
        if "@" in v:
            nodes.append("e:" + hash_value(salt, "email", normalise("email", v)))
        phone = normalise("phone", v)
        if phone.strip("+"):
            nodes.append("p:" + hash_value(salt, "phone", phone))
    return sorted(set(nodes))


def wanted_blocklist(wh: Warehouse | None, settings) -> set[tuple[str, str]]:
    """The identity_blocklist rows the settings call for (migration 0020)."""
    rows = {("value", v) for v in blocked_values(settings)}
    rows |= {("pattern", p) for p in settings.identity_blocked_patterns}
    rows |= {("node", n) for n in blocked_nodes(wh, settings)}
    return rows


def sync_blocklist(wh: Warehouse, settings) -> bool:
    """Copy the configured blocked values to the warehouse, where the load
    and the identity job read them; True when they changed."""
    want = wanted_blocklist(wh, settings)
    have = {(k, v) for k, v in wh.rows(statement("seamline.governance", "guards", "blocklist"))}
    if want == have:
        return False
    wh.command(statement("seamline.governance", "guards", "clear_blocklist"))
    if want:
        wh.insert("identity_blocklist", sorted(want), ["kind", "value"])
    return True


def suspected_overmerges(wh: Warehouse, settings, limit: int = 100) -> list[dict[str, Any]]:
    """Customers with more than ``identity_max_identifiers`` identifiers, largest first.

    Each: ``{"customer": key, "identifiers": n, "customer_ids": n, "anonymous_ids": n,
    "emails": n, "phones": n, "events": n}`` (the dashboard's and ``seamline identity
    overmerged``'s rows)."""
    return wh.dicts(statement("seamline.governance", "guards", "overmerged"),
                    {"max": settings.identity_max_identifiers, "limit": limit})
