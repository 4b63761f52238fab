"""Identity resolution (SPEC §2): connected components of identifiers; key =
smallest customer_id, else smallest identifier.  Pure unit tests of
``identity.components`` plus loads + ``resolve`` on real chDB."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hypothesis import given, settings as hsettings, strategies as st

from seamline.identity import components, resolve
from seamline.load import load_file

BASE = {"occurred_at": "2026-03-01T10:00:00.000Z", "source": "web", "channel": "web",
        "direction": "inbound", "type": "identify"}


def ev(event_id: str, /, **ids) -> dict:
    return {"event_id": event_id, **BASE, **ids}


def load(wh, tmp_path: Path, name: str, events: list[dict]):
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    report = load_file(wh, path, "test-salt", progress=False)
    assert report.quarantined == 0
    return report


def sha(kind: str, value: str) -> str:
    return hashlib.sha256(f"test-salt:{kind}:{value}".encode()).hexdigest()


def customer_of(wh) -> dict[str, str]:
    return dict(wh.rows("SELECT event_id, customer FROM customer_events"))


def identity_map(wh) -> dict[str, str]:
    return dict(wh.rows("SELECT ident, customer FROM identity_map"))


# components(): pure ------------------------------------------------------------------
def test_components_empty():
    assert components([], []) == {}


def test_components_single_node_is_its_own_key_without_prefix():
    assert components(["a:dev1"], ["a:dev1"]) == {"a:dev1": "dev1"}


def test_components_chain_anon_email_phone_customer():
    a = ["a:anon1", "e:hash1", "p:hash2"]
    b = ["e:hash1", "p:hash2", "c:K9"]
    assert components(a, b) == {"a:anon1": "K9", "e:hash1": "K9", "p:hash2": "K9", "c:K9": "K9"}


def test_components_customer_id_beats_a_smaller_other_identifier():
    assert components(["a:000"], ["c:ZZZ"]) == {"a:000": "ZZZ", "c:ZZZ": "ZZZ"}


def test_components_two_customer_ids_smallest_wins():
    a = ["c:K2", "a:z"]
    b = ["a:z", "c:K1"]
    assert components(a, b) == {"c:K2": "K1", "a:z": "K1", "c:K1": "K1"}
    # ids are strings: "smallest" is the lexicographic order ("10" < "9")
    assert set(components(["c:9"], ["c:10"]).values()) == {"10"}


def test_components_without_customer_id_smallest_identifier_wins():
    a = ["a:zz", "a:mm"]
    b = ["e:0abc", "a:zz"]
    assert components(a, b) == {"a:zz": "0abc", "e:0abc": "0abc", "a:mm": "0abc"}


def test_components_disjoint_and_order_independent():
    a = ["a:x", "c:B", "a:y", "p:q"]
    b = ["c:B", "a:x", "a:y", "e:r"]
    expected = {"a:x": "B", "c:B": "B", "a:y": "y", "p:q": "q", "e:r": "q"}
    assert components(a, b) == expected
    assert components(b[::-1], a[::-1]) == expected


def _reference(a: list[str], b: list[str]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a, b):
        parent[find(x)] = find(y)
    groups: dict[str, list[str]] = {}
    for node in parent:
        groups.setdefault(find(node), []).append(node)
    out = {}
    for nodes in groups.values():
        custs = [n[2:] for n in nodes if n.startswith("c:")]
        key = min(custs) if custs else min(n[2:] for n in nodes)
        out.update({n: key for n in nodes})
    return out


NODE = st.builds(lambda p, v: f"{p}:{v}", st.sampled_from("caep"), st.sampled_from(["1", "2", "10", "x", "Y", "z9"]))


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(NODE, NODE), max_size=25))
def test_components_match_a_union_find_reference(edges):
    a, b = [e[0] for e in edges], [e[1] for e in edges]
    assert components(a, b) == _reference(a, b)


# resolve() on loaded events ------------------------------------------------------------
def test_chain_resolves_to_the_customer_id(wh, tmp_path):
    load(wh, tmp_path, "chain.jsonl", [
        ev("e1", anonymous_id="a1", email=" X@Example.com"),
        ev("e2", email="x@example.com", phone="+1 555 0100"),
        ev("e3", phone="+15550100", customer_id="K5"),
        ev("e4", anonymous_id="a1"),
        ev("e5", anonymous_id="zz"),
    ])
    # before resolve, an identifier is its own customer
    assert customer_of(wh) == {"e1": "a1", "e2": sha("email", "x@example.com"), "e3": "K5", "e4": "a1", "e5": "zz"}
    result = resolve(wh)
    assert (result.nodes, result.customers) == (5, 2)
    email, phone = sha("email", "x@example.com"), sha("phone", "+15550100")
    assert identity_map(wh) == {"a:a1": "K5", f"e:{email}": "K5", f"p:{phone}": "K5", "c:K5": "K5", "a:zz": "zz"}
    assert customer_of(wh) == {"e1": "K5", "e2": "K5", "e3": "K5", "e4": "K5", "e5": "zz"}
    # a first resolve assigns keys; nothing was re-keyed
    assert result.changed_customers == set()
    assert wh.scalar("SELECT count() FROM identity_changes") == 0


def test_two_customer_ids_in_one_component_smallest_is_the_key(wh, tmp_path):
    load(wh, tmp_path, "two.jsonl", [
        ev("e1", customer_id="K2", anonymous_id="dev"),
        ev("e2", anonymous_id="dev", customer_id="K1"),
        ev("e3", customer_id="K2"),
    ])
    resolve(wh)
    assert identity_map(wh) == {"c:K1": "K1", "c:K2": "K1", "a:dev": "K1"}
    assert set(customer_of(wh).values()) == {"K1"}


def test_late_merge_rekeys_earlier_events(wh, tmp_path):
    load(wh, tmp_path, "a.jsonl", [
        ev("e1", customer_id="c7", email="x@example.com"),
        ev("e2", customer_id="c3", phone="+4930123"),
        ev("e3", email="x@example.com", anonymous_id="dev"),
    ])
    first = resolve(wh)
    assert (first.nodes, first.customers) == (5, 2)
    assert customer_of(wh) == {"e1": "c7", "e2": "c3", "e3": "c7"}

    # a later event links the email and the phone: both components merge, key c3
    load(wh, tmp_path, "link.jsonl", [ev("e4", email="x@example.com", phone="+49 30 123")])
    second = resolve(wh)
    assert second.customers == 1
    assert second.changed_customers == {"c3", "c7"}
    # c:c7, e:<x> and a:dev moved from c7 to c3 (identifiers, not customers, are counted)
    assert second.changed_idents == 3
    assert sorted(r[0] for r in wh.rows("SELECT customer FROM identity_changes")) == ["c3", "c7"]
    assert customer_of(wh) == {"e1": "c3", "e2": "c3", "e3": "c3", "e4": "c3"}
    assert set(identity_map(wh).values()) == {"c3"}

    # resolving again changes nothing and logs nothing
    third = resolve(wh)
    assert (third.changed_idents, third.changed_customers) == (0, set())
    assert wh.scalar("SELECT count() FROM identity_changes") == 2


def test_a_new_identifier_is_not_a_change_of_key(wh, tmp_path):
    load(wh, tmp_path, "one.jsonl", [ev("e1", customer_id="K1")])
    resolve(wh)
    load(wh, tmp_path, "two.jsonl", [ev("e2", anonymous_id="new-device")])
    result = resolve(wh)
    assert result.changed_idents == 1 and result.changed_customers == set()
    assert wh.scalar("SELECT count() FROM identity_changes") == 0
    assert customer_of(wh) == {"e1": "K1", "e2": "new-device"}


def test_resolve_agrees_with_the_reference_on_a_random_graph(wh, tmp_path):
    import random

    rnd = random.Random(42)
    events, a, b = [], [], []
    for i in range(80):
        ids = {}
        if rnd.random() < 0.3:
            ids["customer_id"] = f"K{rnd.randrange(12)}"
        if rnd.random() < 0.6:
            ids["anonymous_id"] = f"d{rnd.randrange(40)}"
        if rnd.random() < 0.3:
            ids["email"] = f"u{rnd.randrange(15)}@example.com"
        if not ids:
            ids["anonymous_id"] = f"d{rnd.randrange(40)}"
        nodes = ([f"c:{ids['customer_id']}"] if "customer_id" in ids else []) + \
                ([f"a:{ids['anonymous_id']}"] if "anonymous_id" in ids else []) + \
                ([f"e:{sha('email', ids['email'])}"] if "email" in ids else [])
        for n in nodes:  # the event's primary identifier is linked to each of its identifiers
            a.append(nodes[0])
            b.append(n)
        events.append(ev(f"r{i}", **ids))
    # two loads with a resolve in between: the final map must not depend on the path
    load(wh, tmp_path, "r1.jsonl", events[:40])
    resolve(wh)
    load(wh, tmp_path, "r2.jsonl", events[40:])
    result = resolve(wh)
    expected = _reference(a, b)
    assert identity_map(wh) == expected
    assert (result.nodes, result.customers) == (len(expected), len(set(expected.values())))


def _increment(wh, done: set[str]):
    """resolve() as the identity job runs it: over the committed batches not yet resolved."""
    wh.command("DROP TABLE IF EXISTS _t_batches")
    wh.command("CREATE TABLE _t_batches (batch String) ENGINE = Memory")
    wh.command("INSERT INTO _t_batches SELECT batch FROM event_batches WHERE batch NOT IN {done:Array(String)}",
               {"done": sorted(done)})
    done.update(r[0] for r in wh.rows("SELECT batch FROM _t_batches"))
    return resolve(wh, "_t_batches")


def test_an_increment_with_no_new_links_changes_nothing_and_relabels_nothing(wh, tmp_path):
    done: set[str] = set()
    load(wh, tmp_path, "a.jsonl", [ev("e1", customer_id="K1", email="x@example.com"),
                                   ev("e2", anonymous_id="dev", email="x@example.com"),
                                   ev("e3", customer_id="K2")])
    assert _increment(wh, done).nodes == 4
    before = identity_map(wh)

    # known identifiers only, in combinations already linked: nothing is relabelled
    load(wh, tmp_path, "b.jsonl", [ev("e4", anonymous_id="dev"), ev("e5", customer_id="K1", anonymous_id="dev"),
                                   ev("e6", customer_id="K2")])
    quiet = _increment(wh, done)
    assert (quiet.nodes, quiet.changed_idents, quiet.changed_customers) == (0, 0, set())
    assert identity_map(wh) == before

    # each kind of new link is still seen: a new identifier, a merge of two customers
    load(wh, tmp_path, "c.jsonl", [ev("e7", customer_id="K2", anonymous_id="tablet")])
    added = _increment(wh, done)
    assert added.nodes > 0 and identity_map(wh)["a:tablet"] == "K2"
    load(wh, tmp_path, "d.jsonl", [ev("e8", anonymous_id="tablet", email="x@example.com")])
    merged = _increment(wh, done)
    assert merged.changed_customers == {"K1", "K2"}
    assert set(identity_map(wh).values()) == {"K1"}
    full = components(*zip(*wh.rows("SELECT a, b FROM identity_edges_committed")))
    assert identity_map(wh) == full
