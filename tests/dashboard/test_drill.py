"""Drill-down targets: what a click or a drag on each chart kind opens."""

from __future__ import annotations

from datetime import date

from seamline import drill

VIEW = "?period=30d&tz=Europe%2FBerlin&ids=1&q=p99"


def test_a_drag_across_a_time_axis_sets_the_period_and_keeps_the_view():
    href = drill.target("freshness.series", "/freshness", VIEW,
                        relayout={"xaxis.range[0]": "2026-10-03 07:12:00.5", "xaxis.range[1]": "2026-10-09 18:00"})
    assert href == "/freshness?period=custom&tz=Europe/Berlin&ids=1&q=p99&from=2026-10-03&to=2026-10-09"
    # a range ending at midnight ends the day before; reversed ranges are put in order
    assert drill.zoom({"xaxis.range": ["2026-10-09T00:00:00", "2026-10-03 12:00"]}) == (date(2026, 10, 3),
                                                                                     date(2026, 10, 8))


def test_other_relayouts_change_nothing():
    for relayout in ({"xaxis.autorange": True}, {"yaxis.range[0]": 1, "yaxis.range[1]": 5}, {}, {"xaxis.range[0]": "x"}):
        assert drill.target("freshness.series", "/freshness", VIEW, relayout=relayout) is None
    # a chart whose x axis is not time
    assert drill.target("freshness.slo", "/freshness", VIEW, relayout={"xaxis.range[0]": "2026-10-01",
                                                                       "xaxis.range[1]": "2026-10-02"}) is None


def test_a_day_bar_opens_that_days_incidents_of_its_rule():
    click = {"points": [{"x": "2026-09-25", "y": 170, "curveNumber": 1, "customdata": "promo_after_purchase"}]}
    href = drill.target("overview.incidents", "/", VIEW, click=click)
    assert href == ("/incidents?period=custom&tz=Europe/Berlin&ids=1&from=2026-09-25&to=2026-09-25"
                    "&rule=promo_after_purchase")  # the page's own choices (q) stay behind


def test_a_heatmap_cell_a_sankey_link_and_a_source_bar_filter_their_page():
    assert drill.target("journeys.pairs", "/journeys", "?period=7d", click={"points": [{"x": "phone", "y": "chat",
                                                                                        "z": 0.35}]}) == \
        "/journeys?period=7d&channel=chat,phone"
    sankey = {"points": [{"source": {"label": "chat →"}, "target": {"label": "→ phone"}, "value": 618}]}
    assert drill.target("journeys.sankey", "/journeys", "", click=sankey) == "/journeys?channel=chat,phone"
    # what dcc.Graph passes on: the point's plain values, the link's label among them
    link = {"points": [{"label": "chat → phone", "value": 618, "pointNumber": 3, "curveNumber": 0}]}
    assert drill.target("journeys.sankey", "/journeys", "", click=link) == "/journeys?channel=chat,phone"
    node = {"points": [{"label": "chat →", "value": 900, "pointNumber": 1, "curveNumber": 0}]}
    assert drill.target("journeys.sankey", "/journeys", "", click=node) is None
    assert drill.target("freshness.slo", "/freshness", "", click={"points": [{"x": 0.97, "y": "crm"}]}) == \
        "/freshness?source=crm"
    assert drill.target("incidents.by_channel", "/incidents", "", click={"points": [{"x": "email"}]}) == \
        "/incidents?channel=email"
    assert drill.target("journeys.pairs", "/journeys", "", click={"points": []}) is None
    assert drill.target("retention.curves", "/retention", "", click={"points": [{"x": 3, "y": 0.9}]}) is None


def test_a_tile_opens_its_family_page_with_the_view():
    assert drill.tile_href("continuity", VIEW) == "/journeys?period=30d&tz=Europe/Berlin&ids=1"
    assert drill.tile_href("retention", "") == "/retention"
