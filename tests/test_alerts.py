"""Alerts (SPEC §7) against real components: chDB with hand-built events, the
SQLite metadata DB, and a real HTTP receiver on 127.0.0.1 recording bodies.

Also the shared helpers of tests/test_alerts_*.py (``Hook``, ``alert_settings``)."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from eventkit import expand_all, load_events
from seamline.config import Settings

UTC = timezone.utc


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Hook:
    """A real HTTP receiver on loopback: records every POSTed JSON body; the
    first ``fail`` requests get ``status`` (500), or hang ``hang`` seconds."""

    def __init__(self, fail: int = 0, status: int = 500, hang: float = 0.0):
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.attempts = 0
        self.fail, self.status, self.hang = fail, status, hang
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.attempts += 1
                if hook.attempts <= hook.fail:
                    if hook.hang:
                        time.sleep(hook.hang)
                    self.send_response(hook.status)
                    self.end_headers()
                    return
                hook.bodies.append(json.loads(raw))
                hook.headers.append(dict(self.headers))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def alert_settings(settings: Settings, alerts: list[dict], receivers: list[dict], **extra) -> Settings:
    """The test's settings with these rules and receivers (validated as seamline.toml's)."""
    data = settings.model_dump(exclude={"alerts", "receivers"})
    return Settings(**(data | extra | {"alerts": alerts, "receivers": receivers}))


def run(wh, md, s, at: str):
    from seamline.alerts.delivery import deliver
    from seamline.alerts.engine import evaluate

    report = evaluate(wh, md, s, ts(at))
    deliver(md, s)
    return report


def states(md) -> dict[tuple, str]:
    from seamline.alerts import state

    return {(r["rule"], r["labels"].get("source")): r["state"] for r in state.instances(md)}


# Burn rate -------------------------------------------------------------------
# crm: one good event a minute 10:00..12:59 (lag 10 s) and ten bad ones a
# minute 11:55..11:59 (lag 120 s, ingested 11:57..12:01); target 60 s,
# objective 0.99 (budget 1 %), the page tier 1 h / 5 min at 14.4x, delay 5 min.
# web: good events only.  Worked by hand, as of T (windows end at E = T - 5 min):
#   12:00  E 11:55  1 h [10:55, 11:55): 60 good, 0 bad              -> inactive
#   12:01  E 11:56  1 h: 60 good + 10 bad (11:55, ingested 11:57)   -> 10/70 = 14.29x < 14.4
#   12:02  E 11:57  1 h: 60 + 20 bad = 25x; 5 min [11:52, 11:57): 5 + 20 = 80x -> fires
#   12:04  E 11:59  1 h: 60 + 40 (11:59 is past E) = 40x; 5 min: 5 + 40 = 88.9x
#   12:10  E 12:05  1 h: 60 + 50 = 45.5x; 5 min [12:00, 12:05): 5 good, 0 bad -> resolves
BURN = {"name": "crm-burn", "kind": "burn_rate", "objective": 0.99, "receivers": ["oncall"],
        "tiers": [{"long": "1h", "short": "5m", "rate": 14.4, "severity": "page"}]}


def burn_events():
    base = ts("2026-03-01T10:00:00Z")
    rows = []
    for src in ("crm", "web"):
        for m in range(180):
            t = base + timedelta(minutes=m)
            rows.append({"t": iso(t), "ing": iso(t + timedelta(seconds=10)), "src": src, "cust": f"c{m % 7}"})
    for m in range(115, 120):
        for k in range(10):
            t = base + timedelta(minutes=m, milliseconds=k)
            rows.append({"t": iso(t), "ing": iso(t + timedelta(seconds=120)), "src": "crm", "cust": f"c{k}"})
    return expand_all(rows)


@pytest.fixture
def burning(wh, md, settings, tmp_path, hook):
    load_events(wh, settings, burn_events(), tmp_path / "burn.jsonl")
    return alert_settings(settings, [BURN], [{"name": "oncall", "kind": "webhook", "url": hook.url}],
                          freshness_target_s=60)


def test_burn_rate_fires_on_both_windows_and_resolves(wh, md, burning, hook):
    from seamline.alerts import state

    for at in ("2026-03-01T12:00:00Z", "2026-03-01T12:01:00Z"):
        report = run(wh, md, burning, at)
        assert report.evaluated == ["crm-burn"] and not report.changes, at
    assert hook.bodies == []

    run(wh, md, burning, "2026-03-01T12:02:00Z")
    (inst,) = state.instances(md)
    assert inst["state"] == "firing" and inst["labels"]["source"] == "crm" and inst["value"] == 25.0
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "oncall"
    (alert,) = body["alerts"]
    assert alert["labels"] == {"alertname": "crm-burn", "severity": "page", "source": "crm", "windows": "1h/5m"}
    assert alert["startsAt"] == "2026-03-01T12:02:00.000Z" and alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert alert["fingerprint"] == inst["fingerprint"]
    assert "source=crm" in alert["annotations"]["dashboard"] and "/freshness?" in alert["generatorURL"]

    run(wh, md, burning, "2026-03-01T12:04:00Z")
    assert state.instances(md)[0]["value"] == 40.0 and len(hook.bodies) == 1  # still firing: no new message

    run(wh, md, burning, "2026-03-01T12:10:00Z")
    assert states(md) == {("crm-burn", "crm"): "resolved"}
    assert len(hook.bodies) == 2
    resolved = hook.bodies[1]
    assert resolved["status"] == "resolved" and resolved["alerts"][0]["endsAt"] == "2026-03-01T12:10:00.000Z"
    assert resolved["alerts"][0]["fingerprint"] == inst["fingerprint"]


def test_same_time_twice_and_earlier_times_send_nothing_new(wh, md, burning, hook):
    run(wh, md, burning, "2026-03-01T12:02:00Z")
    assert len(hook.bodies) == 1
    again = run(wh, md, burning, "2026-03-01T12:02:00Z")
    assert again.evaluated == [] and again.skipped[0]["rule"] == "crm-burn"
    run(wh, md, burning, "2026-03-01T12:01:00Z")  # the past: already judged
    assert len(hook.bodies) == 1 and states(md) == {("crm-burn", "crm"): "firing"}


def test_pending_for_then_firing(wh, md, burning, hook):
    s = alert_settings(burning, [BURN | {"for": "2m"}], [{"name": "oncall", "kind": "webhook", "url": hook.url}])
    run(wh, md, s, "2026-03-01T12:02:00Z")
    assert states(md) == {("crm-burn", "crm"): "pending"}
    run(wh, md, s, "2026-03-01T12:03:00Z")  # 1 min < for
    assert states(md) == {("crm-burn", "crm"): "pending"} and hook.bodies == []
    run(wh, md, s, "2026-03-01T12:04:00Z")  # 2 min: fires
    assert states(md) == {("crm-burn", "crm"): "firing"}
    assert len(hook.bodies) == 1 and hook.bodies[0]["alerts"][0]["startsAt"] == "2026-03-01T12:04:00.000Z"


def test_pending_that_clears_never_fires(wh, md, burning, hook):
    s = alert_settings(burning, [BURN | {"for": "10m"}], [{"name": "oncall", "kind": "webhook", "url": hook.url}])
    for at in ("2026-03-01T12:02:00Z", "2026-03-01T12:04:00Z", "2026-03-01T12:10:00Z"):
        run(wh, md, s, at)
    assert states(md) == {("crm-burn", "crm"): "inactive"} and hook.bodies == []


def test_reminder_every_repeat(wh, md, burning, hook):
    # a long short window keeps the alert firing: 1 h / 30 min at 14.4x
    rule = BURN | {"repeat": "2m", "tiers": [{"long": "1h", "short": "30m", "rate": 14.4}]}
    s = alert_settings(burning, [rule], [{"name": "oncall", "kind": "webhook", "url": hook.url}])
    for at in ("2026-03-01T12:02:00Z", "2026-03-01T12:03:00Z", "2026-03-01T12:04:00Z", "2026-03-01T12:05:00Z"):
        run(wh, md, s, at)
    assert [b["status"] for b in hook.bodies] == ["firing", "firing"]  # 12:02, the reminder at 12:04
    assert [b["alerts"][0]["startsAt"] for b in hook.bodies] == ["2026-03-01T12:02:00.000Z"] * 2


def test_silence_mutes_then_expires(wh, md, burning, hook):
    from seamline.alerts import state

    state.add_silence(md, "crm-burn", {"source": "crm"}, ts("2026-03-01T12:00:00Z"), ts("2026-03-01T12:03:30Z"),
                      "deploy in progress")
    run(wh, md, burning, "2026-03-01T12:02:00Z")
    run(wh, md, burning, "2026-03-01T12:03:00Z")
    assert states(md) == {("crm-burn", "crm"): "firing"} and hook.bodies == []  # muted
    run(wh, md, burning, "2026-03-01T12:04:00Z")  # the silence has expired: told now
    assert len(hook.bodies) == 1 and hook.bodies[0]["status"] == "firing"


def test_silence_of_another_label_does_not_mute(wh, md, burning, hook):
    from seamline.alerts import state

    state.add_silence(md, "crm-burn", {"source": "web"}, ts("2026-03-01T00:00:00Z"), ts("2026-03-02T00:00:00Z"))
    run(wh, md, burning, "2026-03-01T12:02:00Z")
    assert len(hook.bodies) == 1


def test_default_tiers_are_the_sre_workbook_ones():
    from seamline.alerts.models import AlertRule

    rule = AlertRule(name="b", kind="burn_rate", objective=0.999)
    got = [(t.long, t.short, t.rate, t.severity) for t in rule.tiers]
    h = timedelta(hours=1)
    assert got == [(h, timedelta(minutes=5), 14.4, "page"), (6 * h, timedelta(minutes=30), 6, "page"),
                   (24 * h, 2 * h, 3, "ticket"), (72 * h, 6 * h, 1, "ticket")]


def test_keep_firing_for_holds_a_cleared_alert(wh, md, burning, hook):
    s = alert_settings(burning, [BURN | {"keep_firing_for": "10m"}],
                       [{"name": "oncall", "kind": "webhook", "url": hook.url}])
    run(wh, md, s, "2026-03-01T12:02:00Z")
    run(wh, md, s, "2026-03-01T12:10:00Z")  # the condition clears
    run(wh, md, s, "2026-03-01T12:19:00Z")  # cleared 9 min ago: still firing
    assert states(md) == {("crm-burn", "crm"): "firing"} and len(hook.bodies) == 1
    run(wh, md, s, "2026-03-01T12:20:00Z")  # 10 min
    assert states(md) == {("crm-burn", "crm"): "resolved"}
    assert [b["status"] for b in hook.bodies] == ["firing", "resolved"]
    assert hook.bodies[1]["alerts"][0]["endsAt"] == "2026-03-01T12:20:00.000Z"


def test_a_removed_rule_ends_its_instances_quietly(wh, md, burning, hook):
    run(wh, md, burning, "2026-03-01T12:02:00Z")
    assert states(md) == {("crm-burn", "crm"): "firing"}
    other = alert_settings(burning, [BURN | {"name": "other", "sources": ["web"]}],
                           [{"name": "oncall", "kind": "webhook", "url": hook.url}])
    report = run(wh, md, other, "2026-03-01T12:03:00Z")
    assert states(md) == {("crm-burn", "crm"): "resolved"}
    assert [(c.rule, c.before, c.after, c.message) for c in report.changes] == [("crm-burn", "firing", "resolved", None)]
    assert len(hook.bodies) == 1  # only the first firing


@pytest.mark.skipif(not __import__("os").environ.get("SEAMLINE_TEST_POSTGRES_URL"),
                    reason="needs SEAMLINE_TEST_POSTGRES_URL (a PostgreSQL metadata database)")
def test_state_on_postgresql(wh, settings, tmp_path, hook):
    """The same life of an alert with the metadata database on PostgreSQL."""
    import os

    from sqlalchemy import text

    from seamline.alerts import state
    from seamline.metadata import Metadata

    load_events(wh, settings, burn_events(), tmp_path / "burn.jsonl")
    url = os.environ["SEAMLINE_TEST_POSTGRES_URL"]
    s = alert_settings(settings, [BURN], [{"name": "oncall", "kind": "webhook", "url": hook.url}],
                       freshness_target_s=60, metadata_url=url)
    md = Metadata(url)
    with md.engine.begin() as cx:
        for t in reversed(state.metadata.sorted_tables):
            cx.execute(text(f"DROP TABLE IF EXISTS {t.name}"))
    state._ready.discard(id(md.engine))
    state.add_silence(md, "crm-burn", {"source": "web"}, ts("2026-03-01T00:00:00Z"), ts("2026-03-02T00:00:00Z"))
    for at in ("2026-03-01T12:01:00Z", "2026-03-01T12:02:00Z", "2026-03-01T12:02:00Z", "2026-03-01T12:10:00Z"):
        run(wh, md, s, at)
    assert [b["status"] for b in hook.bodies] == ["firing", "resolved"]
    assert [n["outcome"] for n in state.notifications(md)] == ["sent", "sent"]
    assert states(md) == {("crm-burn", "crm"): "resolved"}
