"""``seamline alerts run|list|silence|test`` in-process against the test's
warehouse, with seamline.toml rules, and the configuration's one-line errors."""

from __future__ import annotations

import json

import pytest

from eventkit import load_events
from seamline.config import ConfigError, Settings
from test_alerts import Hook, burn_events

TOML = """
freshness_target_s = 60

[[alerts]]
name = "crm-burn"
kind = "burn_rate"
objective = 0.99
receivers = ["oncall"]
tiers = [{ long = "1h", short = "5m", rate = 14.4, severity = "page" }]

[[receivers]]
name = "oncall"
kind = "webhook"
url = "{url}"
"""


@pytest.fixture
def configured(cli, wh, settings, tmp_path, monkeypatch):
    hook = Hook()
    path = tmp_path / "seamline.toml"
    path.write_text(TOML.replace("{url}", hook.url), encoding="utf-8")
    monkeypatch.setenv("SEAMLINE_CONFIG", str(path))
    load_events(wh, settings, burn_events(), tmp_path / "burn.jsonl")
    yield hook
    hook.close()


def test_run_replays_and_the_same_time_twice_sends_nothing(cli, configured):
    code, out, err = cli("alerts", "run", "--at", "2026-03-01T12:01:00Z")
    assert code == 0 and "evaluated 1 rule(s) as of 2026-03-01T12:01:00.000Z" in out and err == ""
    code, out, _ = cli("alerts", "run", "--at", "2026-03-01T12:02:00Z", "--json")
    report = json.loads(out)
    assert code == 0 and report["evaluated"] == ["crm-burn"]
    (change,) = report["changes"]
    assert (change["before"], change["after"], change["message"]) == ("inactive", "firing", "firing")
    assert [d["outcome"] for d in report["deliveries"]] == ["sent"] and len(configured.bodies) == 1
    code, out, _ = cli("alerts", "run", "--at", "2026-03-01T12:02:00Z", "--json")
    again = json.loads(out)
    assert again["changes"] == [] and again["notifications"] == [] and len(configured.bodies) == 1

    code, out, _ = cli("alerts", "list")
    assert code == 0 and "firing" in out and "source=crm,windows=1h/5m" in out
    code, out, _ = cli("alerts", "list", "--json")
    listed = json.loads(out)
    assert [(i["rule"], i["state"]) for i in listed["instances"]] == [("crm-burn", "firing")]
    assert [(n["receiver"], n["status"], n["outcome"]) for n in listed["notifications"]] == [("oncall", "firing", "sent")]


def test_silence_from_the_command_line(cli, configured):
    code, out, _ = cli("alerts", "silence", "--rule", "crm-burn", "--match", "source=crm", "--for", "2m",
                       "--start", "2026-03-01T12:00:00Z", "--comment", "known incident")
    assert code == 0 and out.startswith("silence 1: crm-burn source=crm muted until 2026-03-01T12:02:00.000Z")
    cli("alerts", "run", "--at", "2026-03-01T12:01:30Z")
    cli("alerts", "run", "--at", "2026-03-01T12:02:00Z")  # fires as the silence ends: told
    assert len(configured.bodies) == 1
    code, out, _ = cli("alerts", "list", "--json")
    (s,) = json.loads(out)["silences"]
    assert s["comment"] == "known incident" and s["matchers"] == {"source": "crm"}


def test_silence_of_every_rule(cli, configured):
    code, out, _ = cli("alerts", "silence", "--rule", "*", "--for", "1d", "--start", "2026-03-01T00:00:00Z")
    assert code == 0
    code, out, _ = cli("alerts", "run", "--at", "2026-03-01T12:02:00Z")
    assert "inactive -> firing (silenced)" in out and configured.bodies == []


def test_silence_checks_its_arguments(cli, configured):
    code, _, err = cli("alerts", "silence", "--rule", "nope", "--for", "1h")
    assert code == 1 and "unknown alert rule 'nope'; rules: crm-burn" in err
    with pytest.raises(SystemExit):
        cli("alerts", "silence", "--rule", "crm-burn", "--for", "2x")


def test_test_sends_to_the_receiver(cli, configured):
    code, out, _ = cli("alerts", "test", "oncall")
    assert code == 0 and out.strip() == "test notification sent to oncall (webhook)"
    (body,) = configured.bodies
    assert body["status"] == "firing" and body["alerts"][0]["labels"]["alertname"] == "seamline-test"
    code, _, err = cli("alerts", "test", "pager")
    assert code == 1 and "unknown receiver 'pager'" in err


def test_test_reports_a_failing_receiver(cli, configured):
    configured.fail, configured.status = 1, 500
    code, out, _ = cli("alerts", "test", "oncall")
    assert code == 1 and "HTTP 500" in out


def test_run_without_rules_says_what_to_do(cli):
    code, _, err = cli("alerts", "run")
    assert code == 1 and "no alert rules: add [[alerts]] to seamline.toml" in err


def test_alerts_list_is_read_only():
    from seamline.cli import runs_exclusively

    assert not runs_exclusively(["alerts", "list"]) and runs_exclusively(["alerts", "run"])


# Configuration errors: one line naming the key ------------------------------------
def _error(**values) -> str:
    with pytest.raises(ConfigError) as e:
        Settings(**values)
    return str(e.value)


RULE = {"name": "r", "kind": "kpi", "kpi": "continuity.rate", "below": 0.8}


@pytest.mark.parametrize("rule, expected", [
    (RULE | {"window": "2x"}, "alerts[0].window = '2x': not a duration"),
    (RULE | {"for": "soon"}, "alerts[0].for = 'soon': not a duration"),
    (RULE | {"kpi": "continuity.rat"}, "alerts[0].kpi = 'continuity.rat': unknown KPI (a key of `metrics --json`); "
                                       "did you mean 'continuity.rate'?"),
    (RULE | {"kind": "burnrate"}, "alerts[0].kind = 'burnrate': unknown alert kind; did you mean 'burn_rate'?"),
    (RULE | {"objective": 0.9}, "a kpi rule does not use objective"),
    ({"name": "r", "kind": "kpi", "kpi": "continuity.rate"}, "a kpi rule needs exactly one of below or above"),
    ({"name": "r", "kind": "burn_rate"}, "a burn_rate rule needs objective"),
    ({"name": "r", "kind": "burn_rate", "objective": 0.99, "tiers": [{"long": "5m", "short": "1h", "rate": 2}]},
     "short window 1h must be shorter than long window 5m"),
    (RULE | {"windoww": "1h"}, "alerts[0].windoww = '1h': unknown key; did you mean 'window'?"),
    (RULE | {"below": 80}, "continuity.rate is a rate: its bound is between 0 and 1, not 80"),
    ({"name": "r", "kind": "stale", "names": ["freshnes"]}, "unknown job; did you mean 'freshness'?"),
    ({"name": "r", "kind": "stale", "of": "tables"}, "alerts[0].of = 'tables': input should be 'jobs' or 'sources'"),
])
def test_bad_rule_is_one_line_naming_the_key(rule, expected):
    text = _error(alerts=[rule])
    assert expected in text and "\n" not in text, text


def test_unknown_receiver_and_duplicate_names():
    text = _error(alerts=[RULE | {"receivers": ["oncal"]}], receivers=[{"name": "oncall", "kind": "webhook",
                                                                        "url": "http://h/x"}])
    assert "alerts[0].receivers[0] = 'oncal' (r): unknown receiver; did you mean 'oncall'?" in text
    assert "no [[receivers]] are declared" in _error(alerts=[RULE | {"receivers": ["x"]}])
    assert "alerts[1].name 'r' is also the name of alerts[0]" in _error(alerts=[RULE, RULE])
    assert "a webhook receiver needs url" in _error(receivers=[{"name": "w", "kind": "webhook"}])
    assert "an email receiver needs to" in _error(receivers=[{"name": "m", "kind": "email"}])
    assert "receivers[0].kind = 'pagerduty': unknown receiver kind" in _error(
        receivers=[{"name": "p", "kind": "pagerduty"}])


def test_durations():
    from datetime import timedelta

    from seamline.alerts.models import format_duration, parse_duration

    assert [parse_duration(t) for t in ("5m", "1h", "24h", "3d", "1h30m", "90s")] == [
        timedelta(minutes=5), timedelta(hours=1), timedelta(hours=24), timedelta(days=3),
        timedelta(minutes=90), timedelta(seconds=90)]
    for bad in ("", "5", "m", "1x", "5m5", "-1h"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [format_duration(parse_duration(t)) for t in ("24h", "30m", "90s", "1h30m")] == ["1d", "30m", "90s", "90m"]
