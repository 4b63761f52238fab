"""No raw email or phone at rest (SPEC §8): in the quarantine's raw text and
in attrs they are stored as their hashes; checked over every string column
of every stored table (real chDB)."""

from __future__ import annotations

import hashlib
import json

from test_governance import warehouse_hits


def sha(kind: str, value: str) -> str:
    return hashlib.sha256(f"test-salt:{kind}:{value}".encode()).hexdigest()


BASE = {"occurred_at": "2026-03-01T10:00:00.000Z", "source": "web", "channel": "web",
        "direction": "inbound", "type": "contact"}


def test_quarantine_text_and_attrs_hold_hashes_not_emails_or_phones(wh, settings, tmp_path):
    from seamline.load import load_file

    rows = [
        json.dumps({"event_id": "q1", **{k: v for k, v in BASE.items() if k != "source"}, "customer_id": "C1",
                    "email": " Ann@Example.COM ", "phone": "+1 (555) 010-0199",
                    "attrs": {"contact_email": "x@y.example", "note": "write to bob@corp.example please"}}),
        '{"event_id": "q2", "email": "carol@site.example", "phone": "0176 2233445" broken',
        json.dumps({"event_id": "e1", **BASE, "customer_id": "C2",
                    "attrs": {"email": "Dan@D.example", "mobile": "555-1234", "subject": "order 1",
                              "text": "cc eve@e.example"}}),
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(rows) + "\n")
    report = load_file(wh, path, settings.hash_salt, progress=False)
    assert (report.read, report.loaded, report.quarantined) == (3, 1, 2)
    raws = ["Ann@Example.COM", "ann@example.com", "555) 010-0199", "15550100199", "x@y.example",
            "bob@corp.example", "carol@site.example", "0176 2233445", "Dan@D.example", "dan@d.example",
            "555-1234", "eve@e.example"]
    assert warehouse_hits(wh, raws) == {}
    q1, q2 = [r for (r,) in wh.rows("SELECT raw FROM quarantine ORDER BY line")]
    assert json.loads(q1)["email"] == f" {sha('email', 'ann@example.com')} "
    assert json.loads(q1)["phone"] == sha("phone", "+15550100199")
    assert json.loads(q1)["attrs"] == {"contact_email": sha("email", "x@y.example"),
                                       "note": f"write to {sha('email', 'bob@corp.example')} please"}
    assert q2 == (f'{{"event_id": "q2", "email": "{sha("email", "carol@site.example")}", '
                  f'"phone": "{sha("phone", "01762233445")}" broken')
    (attrs,) = wh.rows("SELECT attrs FROM events")[0]
    assert attrs == {"email": sha("email", "dan@d.example"), "mobile": sha("phone", "5551234"),
                     "subject": "order 1", "text": f"cc {sha('email', 'eve@e.example')}"}
