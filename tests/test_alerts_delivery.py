"""Alert delivery against real receivers on 127.0.0.1: a webhook that fails
then succeeds (retried with backoff), one that hangs (bounded, and the
scheduled jobs still finish), Slack's text + blocks, e-mail to a real SMTP
server (aiosmtpd), one grouped message for instances firing together."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from eventkit import expand_all, load_events
from test_alerts import BURN, Hook, alert_settings, burn_events, iso, run, ts


def _notifications(md):
    from seamline.alerts import state

    return state.notifications(md)


@pytest.fixture
def loaded(wh, settings, tmp_path):
    load_events(wh, settings, burn_events(), tmp_path / "burn.jsonl")
    return settings


def test_failed_delivery_is_retried_with_backoff_and_kept(wh, md, loaded):
    from seamline.alerts.delivery import deliver
    from seamline.alerts.engine import evaluate
    from seamline.metadata import utcnow

    hook = Hook(fail=2)
    try:
        s = alert_settings(loaded, [BURN], [{"name": "oncall", "kind": "webhook", "url": hook.url}],
                           freshness_target_s=60)
        evaluate(wh, md, s, ts("2026-03-01T12:02:00Z"))
        t0 = utcnow() + timedelta(seconds=1)
        assert [d["outcome"] for d in deliver(md, s, t0)] == ["retry"]          # 500
        assert deliver(md, s, t0 + timedelta(seconds=9)) == []                  # backoff 10 s
        assert [d["outcome"] for d in deliver(md, s, t0 + timedelta(seconds=10))] == ["retry"]
        assert deliver(md, s, t0 + timedelta(seconds=29)) == []                 # then 20 s
        assert [d["outcome"] for d in deliver(md, s, t0 + timedelta(seconds=30))] == ["sent"]
        assert hook.attempts == 3 and len(hook.bodies) == 1
        (n,) = _notifications(md)
        assert n["outcome"] == "sent" and n["attempts"] == 3 and n["last_error"] is None
        assert n["body"] == hook.bodies[0]  # the same body on every attempt, and kept
    finally:
        hook.close()


def test_delivery_gives_up_after_max_attempts(wh, md, loaded):
    from seamline.alerts.delivery import deliver
    from seamline.alerts.engine import evaluate
    from seamline.metadata import utcnow

    hook = Hook(fail=99, status=503)
    try:
        s = alert_settings(loaded, [BURN], [{"name": "oncall", "kind": "webhook", "url": hook.url,
                                              "max_attempts": 2}], freshness_target_s=60)
        evaluate(wh, md, s, ts("2026-03-01T12:02:00Z"))
        t0 = utcnow() + timedelta(seconds=1)
        deliver(md, s, t0)
        assert [d["outcome"] for d in deliver(md, s, t0 + timedelta(minutes=5))] == ["failed"]
        assert deliver(md, s, t0 + timedelta(hours=5)) == []
        (n,) = _notifications(md)
        assert n["outcome"] == "failed" and n["attempts"] == 2 and n["last_error"].startswith("HTTP 503")
    finally:
        hook.close()


def test_hanging_receiver_is_bounded_by_its_timeout(wh, md, loaded):
    from seamline.alerts.delivery import deliver
    from seamline.alerts.engine import evaluate

    hook = Hook(fail=1, hang=3)
    try:
        s = alert_settings(loaded, [BURN], [{"name": "oncall", "kind": "webhook", "url": hook.url,
                                              "timeout": 0.5}], freshness_target_s=60)
        evaluate(wh, md, s, ts("2026-03-01T12:02:00Z"))
        started = time.monotonic()
        (d,) = deliver(md, s)
        assert time.monotonic() - started < 2.5
        assert d["outcome"] == "retry" and "timed out" in d["error"]
    finally:
        hook.close()


def test_scheduled_jobs_finish_while_the_receiver_hangs(wh, md, settings, tmp_path):
    """after_jobs hands the evaluation to a background thread: the job run
    returns at once, the hanging receiver is attempted there and retried later."""
    import seamline.scheduler as scheduler
    from seamline.alerts import wait_idle
    from seamline.metadata import utcnow

    old = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    load_events(wh, settings, expand_all([{"t": iso(old), "src": "crm", "cust": "c1"}]), tmp_path / "old.jsonl")
    hook = Hook(fail=1, hang=4)
    try:
        s = alert_settings(settings, [{"name": "crm-quiet", "kind": "stale", "of": "sources", "after": "1h",
                                       "receivers": ["oncall"]}],
                           [{"name": "oncall", "kind": "webhook", "url": hook.url, "timeout": 3}])
        scheduler._settings_for_jobs = s
        started = time.monotonic()
        scheduler.run_scheduled("freshness")
        took = time.monotonic() - started
        assert wait_idle(20)
        waited = time.monotonic() - started
        assert waited - took >= 2.5, (took, waited)  # the job returned before the delivery timed out
        (n,) = _notifications(md)
        assert n["outcome"] == "pending" and n["attempts"] == 1 and "timed out" in n["last_error"]
        assert hook.bodies == []
    finally:
        scheduler._settings_for_jobs = None
        hook.close()


def test_instances_firing_together_are_one_message(wh, md, loaded):
    hook = Hook()
    try:
        second = BURN | {"name": "crm-burn-copy"}
        s = alert_settings(loaded, [BURN, second], [{"name": "oncall", "kind": "webhook", "url": hook.url,
                                                      "headers": {"Authorization": "Bearer t0ken"}}],
                           freshness_target_s=60)
        run(wh, md, s, "2026-03-01T12:02:00Z")
        (body,) = hook.bodies
        assert hook.headers[0]["Authorization"] == "Bearer t0ken"
        assert hook.headers[0]["Content-Type"] == "application/json"
        assert sorted(a["labels"]["alertname"] for a in body["alerts"]) == ["crm-burn", "crm-burn-copy"]
        assert body["commonLabels"] == {"severity": "page", "source": "crm", "windows": "1h/5m"}
        assert body["groupKey"] == '{}:{receiver="oncall"}' and body["truncatedAlerts"] == 0
        assert set(body) == {"version", "receiver", "status", "groupKey", "truncatedAlerts", "groupLabels",
                             "commonLabels", "commonAnnotations", "externalURL", "alerts"}
        assert set(body["alerts"][0]) == {"status", "labels", "annotations", "startsAt", "endsAt",
                                          "generatorURL", "fingerprint"}
        assert len({a["fingerprint"] for a in body["alerts"]}) == 2
    finally:
        hook.close()


def test_slack_gets_text_and_blocks(wh, md, loaded):
    hook = Hook()
    try:
        s = alert_settings(loaded, [BURN | {"receivers": ["chat"]}],
                           [{"name": "chat", "kind": "slack", "url": hook.url,
                             "external_url": "https://seamline.example.com"}], freshness_target_s=60)
        run(wh, md, s, "2026-03-01T12:02:00Z")
        (body,) = hook.bodies
        assert set(body) == {"text", "blocks"}
        assert body["text"].startswith("[FIRING] Seamline: 1 firing (crm-burn)")
        assert "FIRING crm-burn [page]: crm: freshness error budget burning 25.0x over 1h" in body["text"]
        assert body["blocks"][0]["type"] == "header"
        section = body["blocks"][1]["text"]["text"]
        assert "<https://seamline.example.com/freshness?period=custom&from=2026-03-01&to=2026-03-01&source=crm" \
               "|Open in Seamline>" in section
    finally:
        hook.close()


def test_email_reaches_a_real_smtp_server(wh, md, loaded):
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free port (the controller checks its own with a connection)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        s = alert_settings(loaded, [BURN | {"receivers": ["mail"]}],
                           [{"name": "mail", "kind": "email", "smtp_host": "127.0.0.1", "smtp_port": port,
                             "from": "alerts@seamline.test", "to": ["oncall@example.com"]}],
                           freshness_target_s=60)
        run(wh, md, s, "2026-03-01T12:02:00Z")
        run(wh, md, s, "2026-03-01T12:10:00Z")
        assert [m.rcpt_tos for m in inbox.messages] == [["oncall@example.com"]] * 2
        first, second = (message_from_bytes(m.content, policy=policy.default) for m in inbox.messages)
        assert first["Subject"] == "[FIRING] Seamline: 1 firing (crm-burn)"
        assert first["From"] == "alerts@seamline.test" and first["To"] == "oncall@example.com"
        text = first.get_content()
        assert "FIRING crm-burn [page]: crm: freshness error budget burning 25.0x over 1h" in text
        assert "http://127.0.0.1:8050/freshness?period=custom&from=2026-03-01&to=2026-03-01&source=crm" in text
        assert second["Subject"] == "[RESOLVED] Seamline: 1 resolved (crm-burn)"
    finally:
        smtp.stop()


def test_apprise_for_other_channels(wh, md, loaded):
    """apprise's json:// service posts to a real server: the same text as the e-mail."""
    hook = Hook()
    try:
        url = hook.url.replace("http://", "json://")
        s = alert_settings(loaded, [BURN | {"receivers": ["more"]}],
                           [{"name": "more", "kind": "apprise", "urls": [url]}], freshness_target_s=60)
        run(wh, md, s, "2026-03-01T12:02:00Z")
        (body,) = hook.bodies
        assert body["title"] == "[FIRING] Seamline: 1 firing (crm-burn)" and body["type"] == "failure"
        assert "FIRING crm-burn [page]: crm: freshness error budget burning 25.0x over 1h" in body["message"]
    finally:
        hook.close()


def test_apprise_urls_are_checked():
    from seamline.config import ConfigError, Settings

    with pytest.raises(ConfigError, match=r"receivers\[0\] = .*not a notification URL apprise knows: nosuch://"):
        Settings(receivers=[{"name": "x", "kind": "apprise", "urls": ["nosuch://host"]}])
