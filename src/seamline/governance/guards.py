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

    salt = settings.hash_salt
    nodes = []
    for v in blocked_values(settings):
        nodes += [f"c:{v}", f"a:{v}", f"c:{v.upper()}", f"a:{v.upper()}", f"c:{v.title()}", f"a:{v.title()}"]
        if "@" in v:
            nodes.append("e:" + hash_value(salt, "email", normalise("email", v)))
        phone = normalise("phone", v)
        if phone.strip("+"):
            nodes.append("p:" + hash_value(salt, "phone", phone))
    return sorted(set(nodes))
