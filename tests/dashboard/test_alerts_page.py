"""The alerts on the dashboard, in headless Chromium against the real server
(waitress, chDB, SQLite): the /alerts page (firing, resolved, silences,
deliveries with their outcome), the header's count, the firing period shaded
on the freshness chart, and a message's link opening the view it names.

One data dir for the module: the sample with every job run, then the
sample's planted crm regression evaluated as of 2026-10-07 18:00 and
2026-10-08 06:00 (firing), a continuity KPI rule that fired on 2026-10-10 and
resolved on 2026-11-10 (no data), an active silence, and messages to a
webhook on loopback (sent) and to one answering 503 (failed)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from conftest import SCREENSHOTS, ServerThread, build_data_dir, close_engines
from test_browser import browser, page  # noqa: F401 (fixtures)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_alerts import Hook, ts  # noqa: E402

pytestmark = pytest.mark.browser

DEFAULT_BASE = "http://127.0.0.1:8050"
LATENCY = {"name": "latency", "kind": "regression", "receivers": ["oncall", "dead"]}
CONTINUITY = {"name": "continuity-low", "kind": "kpi", "kpi": "continuity.rate", "below": 0.999,
              "window": "24h", "receivers": ["oncall"]}
SILENCE_COMMENT = "deploying the crm fix"


def _receivers(hook: Hook, dead: Hook) -> list[dict]:
    return [{"name": "oncall", "kind": "webhook", "url": hook.url},
            {"name": "dead", "kind": "webhook", "url": dead.url, "max_attempts": 1}]


@pytest.fixture(scope="module")
def alerted(tmp_path_factory, sample_events):
    """The data dir, the alert settings' keys, and the bodies the webhook got."""
    from seamline.alerts import state
    from seamline.alerts.delivery import deliver
    from seamline.alerts.engine import evaluate
    from seamline.config import Settings
    from seamline.metadata import Metadata, utcnow
    from seamline.warehouse import Warehouse

    d = tmp_path_factory.mktemp("dash-alerts")
    build_data_dir(d, sample_events)
    hook, dead = Hook(), Hook(fail=10**6, status=503)
    try:
        keys = {"alerts": [CONTINUITY, LATENCY], "receivers": _receivers(hook, dead)}
        kpi_only = Settings(data_dir=d, alerts=[CONTINUITY], receivers=keys["receivers"])
        both = Settings(data_dir=d, **keys)
        wh, md = Warehouse.from_settings(both), Metadata(both.metadata_dsn)
        for s, at in ((kpi_only, "2026-10-10T00:00:00Z"), (kpi_only, "2026-11-10T00:00:00Z"),
                      (both, "2026-10-07T18:00:00Z"), (both, "2026-10-08T06:00:00Z")):
            report = evaluate(wh, md, s, ts(at))
            assert not report.errors, report.errors
            deliver(md, s)
        now = utcnow()
        state.add_silence(md, "latency", {"source": "crm"}, now - timedelta(minutes=1), now + timedelta(hours=2),
                          SILENCE_COMMENT)
        states = {r["rule"]: r["state"] for r in state.instances(md)}
        assert states == {"latency": "firing", "continuity-low": "resolved"}, states
        bodies = list(hook.bodies)
    finally:
        hook.close()
        dead.close()
        close_engines()
    return d, keys, bodies


@pytest.fixture(scope="module")
def server(alerted):
    d, keys, _ = alerted
    srv = ServerThread(d, **keys)
    srv.stopped = False
    yield srv
    if not srv.stopped:
        srv.stop()




def sel(kind: str, key: str) -> str:
    return "[id='" + json.dumps({"key": key, "type": kind}, separators=(",", ":")) + "']"


def card_text(pg, key: str) -> str:
    return pg.inner_text(f".card:has({sel('table', key)})")


def alert_shapes(pg, key: str = "freshness.series") -> list[dict]:
    return pg.evaluate("(s) => (document.querySelector(s).layout.shapes || [])"
                       ".filter(x => (x.name || '').startsWith('alert: ')).map(x => ({name: x.name, x0: String(x.x0), "
                       "x1: String(x.x1)}))", sel("graph", key) + " .js-plotly-plot")


def wait_chart(pg, key: str = "freshness.series"):
    pg.wait_for_function("(s) => { const g = document.querySelector(s); return g && g.data && g.data.length }",
                         arg=sel("graph", key) + " .js-plotly-plot")


def assert_clean(pg):
    body = pg.inner_text("body")
    for bad in ("Traceback", "Something went wrong", "Error loading", "Callback error"):
        assert bad not in body, bad
    assert pg.locator(".error-message").count() == 0, body[:2000]
    assert pg.console_errors == [], pg.console_errors


def test_alerts_page_and_header_count(server, page):
    page.goto(server.url + "/?period=90d")
    page.wait_for_selector(".page h2")
    badge = page.locator("#alert-count")
    badge.wait_for(state="visible")
    assert badge.inner_text() == "1" and page.get_attribute("#nav-alerts", "title") == "1 alert firing"
    page.click("#nav-alerts")
    page.wait_for_url("**/alerts?period=90d")
    page.wait_for_selector(sel("table", "alerts.firing"))

    firing = card_text(page, "alerts.firing")
    assert "latency" in firing and "source=crm" in firing
    assert "2026-10-07 18:00:00" in firing  # fired at the evaluation of 18:00 UTC
    resolved = card_text(page, "alerts.history")
    assert "continuity-low" in resolved and "2026-10-10 00:00:00" in resolved and "2026-11-10 00:00:00" in resolved
    assert page.inner_text("#alerts-pending-empty") == "No alert is pending."
    silences = card_text(page, "alerts.silences")
    assert SILENCE_COMMENT in silences and "active" in silences and "source=crm" in silences
    cells = page.evaluate("(s) => [...document.querySelectorAll(s + ' tr')].map(tr => "
                          "[...tr.querySelectorAll('td')].map(td => td.innerText.trim()))",
                          sel("table", "alerts.deliveries"))
    rows = {(r[1], r[3], r[4]) for r in cells if r}  # receiver, kind, outcome
    assert ("oncall", "firing", "sent") in rows and ("oncall", "resolved", "sent") in rows
    assert ("dead", "firing", "failed") in rows
    assert "HTTP 503 from http://127.0.0.1:" in card_text(page, "alerts.deliveries")
    # the firing alert opens its view (as of its latest evaluation: to the 8th)
    path, _, query = page.get_attribute("#alert-views a", "href").partition("?")
    assert path == "/freshness" and parse_qs(query) == {
        "period": ["custom"], "from": ["2026-10-05"], "to": ["2026-10-08"], "source": ["crm"]}, query
    # each table's CSV download
    with page.expect_download() as download:
        page.click(sel("csv", "alerts.deliveries"))
    csv = Path(download.value.path()).read_text("utf-8")
    assert csv.startswith("at,receiver,rules,kind,outcome,attempts,error,sent_at,channel") and ",dead," in csv
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "alerts.png"), full_page=True)
    assert_clean(page)

    # times in the chosen zone (Berlin is UTC+2 in October)
    page.goto(server.url + "/alerts?period=90d&tz=Europe/Berlin")
    page.wait_for_selector(sel("table", "alerts.firing"))
    assert "2026-10-07 20:00:00" in card_text(page, "alerts.firing")
    assert "tz=Europe/Berlin" in page.get_attribute("#alert-views a", "href")
    assert_clean(page)


def test_freshness_chart_shades_the_firing_period(server, page):
    page.goto(server.url + "/freshness?period=custom&from=2026-10-01&to=2026-10-14&source=crm")
    wait_chart(page)
    (shape,) = alert_shapes(page)
    assert shape["name"] == "alert: latency (crm)"
    # from firing (18:00) to its latest evaluation (06:00 the next day)
    assert shape["x0"].startswith("2026-10-07T18:00") or shape["x0"].startswith("2026-10-07 18:00"), shape
    assert shape["x1"].startswith("2026-10-08T06:00") or shape["x1"].startswith("2026-10-08 06:00"), shape
    assert page.locator(sel("graph", "freshness.series") + " .shapelayer path").count() >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "freshness-alert.png"))
    assert_clean(page)
    # a source without alerts shows none
    page.goto(server.url + "/freshness?period=custom&from=2026-10-01&to=2026-10-14&source=web")
    wait_chart(page)
    assert alert_shapes(page) == []


def test_a_messages_link_opens_the_view_it_names(alerted, server, page):
    _, _, bodies = alerted
    # the firing message of 18:00 (a reminder followed at 06:00)
    body = next(b for b in bodies if b["status"] == "firing" and b["commonLabels"].get("alertname") == "latency")
    link = body["alerts"][0]["generatorURL"]
    assert link.startswith(DEFAULT_BASE + "/freshness?")
    page.goto(server.url + link[len(DEFAULT_BASE):])
    wait_chart(page)
    for part in ("period=custom", "from=2026-10-05", "to=2026-10-07", "source=crm"):
        assert part in page.url, (part, page.url)
    assert "2026-10-05 – 2026-10-07" in page.inner_text(".period-note")
    assert "crm" in page.inner_text("#ctl-source")
    names = page.evaluate("(s) => document.querySelector(s).data.map(t => t.name)",
                          sel("graph", "freshness.series") + " .js-plotly-plot")
    assert names == ["crm"]
    assert [s["name"] for s in alert_shapes(page)] == ["alert: latency (crm)"]
    assert_clean(page)


def test_a_kpi_alert_is_shaded_on_its_kpis_chart_only(server, page):
    page.goto(server.url + "/journeys?period=custom&from=2026-10-01&to=2026-10-31")
    wait_chart(page, "journeys.daily")
    (shape,) = alert_shapes(page, "journeys.daily")  # fired 2026-10-10, resolved 2026-11-10: to the period's end
    assert shape["name"] == "alert: continuity-low" and shape["x0"].startswith("2026-10-10"), shape
    page.goto(server.url + "/effort?period=custom&from=2026-10-01&to=2026-10-31")
    for key in ("effort.trend", "effort.silence"):  # another family's charts
        wait_chart(page, key)
        assert alert_shapes(page, key) == [], key
    assert_clean(page)


def test_without_rules_the_page_says_how_to_configure(alerted, server, tmp_path):
    """No [[alerts]] and a metadata DB without alert tables: the page explains,
    the header shows no count, and nothing is created."""
    from sqlalchemy import inspect

    from seamline.app import alert_badge, create_app
    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.queries import Ctx

    import dash

    from pagekit import _components

    server.stop()  # one chDB path per process
    server.stopped = True
    d, _, _ = alerted
    settings = Settings(data_dir=d, metadata_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        app = create_app(settings)
        entry = next(e for e in dash.page_registry.values() if e["path"] == "/alerts")
        with app.server.test_request_context("/alerts"):
            comps = list(_components(entry["layout"]()))
        ids = {getattr(c, "id", None) for c in comps if isinstance(getattr(c, "id", None), str)}
        classes = " ".join(getattr(c, "className", None) or "" for c in comps)
        assert "alerts-howto" in ids and "error-message" not in classes
        text = " ".join(c.children for c in comps if isinstance(getattr(c, "children", None), str))
        assert "[[alerts]]" in text and "docs/alerts.md" in text
        ctx: Ctx = app.server.config["SEAMLINE_CTX"]
        assert alert_badge(ctx)[:2] == ("", {"display": "none"})
        assert alert_badge(Ctx(ctx.wh, Settings(data_dir=d, alerts=[LATENCY | {"receivers": []}]),
                               Metadata(settings.metadata_dsn)))[0] == ""  # rules, but no alert tables yet
        assert not inspect(ctx.md.engine).has_table("alert_instances")
    finally:
        close_engines()

