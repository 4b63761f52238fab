"""Messages and their delivery: the Alertmanager webhook body (version "4"),
a Slack incoming-webhook message (text + blocks), an e-mail over SMTP.

A message is rendered once, when its evaluation records it (a pending
notification), and the same body is sent on every attempt.  ``deliver``
sends the notifications that are due, each attempt bounded by its
receiver's ``timeout``; a failed one is retried with exponential backoff
(10 s, 20 s, 40 s, ... at most 1 h) until its receiver's ``max_attempts``,
then recorded as ``failed``.  Every attempt's outcome stays in the table.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from seamline.alerts import state

if TYPE_CHECKING:  # pragma: no cover
    from seamline.alerts.models import Receiver
    from seamline.config import Settings

BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_MAX = timedelta(hours=1)
MAX_ALERTS = 100          # per message; the rest are counted in truncatedAlerts
SLACK_MAX_ALERTS = 20     # Slack allows 50 blocks per message
ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert still firing


def _iso(t: datetime | None) -> str:
    from seamline.timefmt import iso_utc

    return ZERO_TIME if t is None else iso_utc(t)


def dashboard_link(receiver: "Receiver", page: str, view: dict[str, str]) -> str:
    """The address of the dashboard view (page, period, filters) that shows an
    alert, on the receiver's ``external_url``."""
    from seamline.alerts.board import view_href

    return receiver.external_url.rstrip("/") + view_href(page, view)


def alert_view(a: dict[str, Any]) -> dict[str, str]:
    """An alert's view; a resolved alert's period runs to the day it resolved
    (its view was set while it fired), so the link shows the recovery too."""
    view = dict(a["annotations"].get("view") or {})
    resolved = a.get("resolved_at") if a.get("status") == "resolved" else None
    if resolved is not None and view.get("period") == "custom" and view.get("to"):
        view["to"] = max(view["to"], resolved.date().isoformat())
    return view


def _common(dicts: list[dict[str, str]]) -> dict[str, str]:
    if not dicts:
        return {}
    out = dict(dicts[0])
    for d in dicts[1:]:
        out = {k: v for k, v in out.items() if d.get(k) == v}
    return out


def alertmanager_body(receiver: "Receiver", status: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """The Alertmanager webhook payload (version "4") for ``alerts`` (instance snapshots)."""
    items = []
    for a in alerts[:MAX_ALERTS]:
        link = dashboard_link(receiver, a["annotations"].get("page", "/"), alert_view(a))
        items.append({
            "status": a["status"],
            "labels": dict(a["labels"]),
            "annotations": {"summary": a["annotations"]["summary"], "description": a["annotations"]["description"],
                            "dashboard": link},
            "startsAt": _iso(a.get("fired_at") or a.get("active_since")),
            "endsAt": _iso(a.get("resolved_at") if a["status"] == "resolved" else None),
            "generatorURL": link,
            "fingerprint": a["fingerprint"],
        })
    return {
        "version": "4",
        "receiver": receiver.name,
        "status": status,
        "groupKey": f'{{}}:{{receiver="{receiver.name}"}}',
        "truncatedAlerts": max(0, len(alerts) - MAX_ALERTS),
        "groupLabels": {},
        "commonLabels": _common([i["labels"] for i in items]),
        "commonAnnotations": _common([i["annotations"] for i in items]),
        "externalURL": receiver.external_url,
        "alerts": items,
    }


def _headline(body: dict[str, Any]) -> str:
    firing = [a for a in body["alerts"] if a["status"] == "firing"]
    resolved = [a for a in body["alerts"] if a["status"] == "resolved"]
    parts = []
    if firing:
        parts.append(f"{len(firing)} firing")
    if resolved:
        parts.append(f"{len(resolved)} resolved")
    names = sorted({a["labels"]["alertname"] for a in body["alerts"]})
    return f"[{body['status'].upper()}] Seamline: {', '.join(parts)} ({', '.join(names)})"


def _line(a: dict[str, Any]) -> str:
    mark = "FIRING" if a["status"] == "firing" else "RESOLVED"
    return f"{mark} {a['labels']['alertname']} [{a['labels'].get('severity', '')}]: {a['annotations']['summary']}"


def _slack_line(a: dict[str, Any]) -> str:
    """A line of the Slack fallback text, linked to the alert's view (the
    text is all a notification preview or a client without blocks shows)."""
    return f"{_line(a)} <{a['annotations']['dashboard']}|view>"


def slack_body(am: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` (the notification's fallback) plus ``blocks``."""
    head = _headline(am)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": head[:150]}}]
    for a in am["alerts"][:SLACK_MAX_ALERTS]:
        icon = ":red_circle:" if a["status"] == "firing" else ":large_green_circle:"
        text = (f"{icon} *{a['labels']['alertname']}* ({a['labels'].get('severity', '')}) {a['annotations']['summary']}\n"
                f"{a['annotations']['description']}\n<{a['annotations']['dashboard']}|Open in Seamline>")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    more = len(am["alerts"]) - SLACK_MAX_ALERTS + am["truncatedAlerts"]
    if more > 0:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"and {more} more"}]})
    text = head + "\n" + "\n".join(_slack_line(a) for a in am["alerts"])
    return {"text": text, "blocks": blocks}


def email_body(receiver: "Receiver", am: dict[str, Any]) -> dict[str, Any]:
    lines = [_headline(am), ""]
    for a in am["alerts"]:
        lines += [_line(a), f"  {a['annotations']['description']}", f"  since {a['startsAt']}",
                  f"  {a['annotations']['dashboard']}", ""]
    if am["truncatedAlerts"]:
        lines.append(f"and {am['truncatedAlerts']} more")
    return {"subject": _headline(am), "from": receiver.sender, "to": list(receiver.to), "text": "\n".join(lines)}


def render(receiver: "Receiver", status: str, alerts: list[dict[str, Any]], at: datetime | None = None) -> dict:
    """The body sent to ``receiver`` for one group of alerts."""
    am = alertmanager_body(receiver, status, alerts)
    if receiver.kind == "slack":
        return slack_body(am)
    if receiver.kind == "email":
        return email_body(receiver, am)
    if receiver.kind == "apprise":
        mail = email_body(receiver, am)
        return {"title": mail["subject"], "body": mail["text"], "status": status}
    return am


# Sending ----------------------------------------------------------------------
class DeliveryError(RuntimeError):
    pass


def _post(receiver: "Receiver", body: dict[str, Any]) -> None:
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode("utf-8")
    req = urllib.request.Request(receiver.url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "seamline-alerts",
                                          **receiver.headers})
    try:
        with urllib.request.urlopen(req, timeout=receiver.timeout) as resp:
            resp.read(65536)
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"HTTP {e.code} from {receiver.url}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DeliveryError(f"{receiver.url}: {reason}") from None


def _mail(receiver: "Receiver", body: dict[str, Any]) -> None:
    import smtplib
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = body["subject"], body["from"], ", ".join(body["to"])
    msg.set_content(body["text"])
    cls = smtplib.SMTP_SSL if receiver.ssl else smtplib.SMTP
    try:
        with cls(receiver.smtp_host, receiver.smtp_port, timeout=receiver.timeout) as smtp:
            if receiver.starttls:
                smtp.starttls()
            if receiver.smtp_user:
                smtp.login(receiver.smtp_user, receiver.smtp_password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as e:
        raise DeliveryError(f"SMTP {receiver.smtp_host}:{receiver.smtp_port}: {e}") from None


def _apprise(receiver: "Receiver", body: dict[str, Any]) -> None:
    import apprise

    notifier = apprise.Apprise()
    for url in receiver.urls:
        notifier.add(url)
    kind = apprise.NotifyType.FAILURE if body["status"] == "firing" else apprise.NotifyType.SUCCESS
    if not notifier.notify(title=body["title"], body=body["body"], notify_type=kind):
        raise DeliveryError(f"apprise: not delivered to every URL of {receiver.name}")


def send(receiver: "Receiver", body: dict[str, Any]) -> None:
    """One attempt (raises DeliveryError)."""
    {"email": _mail, "apprise": _apprise}.get(receiver.kind, _post)(receiver, body)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


def deliver(md, settings: "Settings", now: datetime | None = None) -> list[dict[str, Any]]:
    """Send every pending notification that is due (``now``: wall clock by
    default); returns one outcome per attempt."""
    from sqlalchemy import or_, select, update

    from seamline.metadata import utcnow

    t = state.alert_notifications
    now = now or utcnow()
    receivers = {r.name: r for r in settings.receivers}
    eng = state.engine(md)
    with eng.connect() as cx:
        due = [state._row(r) for r in cx.execute(
            select(t).where(t.c.outcome == "pending", or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now))
            .order_by(t.c.id))]
    done = []
    for n in due:
        receiver = receivers.get(n["receiver"])
        timeout = receiver.timeout if receiver else 0
        with eng.begin() as cx:  # claim it (another deliverer may be at it), for longer than an attempt can take
            claim = cx.execute(update(t).where(
                t.c.id == n["id"], t.c.outcome == "pending",
                or_(t.c.claimed_until.is_(None), t.c.claimed_until < now))
                .values(claimed_until=now + timedelta(seconds=2 * timeout + 30)))
        if claim.rowcount != 1:
            continue
        attempts = n["attempts"] + 1
        values: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
        if receiver is None:
            values.update(outcome="failed", last_error="the receiver is no longer configured")
        else:
            try:
                send(receiver, json.loads(n["body"]))
                values.update(outcome="sent", sent_at=utcnow(), last_error=None)
            except DeliveryError as e:
                values["last_error"] = str(e)
                if attempts >= receiver.max_attempts:
                    values["outcome"] = "failed"
                else:
                    values["next_attempt_at"] = now + backoff(attempts)
        with eng.begin() as cx:
            cx.execute(update(t).where(t.c.id == n["id"]).values(**values))
        done.append({"id": n["id"], "receiver": n["receiver"], "status": n["status"],
                     "outcome": values.get("outcome", "retry"), "attempts": attempts,
                     "error": values.get("last_error"), "next_attempt_at": values.get("next_attempt_at")})
    return done


def trial_message(receiver: "Receiver", now: datetime) -> dict[str, Any]:
    """The body of ``seamline alerts test RECEIVER``: one firing test alert."""
    alert = {"status": "firing", "fingerprint": "0000000000000000", "fired_at": now,
             "labels": {"alertname": "seamline-test", "severity": "info"},
             "annotations": {"summary": "Seamline test notification",
                             "description": f"A test from `seamline alerts test {receiver.name}`: this receiver works.",
                             "page": "/", "view": {}}}
    return render(receiver, "firing", [alert], now)
