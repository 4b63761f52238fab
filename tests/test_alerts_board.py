"""The links in alert messages and what the dashboard reads of the alerts
(seamline.alerts.board, overlay), against chDB with hand-built events and the
real SQLite metadata DB: a message's link opens the view urlstate parses to
the alert's period and source; the deliveries say firing, reminder and
resolved; a metadata DB without alert tables reads as no alerts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from eventkit import load_events
from test_alerts import BURN, Hook, alert_settings, burn_events, run, ts

BASE = "https://seamline.example.com/board"


@pytest.fixture
def burned(wh, md, settings, tmp_path):
    """crm-burn fired at 12:02, reminded at 12:04 (repeat 2m), resolved at
    12:10, told to a webhook and a Slack receiver on loopback."""
    load_events(wh, settings, burn_events(), tmp_path / "burn.jsonl")
    hook, chat = Hook(), Hook()
    s = alert_settings(settings, [BURN | {"repeat": "2m", "receivers": ["oncall", "chat"]}],
                       [{"name": "oncall", "kind": "webhook", "url": hook.url, "external_url": BASE + "/"},
                        {"name": "chat", "kind": "slack", "url": chat.url, "external_url": BASE}],
                       freshness_target_s=60)
    try:
        for at in ("2026-03-01T12:02:00Z", "2026-03-01T12:04:00Z", "2026-03-01T12:10:00Z"):
            run(wh, md, s, at)
        yield s, hook, chat
    finally:
        hook.close()
        chat.close()


def _view(link: str):
    """The view state the dashboard makes of a link (as its pages parse it)."""
    from seamline.urlstate import Known, parse_search, parse_state

    parts = urlsplit(link)
    known = Known(sources=("crm", "web"), first_at=ts("2026-01-01T00:00:00Z"), end_of_data=ts("2026-06-01T00:00:00Z"))
    return parts.path, parse_state(parse_search("?" + parts.query), known)


def test_message_links_open_the_alerts_period_and_source(wh, md, burned):
    s, hook, chat = burned
    firing, reminder, resolved = hook.bodies
    link = firing["alerts"][0]["generatorURL"]
    assert link == firing["alerts"][0]["annotations"]["dashboard"]
    assert link.startswith(BASE + "/freshness?")  # one slash: the base's trailing one is dropped
    path, state = _view(link)
    assert path == "/board/freshness"
    assert state.preset == "custom" and state.sources == ("crm",)
    assert state.date_from == date(2026, 3, 1) and state.date_to == date(2026, 3, 1)
    # the resolved message's link covers its resolution
    path, state = _view(resolved["alerts"][0]["generatorURL"])
    assert state.sources == ("crm",) and state.date_to == date(2026, 3, 1)
    # Slack: the fallback text (what a preview shows) and the blocks link the view
    slack = chat.bodies[0]
    assert f"<{link}|view>" in slack["text"]
    assert f"<{link}|Open in Seamline>" in slack["blocks"][1]["text"]["text"]


def test_email_body_holds_the_link():
    from seamline.alerts.delivery import render
    from seamline.alerts.models import Receiver

    mail = Receiver(name="mail", kind="email", to=["oncall@example.com"], external_url=BASE)
    alert = {"status": "firing", "fingerprint": "f" * 16, "fired_at": ts("2026-10-07T17:00:00Z"),
             "labels": {"alertname": "latency", "severity": "warning", "source": "crm"},
             "annotations": {"summary": "crm: latency", "description": "slower", "page": "/freshness",
                             "view": {"period": "custom", "from": "2026-10-05", "to": "2026-10-07", "source": "crm"}}}
    body = render(mail, "firing", [alert])
    assert f"  {BASE}/freshness?period=custom&from=2026-10-05&to=2026-10-07&source=crm" in body["text"].splitlines()


def test_a_resolved_alerts_link_runs_to_the_day_it_resolved():
    from seamline.alerts.delivery import alert_view

    view = {"period": "custom", "from": "2026-10-05", "to": "2026-10-07", "source": "crm"}
    a = {"status": "resolved", "resolved_at": ts("2026-10-19T14:00:00Z"), "annotations": {"view": view}}
    assert alert_view(a) == view | {"to": "2026-10-19"}
    assert alert_view(a | {"status": "firing"}) == view
    assert alert_view({"status": "resolved", "resolved_at": ts("2026-10-19T14:00:00Z"),
                       "annotations": {"view": {"period": "30d"}}}) == {"period": "30d"}


def test_view_href_is_what_urlstate_parses():
    from seamline.alerts.board import view_href

    href = view_href("/freshness", {"period": "custom", "from": "2026-10-05", "to": "2026-10-07",
                                    "source": "a&b=c", "empty": ""})
    assert href == "/freshness?period=custom&from=2026-10-05&to=2026-10-07&source=a%26b%3Dc"
    assert view_href("/", {}) == "/" and view_href("", None) == "/"


def test_board_reads_the_alerts_life(wh, md, burned):
    from seamline.alerts import board

    insts = board.instances(md)
    assert board.firing_frame(insts).empty and board.pending_frame(insts).empty
    hist = board.history_frame(insts)
    assert hist[["rule", "labels", "fired_at", "resolved_at", "lasted_s"]].to_dict("records") == [{
        "rule": "crm-burn", "labels": "source=crm, windows=1h/5m", "fired_at": ts("2026-03-01T12:02:00Z"),
        "resolved_at": ts("2026-03-01T12:10:00Z"), "lasted_s": 480.0}]
    # a period that ended before it fired, or starts after it resolved, does not hold it
    assert board.history_frame(insts, ts("2026-03-01T12:11:00Z")).empty
    assert board.history_frame(insts, None, ts("2026-03-01T12:02:00Z")).empty
    assert len(board.history_frame(insts, ts("2026-03-01T00:00:00Z"), ts("2026-03-02T00:00:00Z"))) == 1

    deliveries = board.delivery_frame(board.notifications(md), insts)
    got = deliveries[["at", "receiver", "rules", "kind", "outcome", "attempts"]].to_dict("records")
    expected = []
    for at, kind in (("12:10", "resolved"), ("12:04", "reminder"), ("12:02", "firing")):
        for receiver in ("chat", "oncall"):
            expected.append({"at": ts(f"2026-03-01T{at}:00Z"), "receiver": receiver, "rules": "crm-burn",
                             "kind": kind, "outcome": "sent", "attempts": 1})
    assert sorted(got, key=lambda r: (r["at"], r["receiver"]), reverse=True) == \
        sorted(expected, key=lambda r: (r["at"], r["receiver"]), reverse=True)
    assert len(board.notifications(md, ts("2026-03-01T12:03:00Z"), ts("2026-03-01T12:05:00Z"))) == 2

    (period,) = board.firing_periods(insts, "/freshness", ("crm",))
    assert (period.rule, period.source, period.start, period.end, period.firing) == (
        "crm-burn", "crm", ts("2026-03-01T12:02:00Z"), ts("2026-03-01T12:10:00Z"), False)
    assert board.firing_periods(insts, "/freshness", ("web",)) == []  # another source shown
    assert board.firing_periods(insts, "/journeys") == []              # another page


def test_a_failed_delivery_shows_its_error(wh, md, settings, tmp_path):
    from seamline.alerts import board

    load_events(wh, settings, burn_events(), tmp_path / "burn.jsonl")
    dead = Hook(fail=99, status=503)
    try:
        s = alert_settings(settings, [BURN], [{"name": "oncall", "kind": "webhook", "url": dead.url,
                                                "max_attempts": 1}], freshness_target_s=60)
        run(wh, md, s, "2026-03-01T12:02:00Z")
    finally:
        dead.close()
    (row,) = board.delivery_frame(board.notifications(md), board.instances(md)).to_dict("records")
    assert (row["kind"], row["outcome"], row["attempts"]) == ("firing", "failed", 1)
    assert row["error"] == f"HTTP 503 from {dead.url}"
    assert board.firing_count(md, fresh=True) == 1
    (firing,) = board.firing_frame(board.instances(md)).to_dict("records")
    assert firing["rule"] == "crm-burn" and firing["firing_since"] == ts("2026-03-01T12:02:00Z")


def test_silences_active_scheduled_and_expired(md):
    from seamline.alerts import board, state

    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    state.add_silence(md, "latency", {"source": "crm"}, now - timedelta(hours=1), now + timedelta(hours=1), "fixing")
    state.add_silence(md, "*", {}, now - timedelta(days=3), now - timedelta(days=2), "old")
    state.add_silence(md, "latency", {}, now + timedelta(days=1), now + timedelta(days=2))
    rows = board.silence_frame(board.silences(md), now).to_dict("records")
    assert [(r["status"], r["rule"], r["matchers"], r["comment"]) for r in rows] == [
        ("active", "latency", "source=crm", "fixing"), ("scheduled", "latency", "(every instance)", ""),
        ("expired", "*", "(every instance)", "old")]
    assert rows[0]["expires_at"] == now + timedelta(hours=1)


def test_no_alert_tables_reads_as_no_alerts(tmp_path):
    from sqlalchemy import inspect

    from seamline.alerts import board
    from seamline.metadata import Metadata

    md = Metadata(f"sqlite:///{tmp_path / 'metadata.db'}")
    assert board.instances(md) == [] and board.silences(md) == [] and board.notifications(md) == []
    assert board.firing_count(md, fresh=True) == 0
    assert not inspect(md.engine).has_table("alert_instances")  # reading created nothing


def test_overlay_shades_the_clipped_period():
    import plotly.graph_objects as go

    from seamline.alerts.board import Period
    from seamline.alerts.overlay import NAME_PREFIX, shade

    start, end = ts("2026-10-01T00:00:00Z"), ts("2026-10-31T00:00:00Z")
    fig = go.Figure(go.Scatter(x=[start, end], y=[1, 2]))
    periods = [Period("latency", "crm", ts("2026-10-07T17:00:00Z"), ts("2026-11-03T00:00:00Z"), True, "crm slower"),
               Period("old", "crm", ts("2026-09-01T00:00:00Z"), ts("2026-09-02T00:00:00Z"), False, ""),
               Period("blip", "web", ts("2026-10-10T00:00:00Z"), ts("2026-10-10T00:00:00Z"), True, "<b>x</b>")]
    shapes = shade(fig, periods, "Europe/Berlin", start, end).layout.shapes
    assert [s.name for s in shapes] == [NAME_PREFIX + "latency (crm)", NAME_PREFIX + "blip (web)"]
    latency, blip = shapes
    # in the display zone (CEST: +2 h), cut at the chart's end
    assert (str(latency.x0)[:16], str(latency.x1)[:16]) == ("2026-10-07 19:00", "2026-10-31 01:00")
    # an instant widened to 0.5 % of the span (3.6 h of 30 days)
    assert str(blip.x0)[:16] == "2026-10-10 02:00" and str(blip.x1)[:16] == "2026-10-10 05:36"
    assert all("<b>" not in (a.hovertext or "") for a in fig.layout.annotations)
    empty = go.Figure()
    assert shade(empty, periods, "UTC", start, end).layout.shapes == ()
