"""``seamline identity explain ID``: the chain of events that joined the
identifiers of one customer (SPEC §2).

From the identifier given, each other identifier of its component is
listed with the first event (in time) that joined it to the identifiers
already reached, and which of those it joined: a spanning tree of the
component, read in the order the customer's identity grew.  Emails and
phones are shown by the start of their hash (they are never stored raw)."""

from __future__ import annotations

import re
from typing import Any

from seamline.sqlfile import statement
from seamline.warehouse import Warehouse

KIND = {"c:": "customer_id", "a:": "anonymous_id", "e:": "email", "p:": "phone"}


class ExplainError(LookupError):
    """No customer has the identifier (one line for the user)."""


def _sql(name: str) -> str:
    return statement("seamline.governance", "explain", name)


def label(node: str) -> str:
    kind = KIND.get(node[:2], "identifier")
    if kind in ("email", "phone"):
        return f"{kind} #{node[2:14]}"
    return f"{kind} {node[2:]}"


def candidates(salt: str, identifier: str) -> list[str]:
    """The nodes an identifier a user typed may be: a node as stored, an id, an email, a phone."""
    from seamline.governance.forget import hash_value, normalise

    text = identifier.strip()
    if text[:2] in KIND and len(text) > 2:
        return [text]
    out = [f"c:{text}", f"a:{text}"]
    if "@" in text:
        out.append("e:" + hash_value(salt, "email", normalise("email", text)))
    if re.sub(r"[^0-9]", "", text):
        out.append("p:" + hash_value(salt, "phone", normalise("phone", text)))
    return out


def explain(wh: Warehouse, settings, identifier: str) -> dict[str, Any]:
    """``{"customer", "start", "identifiers", "overmerged", "chain": [{"identifier", "kind",
    "joined_to", "event_id", "occurred_at", "type", "channel", "source"}]}``; the first
    link is the start (no event)."""
    from seamline.governance.forget import component
    from seamline.governance.guards import blocked_nodes
    from seamline.governance.salt import effective

    blocked = blocked_nodes(wh, settings)
    maybe = candidates(effective(wh, settings), identifier)
    found = [n for n in maybe if n in set(wh.scalar(_sql("known"), {"nodes": maybe}))]
    if not found:
        raise ExplainError("no customer has this identifier (ids are case-sensitive; emails and phones are "
                           "matched by their hash)")
    start = found[0]
    if start in blocked:
        raise ExplainError("this identifier is a blocked value: it identifies no one")
    nodes = component(wh, start, blocked)
    reached = {start}
    chain: list[dict[str, Any]] = [{"identifier": label(start), "kind": KIND.get(start[:2]), "joined_to": None,
                                    "event_id": None, "occurred_at": None, "type": None, "channel": None,
                                    "source": None}]
    events = wh.rows(_sql("linking_events"), {"nodes": nodes})
    grew = True
    while grew and len(reached) < len(nodes):
        grew = False
        for event_id, at, type_, channel, source, carried in events:
            known = [n for n in carried if n in reached]
            new = [n for n in carried if n not in reached and n not in blocked]
            if known and new:
                for n in new:
                    chain.append({"identifier": label(n), "kind": KIND.get(n[:2]), "joined_to": label(known[0]),
                                  "event_id": event_id, "occurred_at": at, "type": type_, "channel": channel,
                                  "source": source})
                reached.update(new)
                grew = True
    key = wh.scalar(_sql("key"), {"nodes": [start]}) or start[2:]
    return {"customer": key, "start": label(start), "identifiers": len(nodes),
            "overmerged": len(nodes) > settings.identity_max_identifiers, "chain": chain}


def explain_text(result: dict[str, Any]) -> list[str]:
    from seamline.timefmt import iso_utc

    n_events = len({c["event_id"] for c in result["chain"] if c["event_id"]})
    lines = [f"customer {result['customer']}: {result['identifiers']} identifier(s) joined by {n_events} event(s)"]
    if result["overmerged"]:
        lines.append("  suspected over-merge: more identifiers than identity_max_identifiers (is a shared or "
                     "placeholder value joining people? block it with identity_blocked_values)")
    lines.append(f"  {result['start']}  (the identifier asked about)")
    for c in result["chain"][1:]:
        lines.append(f"  + {c['identifier']}  joined to {c['joined_to']} by {c['type']} on {c['channel']} "
                     f"({c['source']}) at {iso_utc(c['occurred_at'])}, event {c['event_id']}")
    return lines
