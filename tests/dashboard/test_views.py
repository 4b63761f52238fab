"""View functions and URL-state parsing, without a browser or a warehouse."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from seamline import urlstate, views
from seamline.urlstate import Known, parse_state, to_search

EOD = datetime(2026, 10, 30, 23, 59, 41, tzinfo=timezone.utc)
KNOWN = Known(channels=("app", "chat", "email", "web"), sources=("crm", "web"), topics=("billing", "order"),
              rules=("promo_after_purchase",), first_at=datetime(2026, 9, 1, 6, tzinfo=timezone.utc), end_of_data=EOD)


# URL state ------------------------------------------------------------------
def test_presets_count_back_from_the_end_of_data_not_the_wall_clock():
    s = parse_state({"period": "7d"}, KNOWN)
    assert s.end == datetime(2026, 10, 31, tzinfo=timezone.utc)
    assert s.start == datetime(2026, 10, 24, tzinfo=timezone.utc)
    assert (s.prev_start, s.prev_end) == (datetime(2026, 10, 17, tzinfo=timezone.utc), s.start)
    assert parse_state({}, KNOWN).span == timedelta(days=30)


def test_custom_dates_are_inclusive_and_inverted_dates_are_swapped():
    s = parse_state({"period": "custom", "from": "2026-10-14", "to": "2026-10-01"}, KNOWN)
    assert (s.date_from, s.date_to) == (date(2026, 10, 1), date(2026, 10, 14))
    assert s.end - s.start == timedelta(days=14)


def test_dates_are_clamped_into_the_data_range():
    s = parse_state({"from": "1900-01-01", "to": "2099-12-31"}, KNOWN)
    assert s.preset == "custom"
    assert (s.date_from, s.date_to) == (date(2026, 9, 1), date(2026, 10, 30))


@pytest.mark.parametrize("params", [
    {"period": "'; DROP TABLE events; --"},
    {"from": "not-a-date", "to": "2026-13-45"},
    {"from": "x" * 100_000},
    {"period": ["7d", "30d"], "channel": ["a", "b"]},
    {"period": None, "tz": "../../etc/passwd", "ids": "<script>"},
    {"from": "0001-01-01", "to": "9999-12-31"},
    {"period": "custom"},
])
def test_hostile_values_fall_back_to_valid_defaults(params):
    s = parse_state(params, KNOWN)
    assert s.preset in (*urlstate.PRESETS, "custom")
    assert s.start < s.end
    assert s.end - s.start <= timedelta(days=urlstate.MAX_SPAN_DAYS)
    assert s.tz == "UTC"
    assert set(s.channels) <= set(KNOWN.channels)


def test_filters_keep_only_known_values_in_order_without_duplicates():
    s = parse_state({"channel": "chat,evil',web,chat", "source": "crm", "topic": "nope"}, KNOWN)
    assert s.channels == ("chat", "web")
    assert s.sources == ("crm",)
    assert s.topics == ()


def test_page_params_are_validated_by_their_checkers():
    checks = {"rule": urlstate.member_of(KNOWN.rules), "q": urlstate.one_of("p50", "p95"),
              "incident": urlstate.token(300)}
    s = parse_state({"rule": "drop table", "q": "p95", "incident": "promo_after_purchase|s7-1"}, KNOWN, page_params=checks)
    assert s.extra == {"q": "p95", "incident": "promo_after_purchase|s7-1"}
    assert parse_state({"incident": "a|' OR 1=1"}, KNOWN, page_params=checks).extra == {}


def test_state_round_trips_through_the_query_string():
    s = parse_state({"period": "custom", "from": "2026-10-01", "to": "2026-10-14", "compare": "1",
                     "channel": "web,chat", "tz": "Europe/Berlin", "ids": "1"}, KNOWN)
    again = parse_state(urlstate.parse_search(to_search(s)), KNOWN)
    assert again == s


def test_empty_warehouse_state_uses_today():
    s = parse_state({}, Known())
    assert s.end.date() == datetime.now(timezone.utc).date() + timedelta(days=1)


# Formatting -----------------------------------------------------------------
def test_customer_identifiers_are_masked_unless_shown():
    assert views.mask_id("C0000036") == "C00…"
    assert views.mask_id("C0000036", show=True) == "C0000036"
    rows = views.table_records(pd.DataFrame({"customer": ["C0000036"], "at": [datetime(2026, 10, 1, 12)],
                                             "channels": [["web", "email"]], "x": [0.123456]}), tz="Europe/Berlin")
    assert rows == [{"customer": "C00…", "at": "2026-10-01 14:00:00", "channels": "web, email", "x": 0.123}]


def test_views_re_exports_every_formatter_and_figure_builder():
    """Pages read ``views.<name>``: a new formatter or figure is re-exported."""
    import inspect

    from seamline import figures, formatting

    for module in (formatting, figures):
        names = [n for n, v in vars(module).items() if not n.startswith("_") and (
            (inspect.isfunction(v) and v.__module__ == module.__name__) or (n.isupper() and n != "TYPE_CHECKING"))]
        assert names and all(getattr(views, n, None) is getattr(module, n) for n in names), module.__name__
        assert set(names) <= set(views.__all__), module.__name__


def test_formatters():
    assert views.fmt_pct(0.8391) == "83.9 %"
    assert views.fmt_duration(372) == "6.2 min"
    assert views.fmt_p(0.0001) == "< 0.001"
    assert views.fmt_change("pct", -0.154) == "−15.4 pp"
    assert views.fmt_kpi("count", None) == "–"


# KPIs -----------------------------------------------------------------------
def _metrics(frictionless, transitions, ces_n=50, ces_mean=5.0):
    return {
        "freshness": {"p95_s": 300.0, "slo_met_rate": 0.9, "source_hours_met": 90, "source_hours": 100},
        "continuity": {"rate": frictionless / transitions, "frictionless": frictionless, "transitions": transitions},
        "silence": {"repeat_contact_rate": 0.1, "repeat_contacts": 10, "contacts": 100, "silence_rate": 0.8,
                    "silent_customers": 80, "active_customers": 100},
        "effort": {"responses": ces_n, "ces_mean": ces_mean, "sum": ces_mean * ces_n,
                   "sum_sq": (ces_mean ** 2 + 1.0) * ces_n},
        "retention": {"segments": {"seamless": {"customers": 10, "survival_90": 0.9},
                                   "frictioned": {"customers": 30, "survival_90": 0.7}}},
        "incidents": {"total": 4},
    }


def test_kpi_frame_marks_significant_changes_and_targets():
    cur, prev = _metrics(900, 1000), _metrics(700, 1000)
    frame = views.kpi_frame(cur, prev, {"continuity_rate": 0.8, "incidents": 0.0}).set_index("kpi")
    cont = frame.loc["continuity_rate"]
    assert cont["value"] == pytest.approx(0.9)
    assert cont["change"] == pytest.approx(0.2)
    assert cont["significant"] and cont["better"] and cont["on_target"]
    assert cont["change_text"] == "+20.0 pp"
    same = frame.loc["slo_met_rate"]
    assert not same["significant"] and same["p_value"] == pytest.approx(1.0)
    assert frame.loc["retention_90", "value"] == pytest.approx(0.75)   # customer-weighted
    assert frame.loc["incidents", "on_target"] is False or frame.loc["incidents", "on_target"] == False  # noqa: E712
    assert frame.loc["freshness_p95_s", "p_text"] == "no test"


def test_kpi_display_has_one_row_per_kpi():
    frame = views.kpi_frame(_metrics(900, 1000), _metrics(700, 1000), {})
    shown = views.kpi_display(frame)
    assert list(shown["KPI"]) == [k.label for k in views.KPIS]


# Figures --------------------------------------------------------------------
EMPTY = pd.DataFrame()


@pytest.mark.parametrize("build", [
    lambda: views.band_figure(pd.DataFrame(columns=["day", "rate"]), "day", "rate"),
    lambda: views.heatmap_figure(EMPTY),
    lambda: views.sankey_figure(EMPTY),
    lambda: views.friction_figure(EMPTY),
    lambda: views.retention_figure(EMPTY),
    lambda: views.freshness_figure(EMPTY),
    lambda: views.ci_bars(pd.DataFrame(columns=["x", "y", "lo", "hi"]), "x", "y", "lo", "hi"),
    lambda: views.ces_distribution_figure(EMPTY),
    lambda: views.stacked_bars(pd.DataFrame(columns=["day", "rule", "n"]), "day", "rule", "n"),
    lambda: views.lagdist_figure(EMPTY),
])
def test_empty_frames_give_the_no_data_figure(build):
    fig = build()
    assert views.is_no_data(fig)


PAIRS = pd.DataFrame({
    "from_channel": ["chat", "web", "web"], "to_channel": ["phone", "chat", "email"],
    "transitions": [100, 50, 10], "frictionless": [35, 45, 10], "repeat_info": [40, 3, 0], "reauth": [20, 2, 0],
    "transfers": [10, 1, 0], "frictioned": [65, 5, 0],
})


def _pairs():
    from seamline.queries import _with_wilson

    return _with_wilson(PAIRS.copy(), "frictionless", "transitions", "rate")


def test_heatmap_has_rates_and_counts():
    fig = views.heatmap_figure(_pairs())
    hm = fig.data[0]
    assert list(hm.y) == ["chat", "web"] and list(hm.x) == ["chat", "email", "phone"]
    assert hm.z[0][2] == pytest.approx(0.35)        # chat → phone
    assert "n=100" in hm.text[0][2]
    assert hm.z[0][0] is None                        # no chat → chat pair


def test_sankey_links_carry_the_transition_counts():
    link = views.sankey_figure(_pairs()).data[0].link
    assert sorted(link.value) == [10, 50, 100]
    assert len(views.sankey_figure(_pairs()).data[0].node.label) == 2 + 3


def test_friction_mix_and_worst_pairs():
    fig = views.friction_figure(_pairs())
    assert [t.name for t in fig.data] == ["repeat info", "reauth", "transfers"]
    worst = views.worst_pairs(_pairs(), min_n=20)
    assert list(worst["from_channel"]) == ["chat", "web"]  # the n=10 pair is below min_n
    assert worst.loc[0, "rate_low"] < 0.35 < worst.loc[0, "rate_high"]


def test_band_figure_with_target_and_previous_period():
    df = pd.DataFrame({"day": pd.date_range("2026-10-01", periods=3).date, "rate": [0.8, 0.9, 0.85],
                       "lo": [0.7, 0.8, 0.75], "hi": [0.9, 0.95, 0.9]})
    fig = views.band_figure(df, "day", "rate", "lo", "hi", target=0.8, pct=True, name="continuity")
    assert [t.name for t in fig.data] == ["95 % interval", "continuity"]
    assert list(fig.data[1].y) == [0.8, 0.9, 0.85]
    assert fig.layout.shapes[0].y0 == 0.8
    views.add_previous(fig, df, "day", "rate", timedelta(days=3))
    assert fig.data[-1].name == "previous period"
    assert str(fig.data[-1].x[0])[:10] == "2026-10-04"


def test_retention_figure_draws_both_segments_with_bands_and_p():
    pts = pd.DataFrame({"segment": ["seamless"] * 2 + ["frictioned"] * 2, "days": [0, 10, 0, 10],
                        "survival": [1, 0.9, 1, 0.7], "low": [1, 0.85, 1, 0.6], "high": [1, 0.95, 1, 0.8]})
    fig = views.retention_figure(pts, 0.0004)
    assert [t.name for t in fig.data if t.showlegend is not False] == ["seamless", "frictioned"]
    assert "log-rank p < 0.001" in fig.layout.title.text


def test_freshness_figure_marks_regressions_annotations_and_target_on_a_log_axis():
    series = pd.DataFrame({"bucket": pd.to_datetime(["2026-10-07 12:00", "2026-10-07 13:00"]), "source": ["crm", "crm"],
                           "events": [5, 5], "p50": [10, 12], "p95": [100, 600], "p99": [120, 700]})
    onset = datetime(2026, 10, 7, 13, tzinfo=timezone.utc)
    fig = views.freshness_figure(series, "p95", 300.0, [{"source": "crm", "onset": onset}],
                                 [{"at": onset, "text": "deploy 1.2"}], tz="UTC")
    assert list(fig.data[0].y) == [100, 600]
    assert fig.layout.yaxis.type == "log"
    texts = [a.text for a in fig.layout.annotations]
    assert "regression: crm" in texts and "deploy 1.2" in texts
    target_note = next(a for a in fig.layout.annotations if a.text.startswith("SLO target"))
    assert target_note.y == pytest.approx(2.4771, abs=1e-3)   # log10(300): not 300 on a log axis
    # ticks in the target's units, no minor "2 … 9" labels
    assert "1 min" in fig.layout.yaxis.ticktext and "10 min" in fig.layout.yaxis.ticktext
    assert fig.layout.yaxis.minor.ticks == ""
    long = views.freshness_figure(series, "p95", None, [], [{"at": onset, "text": "crm-sync v2.3.1 hotfix (batching reverted)"}])
    (note,) = long.layout.annotations
    assert note.xanchor == "left" and len(note.text) <= 28 and note.hovertext.endswith("(batching reverted)")


def test_timeline_highlights_the_incident_events():
    df = pd.DataFrame({"event_id": ["a", "b", "c"], "occurred_at": pd.to_datetime(["2026-10-01", "2026-10-02", "2026-10-03"]),
                       "channel": ["web", "email", "sms"], "direction": ["inbound", "outbound", "outbound"],
                       "type": ["purchase", "message", "message"], "source": ["commerce"] * 3, "topic": [""] * 3,
                       "kind": ["", "promo", "service"], "product": [""] * 3, "subject": [""] * 3, "status": [""] * 3,
                       "involved": [1, 1, 0]})
    fig = views.timeline_figure(df)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["incident events"].y) == ["web", "email"]
    assert list(by_name["events"].y) == ["sms"]


def test_calibration_and_ces_distribution():
    cal = pd.DataFrame({"bin": [1, 2], "predicted_ces": [3.0, 6.0], "observed_ces": [3.2, 5.8], "responses": [10, 12]})
    fig = views.calibration_figure(cal)
    assert list(fig.data[1].x) == [3.0, 6.0]
    assert "Effort model unavailable" in views.calibration_figure(EMPTY).layout.annotations[0].text
    dist = views.ces_distribution_figure(pd.DataFrame({"ces": [1, 7], "responses": [1, 3]}))
    assert list(dist.data[0].y) == [0.25, 0.75]


def test_sparkline_and_retention_fallback():
    daily = pd.DataFrame({"day": pd.date_range("2026-10-01", periods=3).date, "continuity_rate": [0.8, None, 0.9]})
    assert len(views.sparkline(daily, "continuity_rate").data) == 1
    assert views.sparkline(daily.iloc[0:0], "continuity_rate").layout.annotations
    rows = views.kpi_frame(_metrics(9, 10), _metrics(9, 10), {}).set_index("kpi")
    rows.loc["retention_90", "value"] = None
    retention = {"segments": {"seamless": {"customers": 100, "survival_90": 0.9},
                              "frictioned": {"customers": 300, "survival_90": 0.5}}}
    out = views.retention_fallback(rows, retention, 0.9)
    assert out.loc["retention_90", "value"] == pytest.approx(0.6)
    assert out.loc["retention_90", "value_text"].endswith("(all cohorts)")
    assert out.loc["retention_90", "change_text"] == "the period's own cohort is not past its landmark yet"
    empty = {"segments": {"seamless": {"customers": 0, "survival_90": None},
                          "frictioned": {"customers": 0, "survival_90": None}}}
    assert views.is_missing(views.retention_fallback(rows, empty, 0.9).loc["retention_90", "value"])


def test_an_end_of_data_at_the_end_of_the_calendar_does_not_overflow():
    # 9999-12-31 + 1 day is not a date: the period arithmetic clamps the bound
    known = Known(first_at=KNOWN.first_at, end_of_data=datetime(9999, 12, 31, 23, tzinfo=timezone.utc))
    for params in ({}, {"period": "7d", "compare": "1"}, {"from": "2026-09-01"}):
        s = parse_state(params, known)
        assert s.start < s.end and s.previous().start < s.start


def test_keys_made_of_event_values_accept_any_printable_text():
    check = urlstate.text()
    assert check("<b>bold</b>@20261007T14") == "<b>bold</b>@20261007T14"
    assert check("promo|id with spaces") == "promo|id with spaces"
    assert check("a\tb") is None and check("x" * 300) is None and check(None) is None


def test_p_values_read_as_sentences():
    assert views.p_text(0.0004) == "p < 0.001" and views.p_text(0.0342) == "p = 0.034"
    assert views.p_text(None) == "p: no test"


def test_a_previous_period_without_events_is_no_baseline():
    from seamline.kpis import kpi

    incidents = kpi("incidents.total")
    cur = {"freshness": {"events": 120}, "incidents": {"total": 7}}
    assert views.compare_kpi(incidents, cur, {"freshness": {"events": 0}, "incidents": {"total": 0}})["previous"] is None
    c = views.compare_kpi(incidents, cur, {"freshness": {"events": 50}, "incidents": {"total": 0}})
    assert c["previous"] == 0 and c["change"] == 7 and c["better"] is False  # a quiet period is a baseline
    frame = views.kpi_frame(cur, {"freshness": {"events": 0}}, {}).set_index("kpi")
    assert frame.loc["incidents", "change_text"] == views.NO_PREVIOUS and frame.loc["incidents", "value"] == 7


def test_tables_show_durations_percentages_and_words():
    rows = views.table_records(pd.DataFrame([{"source": "crm", "lag_s": 59700.129, "after_p95_s": 587.7,
                                              "rate": 0.35, "rate_low": 0.3, "survival_90_high": 0.912,
                                              "recovered": True, "transitions": 618, "ratio": 4.0912}]))
    assert rows == [{"source": "crm", "lag_s": "16.6 h", "after_p95_s": "9.8 min", "rate": "35.0 %",
                     "rate_low": "30.0 %", "survival_90_high": "91.2 %", "recovered": "yes", "transitions": 618,
                     "ratio": "×4.1"}]
    assert views.column_title("after_p95_s") == "after p95" and views.column_title("at_risk") == "at risk"


def test_daily_bars_cover_the_chosen_period_with_day_ticks_and_ci_bars_say_their_value():
    from datetime import date

    two_days = pd.DataFrame({"day": pd.to_datetime(["2026-09-25", "2026-09-26"]), "rule": ["a", "a"],
                             "incidents": [170, 3]})
    fig = views.stacked_bars(two_days, "day", "rule", "incidents", days=(date(2026, 9, 20), date(2026, 9, 30)))
    assert fig.layout.xaxis.type == "date" and fig.layout.xaxis.dtick == 86_400_000
    assert [str(v)[:13] for v in fig.layout.xaxis.range] == ["2026-09-19 12", "2026-09-30 12"]
    assert list(fig.data[0].customdata) == ["a", "a"]
    assert fig.data[0].width == 0.8 * 86_400_000  # a lone day is a visible bar, not 1 ms wide
    one = pd.DataFrame({"source": ["crm"], "slo_met_rate": [0.9612], "low": [0.95], "high": [0.97]})
    bars = views.ci_bars(one, "source", "slo_met_rate", "low", "high", pct=True, horizontal=True)
    assert list(bars.data[0].text) == ["96.1 %"]
    two = pd.DataFrame({"source": ["web", "survey"], "slo_met_rate": [1.0, 0.0], "low": [0.95, 0.0],
                        "high": [1.0, 0.05]})
    bars = views.ci_bars(two, "source", "slo_met_rate", "low", "high", pct=True, horizontal=True)
    # a 0 % bar has no inside: its label goes beside it
    assert list(bars.data[0].text) == ["100.0 %", "0.0 %"] and list(bars.data[0].textposition) == ["inside", "outside"]


def test_survival_past_the_longest_follow_up_says_its_horizon_and_is_no_change():
    import pandas as pd

    from seamline import views

    now = pd.DataFrame([{"segment": "seamless", "customers": 10, "followup_days": 59.6,
                         "survival_30": 0.9, "survival_60": 0.774, "survival_90": 0.774}])
    before = pd.DataFrame([{"segment": "seamless", "customers": 12, "followup_days": 120.0,
                            "survival_30": 0.869, "survival_60": 0.768, "survival_90": 0.68}])
    rows = views.survival_change(now, before).set_index("at")
    assert rows.loc["30 days", "change"] == "+3.1 pp" and rows.loc["60 days", "change"] == "+0.6 pp"
    assert rows.loc["90 days", "this period"] == "77.4 % at 60 days (longest follow-up)"
    assert rows.loc["90 days", "change"] == "–"  # a carried survival is not a change at 90 days
    empty = views.survival_change(now, before.assign(customers=0)).set_index("at")
    assert set(empty["previous period"]) == {views.NO_PREVIOUS}


def test_invalid_url_values_fall_back_with_a_notice():
    s = parse_state({"from": "2026-13-45", "to": "zz", "tz": "Mars/Base"}, KNOWN)
    assert (s.preset, s.tz) == ("30d", "UTC")
    assert s.notices == ("from=2026-13-45 is not a date (YYYY-MM-DD)", "to=zz is not a date (YYYY-MM-DD)",
                         "tz=Mars/Base is not a time zone: showing UTC",
                         f"showing {s.date_from:%Y-%m-%d} – {s.date_to:%Y-%m-%d}")
    assert parse_state({"period": "7d", "tz": "Europe/Berlin"}, KNOWN).notices == ()


def test_a_periods_days_are_the_time_zones_days():
    s = parse_state({"period": "custom", "from": "2026-10-01", "to": "2026-10-07", "tz": "Asia/Tokyo"}, KNOWN)
    assert s.start == datetime(2026, 9, 30, 15, tzinfo=timezone.utc)  # midnight in Tokyo
    assert s.end == datetime(2026, 10, 7, 15, tzinfo=timezone.utc)
    assert (s.date_from.isoformat(), s.date_to.isoformat()) == ("2026-10-01", "2026-10-07")
    assert s.prev_start == datetime(2026, 9, 23, 15, tzinfo=timezone.utc) and s.params()["tz"] == "Asia/Tokyo"
    # the presets count back from the zone's day of the end of data (23:59:41 UTC is the next day in Tokyo)
    p = parse_state({"period": "7d", "tz": "Asia/Tokyo"}, KNOWN)
    assert p.date_to.isoformat() == "2026-10-31"


def test_freshness_figure_of_several_sources_is_a_panel_each_with_its_own_target_and_previous_period():
    hours = pd.to_datetime(["2026-10-07 12:00", "2026-10-07 13:00"])
    series = pd.DataFrame({"bucket": list(hours) * 2, "source": ["crm", "crm", "web", "web"], "events": [5] * 4,
                           "p50": [1] * 4, "p95": [100, 400, 2, 3], "p99": [1] * 4})
    prev = series.assign(bucket=series["bucket"] - pd.Timedelta(days=7), p95=[90, 95, 2, 2])
    onset = datetime(2026, 10, 7, 13, tzinfo=timezone.utc)
    fig = views.freshness_figure(series, "p95", 300.0, [{"source": "crm", "onset": onset}], [], tz="UTC",
                                 targets={"crm": 600.0, "web": 60.0}, previous=prev, shift=pd.Timedelta(days=7))
    assert fig.layout.meta["rows"] == {"crm": 1, "web": 2}
    by_name = {t.name: t for t in fig.data}
    assert by_name["crm"].yaxis == "y" and by_name["web"].yaxis == "y2"  # a panel, and a scale, each
    assert fig.layout.yaxis.type == fig.layout.yaxis2.type == "log"
    assert list(by_name["crm, previous period"].y) == [90, 95] and by_name["web, previous period"].yaxis == "y2"
    assert str(by_name["crm, previous period"].x[0])[:16] == "2026-10-07 12:00"  # shifted onto this period
    targets = {(a.yref, a.text) for a in fig.layout.annotations if a.text.startswith("SLO target")}
    assert targets == {("y", "SLO target 10.0 min"), ("y2", "SLO target 60 s")}
    (reg,) = [a for a in fig.layout.annotations if a.text == "regression: crm"]
    assert reg.yref == "y domain"  # on crm's panel
    empty = views.freshness_figure(series, "p95", 300.0, previous=series.iloc[0:0], shift=pd.Timedelta(days=7))
    assert "no data for the previous period" in [a.text for a in empty.layout.annotations]


def test_a_drag_on_any_panel_sets_the_period():
    from seamline import drill

    assert drill.zoom({"xaxis3.range[0]": "2026-10-05 06:00", "xaxis3.range[1]": "2026-10-12 18:00"}) == (
        date(2026, 10, 5), date(2026, 10, 12))
    assert drill.zoom({"yaxis3.range[0]": 1, "yaxis3.range[1]": 2}) is None
