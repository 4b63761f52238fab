"""Issue 25's last round, in headless Chromium on the sample: the silence
chart counts as the tile does, on one percent axis; the page's days and labels
follow the chosen time zone; the incidents come grouped by rule and day, the
biggest group first, and a group opens its incidents.  One served app for the
module (the real server, chDB and SQLite)."""

from __future__ import annotations

import re

import pytest

from conftest import ServerThread, build_data_dir
from test_browser import assert_clean, browser, choose, graph_sel, open_page, page, trace_names  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def srv(tmp_path_factory, sample_events):
    d = tmp_path_factory.mktemp("round-data")
    build_data_dir(d, sample_events)
    s = ServerThread(d)
    yield s
    s.stop()


def names(pg, key: str) -> list[str]:
    """A chart's trace names, once it holds its data."""
    pg.wait_for_function("(sel) => { const g = document.querySelector(sel); return g && g.data }", arg=graph_sel(key))
    return trace_names(pg, key)


def rows(pg, table_id: str) -> list[dict[str, str]]:
    """A DataTable's shown rows as {column header: cell text}."""
    return pg.evaluate("""(id) => {
        const t = document.getElementById(id);
        const heads = [...t.querySelectorAll('th.dash-header')].map(h => h.innerText.trim());
        return [...t.querySelectorAll('tr')].filter(r => r.querySelector('td.dash-cell')).map(r => {
            const cells = [...r.querySelectorAll('td.dash-cell')].map(c => c.innerText.trim());
            return Object.fromEntries(heads.map((h, i) => [h, cells[i]]));
        });
    }""", table_id)


def test_silence_chart_ends_at_the_tiles_rate_on_one_percent_axis(srv, page):
    open_page(page, srv.url + "/?period=30d")
    tile = page.inner_text("#tile-silence_rate .tile-value")  # "49.4 %"
    open_page(page, srv.url + "/effort?period=30d")
    fig = page.evaluate("(sel) => { const g = document.querySelector(sel); "
                        "return {data: g.data.map(t => ({name: t.name, y: t.y, yaxis: t.yaxis || 'y'})), "
                        "axes: Object.keys(g._fullLayout).filter(k => /^yaxis\\d*$/.test(k)), "
                        "fmt: g._fullLayout.yaxis.tickformat, range: g._fullLayout.yaxis.range} }",
                        graph_sel("effort.silence"))
    assert fig["axes"] == ["yaxis"] and fig["fmt"] == ".0%"  # one axis, in percent
    assert fig["range"][0] == 0 and fig["range"][1] >= 1
    silence = next(t for t in fig["data"] if t["name"] == "silence rate")
    last = [y for y in silence["y"] if y is not None][-1]
    assert f"{100 * last:.1f} %" == tile  # the last day has the tile's number
    assert all(0 <= y <= 1 for t in fig["data"] for y in t["y"] if y is not None)
    assert_clean(page)


def test_days_and_labels_follow_the_chosen_time_zone(srv, page):
    open_page(page, srv.url + "/incidents?period=90d")
    utc_groups = rows(page, "incident-groups")
    choose(page, "ctl-tz", "America/New_York")
    page.wait_for_url("**tz=America/New_York**")
    page.wait_for_function("() => document.querySelector('.page-body').innerText.includes('America/New_York')")
    body = page.inner_text(".page-body")
    assert "UTC" not in body  # titles, notes and headers name the chosen zone
    assert "Days and times in America/New_York" in body and "times in America/New_York" in body
    groups = rows(page, "incident-groups")
    assert groups and groups != utc_groups
    # each group is a day of the zone: its first and last incidents (shown in the zone) fall on that day
    for g in groups:
        assert g["first at"][:10] == g["day"] == g["last at"][:10], g
    # the period's days are the zone's: the period and the chart's axis end on the zone's last day
    end = re.match(r"\d{4}-\d{2}-\d{2} – (\d{4}-\d{2}-\d{2})", page.inner_text(".period-note")).group(1)
    xs = page.evaluate("(sel) => document.querySelector(sel)._fullLayout.xaxis.range", graph_sel("incidents.daily"))
    assert str(xs[1])[:10] == end
    assert_clean(page)


def test_incidents_are_grouped_biggest_first_and_a_group_opens_its_incidents(srv, page):
    open_page(page, srv.url + "/incidents?period=90d")
    groups = rows(page, "incident-groups")
    counts = [int(g["incidents"].replace(",", "")) for g in groups]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    top = groups[0]
    page.locator("#incident-groups input[type=radio]").first.check()
    page.wait_for_url(f"**from={top['day']}**")
    assert f"to={top['day']}" in page.url and f"rule={top['rule']}" in page.url and "period=custom" in page.url
    page.wait_for_selector("#incident-table")
    page.wait_for_function("(n) => document.querySelector('.page-body').innerText.includes(`Incidents (${n},`)",
                           arg=counts[0] if counts[0] < 10 else f"{counts[0]:,}")
    listed = rows(page, "incident-table")
    assert listed and all(r["rule"] == top["rule"] and r["at"][:10] == top["day"] for r in listed)
    page.go_back()
    page.wait_for_url("**period=90d**")
    page.wait_for_function("() => document.querySelectorAll('#incident-groups tr').length > 3")
    assert_clean(page)


def test_compare_overlays_the_previous_period_and_compares_cohorts(srv, page):
    open_page(page, srv.url + "/incidents?period=30d")
    names = page.evaluate("(sel) => document.querySelector(sel).data.map(t => t.name)", graph_sel("incidents.daily"))
    assert "all rules, previous period" not in names
    page.check("#ctl-compare input[type=checkbox]")
    page.wait_for_url("**compare=1**")
    page.wait_for_function("(sel) => { const g = document.querySelector(sel); "
                           "return g && g.data && g.data.some(t => t.name === 'all rules, previous period') }",
                           arg=graph_sel("incidents.daily"))
    open_page(page, srv.url + "/retention?compare=1")
    assert "all cohorts have no previous period" in page.inner_text(".page-body")
    open_page(page, srv.url + "/retention?compare=1&cohort=period&period=90d")
    card = page.locator(".card", has=page.locator("h3", has_text="this period's cohort vs the previous period's"))
    text = card.inner_text()
    assert "previous period" in text and "change" in text and ("pp" in text or "no data for the previous" in text)
    assert_clean(page)


def test_the_control_bar_speaks_the_chosen_zone(srv, page):
    open_page(page, srv.url + "/freshness?period=30d&tz=Asia/Tokyo")
    bar = page.inner_text(".controls")
    assert "Dates (Asia/Tokyo days)" in bar and "(Asia/Tokyo)" in bar and "UTC" not in bar
    note = page.inner_text(".period-note")
    # the sample's last event (2026-10-30 23:5x UTC) is already 2026-10-31 in Tokyo
    assert re.search(r"end of data 2026-10-31 0\d:\d\d \(Asia/Tokyo\)", note), note


def test_an_invalid_url_value_says_so_and_shows_the_defaults(srv, page):
    open_page(page, srv.url + "/?period=custom&from=2026-13-45&to=2026-10-31&tz=Mars/Olympus")
    notices = page.locator(".url-notice").all_inner_texts()
    assert any("from=2026-13-45 is not a date" in n for n in notices), notices
    assert any("tz=Mars/Olympus is not a time zone" in n for n in notices), notices
    assert page.inner_text("#tile-continuity_rate .tile-value").strip()  # the view itself still works
    assert_clean(page)


def test_compare_on_freshness_overlays_the_previous_period(srv, page):
    open_page(page, srv.url + "/freshness?period=30d&source=crm")
    assert "crm, previous period" not in names(page, "freshness.series") and len(names(page, "freshness.slo")) == 1
    open_page(page, srv.url + "/freshness?period=30d&source=crm&compare=1")
    assert "crm, previous period" in names(page, "freshness.series")
    assert names(page, "freshness.slo") == ["this period", "previous period"]
    open_page(page, srv.url + "/freshness?period=30d&compare=1")  # every source: a panel each, its previous period in it
    fig = page.evaluate("(sel) => { const g = document.querySelector(sel); return {names: g.data.map(t => t.name), "
                        "axes: g.data.map(t => t.yaxis || 'y'), rows: g.layout.meta.rows} }", graph_sel("freshness.series"))
    sources = sorted(fig["rows"])
    assert len(sources) >= 5 and "crm" in sources
    for src in sources:
        row = fig["rows"][src]
        axis = "y" if row == 1 else f"y{row}"
        assert fig["axes"][fig["names"].index(src)] == axis
        assert fig["axes"][fig["names"].index(f"{src}, previous period")] == axis
    assert_clean(page)


def test_a_heatmap_cell_and_a_sankey_link_filter_the_journeys_page(srv, page):
    open_page(page, srv.url + "/journeys?period=30d")
    page.wait_for_function("(sel) => { const g = document.querySelector(sel); return g && g._ev && "
                           "g._ev.listeners('plotly_click').length > 0 }", arg=graph_sel("journeys.pairs"))
    box = page.locator(graph_sel("journeys.pairs") + " .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)  # a cell: a pair of channels
    page.wait_for_url("**channel=**")
    pair = page.url.split("channel=")[1].split("&")[0].split("%2C" if "%2C" in page.url else ",")
    assert len(pair) in (1, 2) and all(pair), page.url
    page.wait_for_selector(graph_sel("journeys.daily"))
    assert_clean(page)

    open_page(page, srv.url + "/journeys?period=30d")
    page.wait_for_function("(sel) => { const g = document.querySelector(sel); return g && g._ev && "
                           "g._ev.listeners('plotly_click').length > 0 }", arg=graph_sel("journeys.sankey"))
    # a link is a curved band: its box's centre may lie off it, so the click goes to the link itself
    page.evaluate("(sel) => { const link = document.querySelector(sel + ' .sankey-link'); "
                  "for (const t of ['mouseover', 'click']) link.dispatchEvent(new MouseEvent(t, {bubbles: true})) }",
                  graph_sel("journeys.sankey"))
    page.wait_for_url("**channel=**")
    assert_clean(page)


def test_compare_on_the_journeys_and_effort_pages_overlays_the_previous_period(srv, page):
    open_page(page, srv.url + "/journeys?period=30d&compare=1")
    assert "previous period" in names(page, "journeys.daily")
    open_page(page, srv.url + "/effort?period=30d&compare=1")
    assert "silence rate, previous period" in names(page, "effort.silence")
    open_page(page, srv.url + "/?period=30d&compare=1")
    assert "previous period" in page.inner_text(".page-body")  # the tiles and the table compare
    assert_clean(page)
