"""Browser smoke tests: the real server (waitress, chDB, SQLite) in a thread,
headless Debian Chromium through Playwright.  Self-contained: module-scoped
fixtures build one data dir from the sample, and one empty data dir."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

import pytest

from conftest import BOLD, LINK, SAMPLE, SCREENSHOTS, ServerThread, build_data_dir, close_engines, hostile_sample

pytestmark = pytest.mark.browser

PAGES = {"/": "overview", "/journeys": "journeys", "/freshness": "freshness", "/effort": "effort",
         "/retention": "retention", "/incidents": "incidents"}
BAD_TEXT = ("Traceback", "Something went wrong", "Error loading", "Callback error", "Internal Server Error")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class Env:
    """At most one server (one chDB data path) open at a time."""

    def __init__(self):
        self.server: ServerThread | None = None

    def use(self, data_dir) -> ServerThread:
        if self.server is not None and self.server.data_dir == data_dir:
            return self.server
        self.stop()
        self.server = ServerThread(data_dir)
        return self.server

    def restart(self) -> ServerThread:
        data_dir = self.server.data_dir
        self.stop()
        return self.use(data_dir)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture(scope="module")
def env():
    e = Env()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, sample_events):
    d = tmp_path_factory.mktemp("dash-data")
    build_data_dir(d, sample_events)
    return d


@pytest.fixture(scope="module")
def empty_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("dash-empty")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text[:500]) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)[:500]))
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def graph_sel(key: str) -> str:
    return "[id='" + json.dumps({"key": key, "type": "graph"}, separators=(",", ":")) + "'] .js-plotly-plot"


def open_page(pg, url: str, graphs: bool = True):
    response = pg.goto(url)
    pg.wait_for_selector(".page h2")
    if graphs:
        pg.wait_for_selector(".js-plotly-plot .main-svg")
    pg.wait_for_load_state("networkidle")
    return response


def trace_lengths(pg, key: str) -> list[int]:
    return pg.evaluate("(sel) => document.querySelector(sel).data.map(t => (t.x || []).length)", graph_sel(key))


def trace_names(pg, key: str) -> list[str]:
    return pg.evaluate("(sel) => document.querySelector(sel).data.map(t => t.name || '')", graph_sel(key))


def drag_time_axis(pg, key: str, lo: str, hi: str, url_glob: str, tries: int = 3):
    """A drag across a chart's time axis, as Plotly reports it, once the chart
    listens for it: the chart must hold its data and dcc.Graph must have bound
    its relayout handler (it does so after its first plot, and a figure that
    arrives later replots it).  A relayout that lands before that is lost, as
    a user's drag would be, so the drag is made again, at most ``tries`` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    sel = graph_sel(key)
    for attempt in range(tries):
        pg.wait_for_function(
            "(sel) => { const g = document.querySelector(sel); return g && g._fullLayout && g.data && "
            "g.data.some(t => t.x && t.x.length) && g._ev && g._ev.listeners('plotly_relayout').length > 0 }",
            arg=sel)
        # after a lost drag, back to the whole axis first, so the drag again is a change
        pg.evaluate("async ([sel, lo, hi, again]) => { const g = document.querySelector(sel); "
                    "if (again) await Plotly.relayout(g, {'xaxis.autorange': true}); "
                    "await Plotly.relayout(g, {'xaxis.range[0]': lo, 'xaxis.range[1]': hi}) }",
                    [sel, lo, hi, attempt > 0])
        try:
            pg.wait_for_url(url_glob, timeout=8_000 if attempt < tries - 1 else 20_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def assert_clean(pg):
    body = pg.inner_text("body")
    for bad in BAD_TEXT:
        assert bad not in body, bad
    assert pg.console_errors == [], pg.console_errors


def choose(pg, dropdown_id: str, option: str):
    pg.click(f"#{dropdown_id}")
    pg.get_by_role("option", name=option, exact=True).click()
    pg.keyboard.press("Escape")


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders_without_console_errors(env, data_dir, page, path):
    srv = env.use(data_dir)
    response = open_page(page, srv.url + path)
    assert response.status == 200
    assert page.locator(".js-plotly-plot .main-svg").count() >= 2
    assert "No data for this selection" not in page.inner_text(".page-body h3, .tiles") if path == "/" else True
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{PAGES[path]}.png"), full_page=True)
    assert_clean(page)


def test_period_and_filter_update_figures_and_url(env, data_dir, page):
    srv = env.use(data_dir)
    open_page(page, srv.url + "/journeys")
    assert max(trace_lengths(page, "journeys.daily")) >= 30
    choose(page, "ctl-period", "Last 7 days")
    page.wait_for_url("**period=7d**")
    page.wait_for_function("(sel) => { const g = document.querySelector(sel); "
                           "return g && g.data && Math.max(...g.data.map(t => (t.x || []).length)) <= 14 }",
                           arg=graph_sel("journeys.daily"))
    before = page.inner_text(graph_sel("journeys.pairs"))
    choose(page, "ctl-channel", "chat")
    page.wait_for_url("**channel=chat**")
    assert "period=7d" in page.url
    page.wait_for_function("([sel, prev]) => { const g = document.querySelector(sel); "
                           "return g && g.innerText !== prev }", arg=[graph_sel("journeys.pairs"), before])
    page.check("#ctl-compare input[type=checkbox]")
    page.wait_for_url("**compare=1**")
    page.wait_for_function("(sel) => { const g = document.querySelector(sel); "
                           "return g && g.data && g.data.some(t => t.name === 'previous period') }",
                           arg=graph_sel("journeys.daily"))
    assert_clean(page)


def test_drill_down_from_a_bar_a_drag_and_a_tile(env, data_dir, page):
    """A click on a day's incident bar opens that day's incidents; a drag
    across the freshness chart sets the period in the URL; a KPI tile opens
    its page with the same view."""
    srv = env.use(data_dir)
    open_page(page, srv.url + "/?period=90d&tz=Europe/Berlin")
    bars = page.locator(graph_sel("overview.incidents") + " g.point path")
    heights = [(b or {}).get("height", 0) for b in (bars.nth(i).bounding_box() for i in range(bars.count()))]
    bars.nth(heights.index(max(heights))).click(force=True)  # the tallest bar: a bar of 0 incidents has no area
    page.wait_for_url("**/incidents?**")
    assert "period=custom" in page.url and "tz=Europe/Berlin" in page.url and "rule=" in page.url
    day = page.url.split("from=")[1][:10]
    assert f"to={day}" in page.url
    page.wait_for_selector("#incident-table")
    assert_clean(page)

    open_page(page, srv.url + "/freshness?period=90d&q=p99")
    drag_time_axis(page, "freshness.series", "2026-10-05 06:00", "2026-10-12 18:00", "**from=2026-10-05**")
    assert "to=2026-10-12" in page.url and "q=p99" in page.url and "period=custom" in page.url
    page.wait_for_function("(sel) => { const g = document.querySelector(sel); "
                           "return g && g.data && g.data.length && g.data.every(t => !t.x || !t.x.length || "
                           "String(t.x[0]) >= '2026-10-05') }", arg=graph_sel("freshness.series"))
    assert_clean(page)

    open_page(page, srv.url + "/?period=7d")
    page.click("#tile-continuity_rate")
    page.wait_for_url("**/journeys?period=7d**")
    page.wait_for_selector(graph_sel("journeys.daily"))
    assert_clean(page)


def test_every_page_fits_a_phone_and_follows_dark_mode(env, data_dir, browser):
    srv = env.use(data_dir)
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    try:
        pg = context.new_page()
        pg.set_default_timeout(20_000)
        for path in PAGES:
            open_page(pg, srv.url + path + ("?period=90d" if path == "/incidents" else ""))
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width} px wide at 390 px"
            background = pg.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(18, 25, 29)", (path, background)  # the dark --bg
    finally:
        context.close()


def test_shared_url_restores_the_view(env, data_dir, page):
    srv = env.use(data_dir)
    url = srv.url + "/freshness?period=custom&from=2026-10-01&to=2026-10-14&source=crm&q=p99&tz=Europe/Berlin"
    open_page(page, url)
    assert "2026-10-01 – 2026-10-14" in page.inner_text(".period-note")
    assert page.is_checked("input[type=radio][value=p99]")
    assert "crm" in page.inner_text("#ctl-source")
    assert "Europe/Berlin" in page.inner_text("#ctl-tz")
    assert trace_names(page, "freshness.series") == ["crm"]
    assert_clean(page)


def test_csv_download(env, data_dir, page):
    srv = env.use(data_dir)
    open_page(page, srv.url + "/journeys?period=30d")
    with page.expect_download() as info:
        page.click("[id='" + json.dumps({"key": "journeys.worst", "type": "csv"}, separators=(",", ":")) + "']")
    text = open(info.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0].startswith("from_channel,to_channel,transitions")
    assert len(text.splitlines()) > 1
    assert_clean(page)


def test_incident_review_is_saved_and_survives_a_restart(env, data_dir, page):
    srv = env.use(data_dir)
    open_page(page, srv.url + "/incidents?period=90d")
    page.locator("#incident-table input[type=radio]").first.check()
    page.wait_for_url("**incident=**")
    page.wait_for_selector("#review-save")
    page.wait_for_selector(graph_sel("incidents.timeline") + " .main-svg")
    assert page.locator("#timeline-table").count() == 1
    # the event table opens at the incident's own events: a highlighted row is on the page shown
    cells = page.locator("#timeline-table td[data-dash-column='involved']").all_inner_texts()
    assert "yes" in cells, cells
    shared = page.url
    choose(page, "review-status", "investigating")
    page.fill("#review-owner", "ops-team")
    page.fill("#review-root-cause", "promo audience not synced with orders")
    page.click("#review-save")
    page.wait_for_function("() => document.querySelector('#review-msg').innerText.startsWith('Saved')")
    assert_clean(page)
    srv = env.restart()
    port_url = shared.split("/incidents", 1)[1]
    open_page(page, srv.url + "/incidents" + port_url)
    page.wait_for_selector("#review-owner")
    assert page.input_value("#review-owner") == "ops-team"
    assert "investigating" in page.inner_text("#review-status")
    assert page.input_value("#review-root-cause") == "promo audience not synced with orders"
    assert "investigating" in page.inner_text("#incident-table")


HOSTILE = [
    "/?period=custom&from=2026-10-30&to=2026-09-01",
    "/journeys?channel=chat'%20OR%201=1--,web&period=7d",
    "/freshness?source=" + quote("'); DROP TABLE events; --") + "&from=not-a-date&to=2026-13-45",
    "/effort?topic=" + "x" * 5000 + "&tz=../../etc/passwd&ids=<script>alert(1)</script>",
    "/retention?period=%00%ff&cohort=\"quoted\"&channel=unknown",
    "/incidents?incident=" + quote("promo_after_purchase|' OR 1=1 --") + "&rule=nope&from=0001-01-01&to=9999-12-31",
    "/freshness?regression=" + quote("crm@'; SELECT 1") + "&q=p100",
    "/journeys?period=custom&from=1900-01-01&to=2099-12-31&compare=yes&compare=no",
]


def test_hostile_urls_give_a_clean_page(env, data_dir, page):
    srv = env.use(data_dir)
    for path in HOSTILE:
        page.console_errors.clear()
        response = open_page(page, srv.url + path, graphs=False)
        assert response.status == 200, path
        assert page.locator(".error-message").count() == 0, path
        assert_clean(page)
    with urllib.request.urlopen(srv.url + "/healthz") as r:
        assert json.load(r)["warehouse"] == "ok"


def test_empty_warehouse_shows_no_data_on_every_page(env, empty_dir, page):
    srv = env.use(empty_dir)
    for path, name in PAGES.items():
        page.console_errors.clear()
        response = page.goto(srv.url + path)
        assert response.status == 200
        page.wait_for_selector(".no-data")
        assert "No data for this selection" in page.inner_text(".page-body")
        assert_clean(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "empty-incidents.png"), full_page=True)


# Output safety and failures in place ----------------------------------------------
def _warehouse(data_dir):
    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.queries import Ctx
    from seamline.warehouse import Warehouse

    settings = Settings(data_dir=data_dir)
    return Ctx(Warehouse.from_settings(settings), settings, Metadata(settings.metadata_dsn))


EVIL_LINKS = ("() => [...document.querySelectorAll('a')]"
              ".filter(a => [...a.attributes].some(x => x.value.includes('evil.example'))).length")


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory, env):
    """The sample with hostile channel, source, topic and attrs values, every
    job run, a hostile deploy annotation; and a view with an incident and a
    regression selected."""
    from datetime import datetime, timezone

    env.stop()  # one engine path per process: no server while this one is built
    d = tmp_path_factory.mktemp("dash-hostile")
    build_data_dir(d, hostile_sample(SAMPLE, d / "hostile.jsonl.gz"))
    from seamline import queries

    ctx = _warehouse(d)
    try:
        ctx.md.annotate(datetime(2026, 10, 10, 12, tzinfo=timezone.utc), LINK, source="")
        rule, mid = ctx.wh.rows("SELECT rule, message_event_id FROM incidents FINAL "
                                "WHERE rule = 'contradictory_status' ORDER BY at LIMIT 1")[0]
        regression = queries.regression_key(queries.regressions(ctx)[0])
    finally:
        close_engines()
    return d, (f"?period=custom&from=2026-10-01&to=2026-10-30&incident={quote(f'{rule}|{mid}')}"
               f"&regression={quote(regression)}")


def test_event_text_is_text_in_every_chart_and_table(env, hostile_dir, page):
    data, query = hostile_dir
    srv = env.use(data)
    for path in PAGES:
        page.console_errors.clear()
        open_page(page, srv.url + path + query)
        if path == "/freshness":  # the selected regression's lag distribution is drawn too
            page.wait_for_selector(graph_sel("freshness.lagdist") + " .main-svg")
            assert trace_names(page, "freshness.lagdist") == ["before onset", "after onset"]
        assert page.locator('a[href*="evil.example"]').count() == 0, path
        # Plotly draws a link as an SVG <a xlink:href>, which [href] does not match
        assert page.evaluate(EVIL_LINKS) == 0, path
        assert page.locator(".js-plotly-plot tspan[style*='bold']").count() == 0, path  # <b> drawn
        assert_clean(page)
    # shown as the characters typed: a heatmap tick, a legend entry, a table cell
    open_page(page, srv.url + "/journeys" + query)
    assert LINK in page.inner_text(graph_sel("journeys.pairs"))
    open_page(page, srv.url + "/freshness" + query)
    assert BOLD in page.inner_text(graph_sel("freshness.series"))
    assert BOLD in page.inner_text("body")


def test_csv_download_of_event_attrs_is_neutralised(env, hostile_dir, page):
    import csv
    import io

    data, query = hostile_dir
    srv = env.use(data)
    open_page(page, srv.url + "/incidents" + query)
    page.wait_for_selector(graph_sel("incidents.timeline") + " .main-svg")
    with page.expect_download() as info:
        page.click("[id='" + json.dumps({"key": "incidents.timeline", "type": "csv"}, separators=(",", ":")) + "']")
    with open(info.value.path(), encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(io.StringIO(fh.read(), newline="")))
    header, body = rows[0], rows[1:]
    cells = [c for row in body for c in row]
    assert body and all(len(row) == len(header) for row in body)
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    subjects = {row[header.index("subject")] for row in body} - {""}
    assert subjects and all(s.startswith("'\t") for s in subjects)   # the subjects' tab, neutralised
    assert any(row[header.index("status")].startswith("'-cmd") for row in body)
    assert_clean(page)


@pytest.fixture(scope="module")
def broken_dir(tmp_path_factory, sample_events, env):
    """The sample with the ``surveys`` rollup dropped (every query of it fails),
    and job runs as a lock and a killed run leave them."""
    env.stop()  # one engine path per process: no server while this one is built
    d = tmp_path_factory.mktemp("dash-broken")
    build_data_dir(d, sample_events)
    ctx = _warehouse(d)
    try:
        ctx.wh.command("DROP TABLE surveys")
        for job, status in (("freshness", "skipped"), ("freshness", "skipped"), ("retention", "interrupted"),
                            ("continuity", "failed"), ("continuity", "skipped")):
            ctx.md.finish_run(ctx.md.start_run(job, full=False), status, error=f"{status} in the test")
    finally:
        close_engines()
    return d


def test_a_failing_query_shows_in_its_card_and_the_page_still_works(env, broken_dir, page):
    srv = env.use(broken_dir)
    open_page(page, srv.url + "/effort?period=30d")
    body = page.inner_text(".page-body")
    assert "Error loading layout" not in page.inner_text("body")
    # the charts that read other rollups are drawn ...
    for key in ("effort.silence", "effort.repeat_by_topic"):
        assert page.locator(graph_sel(key) + " .main-svg").count() >= 1, key
    # ... and each card of the dropped table says what failed, in place, under its title
    failed = page.locator(".card-failed")
    assert failed.count() >= 4
    card = page.locator(".card-failed", has=page.locator("h3", has_text="CES by channel"))
    assert "This chart could not be drawn: " in card.first.inner_text()
    assert "Unknown table expression identifier 'surveys'." in card.first.inner_text()  # one line, no SQL
    assert "SELECT" not in body
    assert "This table could not be filled: " in body
    assert "Traceback" not in body
    # the controls still work: another period re-renders the page from the URL
    before = trace_lengths(page, "effort.silence")
    choose(page, "ctl-period", "Last 7 days")
    page.wait_for_url("**period=7d**")
    page.wait_for_function("([sel, n]) => { const g = document.querySelector(sel); "
                           "return g && g.data && Math.max(...g.data.map(t => (t.x || []).length)) < n }",
                           arg=[graph_sel("effort.silence"), max(before)])
    assert page.locator(".card-failed").count() >= 4
    assert page.console_errors == [], page.console_errors


def test_overview_with_a_failing_rollup_keeps_its_other_cards_and_job_health(env, broken_dir, page):
    srv = env.use(broken_dir)
    open_page(page, srv.url + "/")
    assert "Error loading layout" not in page.inner_text("body")
    assert page.locator(graph_sel("retention.curves") + " .main-svg").count() >= 1
    assert page.locator(graph_sel("overview.incidents") + " .main-svg").count() >= 1
    assert "could not be computed: " in page.inner_text(".card-failed >> nth=0")
    table = page.locator("[id='" + json.dumps({"key": "overview.jobs", "type": "table"}, separators=(",", ":")) + "']")
    rows = {}
    for row in table.locator("tr").all()[1:]:
        cells = row.locator("td").all_inner_texts()
        rows[cells[0]] = cells[1]
    # skipped runs are not failures; an interrupted run is a warning
    assert rows["freshness"] == "ok" and rows["retention"] == "warning" and rows["continuity"] == "failed"
    assert page.console_errors == [], page.console_errors


def test_a_failing_download_says_so(env, broken_dir, page):
    srv = env.use(broken_dir)
    open_page(page, srv.url + "/incidents?period=90d")
    wh = srv.server.app.server.config["SEAMLINE_CTX"].wh  # the server's own engine (one per process)
    wh.command("RENAME TABLE incidents TO incidents_away")  # the table goes after the page was drawn
    try:
        page.click("[id='" + json.dumps({"key": "incidents.table", "type": "csv"}, separators=(",", ":")) + "']")
        page.wait_for_selector("#download-msg .error-message")
        assert page.inner_text("#download-msg").startswith("The CSV could not be prepared: Unknown table")
    finally:
        wh.command("RENAME TABLE incidents_away TO incidents")
    with page.expect_download():  # and the next download works, without the message
        page.click("[id='" + json.dumps({"key": "incidents.table", "type": "csv"}, separators=(",", ":")) + "']")
    page.wait_for_function("() => document.querySelector('#download-msg').innerText === ''")
    assert page.console_errors == [], page.console_errors
