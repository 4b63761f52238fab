"""One computation per number: survival at the landmark days is
``seamline.kpis.retention.retention`` wherever it is shown (``metrics --json``, the
overview tile and its all-cohorts fallback, the retention page's table), on
data where the curve's 0.1-day bins would give other numbers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from eventkit import expand_all, load_events
from pagekit import _components
from seamline import views
from seamline.runner import run_jobs

DAY = timedelta(days=1)
LANDMARK = 30 * DAY
EOD = datetime(2026, 4, 30, 23, 45, 36, tzinfo=timezone.utc)  # B's churn, the last event

# customer -> (first event, churn or None); durations from the landmark (first + 30 d):
# a censoring and a churn 0.03 d apart share one 0.1-day bin, once just under
# day 30 and once just under day 90, so the binned curve keeps the censored
# customer at risk at the churn and reads higher at every landmark day.
CUSTOMERS = {
    "X": (EOD - LANDMARK - 99.99 * DAY, None),            # censored at 99.99 d
    "A": (EOD - LANDMARK - 89.96 * DAY, None),            # censored at 89.96 d
    "B": (EOD - LANDMARK - 89.99 * DAY, EOD),             # churns at 89.99 d
    "D": (datetime(2025, 12, 27, tzinfo=timezone.utc), datetime(2026, 3, 17, tzinfo=timezone.utc)),  # 50 d
    "E": (EOD - LANDMARK - 29.96 * DAY, None),            # censored at 29.96 d
    "F": (datetime(2026, 1, 10, tzinfo=timezone.utc), datetime(2026, 1, 10, tzinfo=timezone.utc) + LANDMARK + 29.99 * DAY),
}
# Kaplan–Meier on the exact durations (hand-computed): at 29.99 d 5 at risk,
# at 50 d 4, at 89.99 d 2 (A censored just before)
EXACT = {30: 4 / 5, 60: 4 / 5 * 3 / 4, 90: 4 / 5 * 3 / 4 * 1 / 2}
# the same in 0.1-day bins: at 30.0 d 6 at risk, at 90.0 d 3
BINNED = {30: 5 / 6, 60: 5 / 6 * 3 / 4, 90: 5 / 6 * 3 / 4 * 2 / 3}


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@pytest.fixture
def loaded(tmp_path, settings, wh, md):
    rows = []
    for cust, (first, churn) in CUSTOMERS.items():
        rows.append({"cust": cust, "t": _iso(first)})
        if churn is not None:
            rows.append({"cust": cust, "t": _iso(churn), "type": "churn"})
    load_events(wh, settings, expand_all(rows), tmp_path / "e.jsonl")
    assert all(r.status == "success" for r in run_jobs(wh, md, settings))
    return settings


def _json_retention(cli) -> dict:
    code, out, _ = cli("metrics", "--from", "2025-12-01", "--to", "2026-05-01", "--json")
    assert code == 0
    return json.loads(out)["retention"]


def _pages(settings, query: dict) -> dict:
    """Per page path, its components (the real layout functions)."""
    import dash

    from seamline import queries
    from seamline.app import create_app

    queries.clear_cache()
    app = create_app(settings)
    out = {}
    for entry in dash.page_registry.values():
        with app.server.test_request_context(entry["path"]):
            out[entry["path"]] = list(_components(entry["layout"](**query)))
    return out


def _tile_value(components) -> str:
    tile = next(c for c in components if getattr(c, "id", None) == "tile-retention_90")
    return next(c for c in _components(tile.children) if getattr(c, "className", "") == "tile-value").children


def test_overview_tile_retention_page_and_metrics_json_show_one_retention(loaded, cli, ctx):
    from dash import dash_table

    from seamline import queries
    from seamline.kpis.retention import LANDMARKS
    from seamline.urlstate import known_values, parse_state

    r = _json_retention(cli)
    seamless = r["segments"]["seamless"]
    assert seamless["customers"] == 6 and seamless["churned"] == 3
    assert r["segments"]["frictioned"]["customers"] == 0
    for day in LANDMARKS:
        assert seamless[f"survival_{day}"] == pytest.approx(EXACT[day])
    # the figure the tile shows: customer-weighted over the segments
    figure = next(k for k in views.KPIS if k.name == "retention_90").of({"retention": r})
    assert figure == pytest.approx(EXACT[90])

    # the default view (the last 30 days) has no first event: the tile falls back to every cohort
    default = _pages(loaded, {})
    assert _tile_value(default["/"]) == views.fmt_kpi("pct", figure) + " (all cohorts)"
    # a period holding every first event: the tile reads the period's own cohort
    whole = _pages(loaded, {"period": "custom", "from": "2025-12-01", "to": "2026-04-30"})
    assert _tile_value(whole["/"]) == views.fmt_kpi("pct", figure)

    # the retention page's table: the same numbers and intervals
    table = next(c for c in default["/retention"] if isinstance(c, dash_table.DataTable)
                 and c.data and "survival_90" in c.data[0])
    row = next(x for x in table.data if x["segment"] == "seamless")
    for day in LANDMARKS:
        lo, hi = seamless[f"survival_{day}_ci"]
        assert row[f"survival_{day}"] == (f"{views.fmt_pct(seamless[f'survival_{day}'])} "
                                          f"({views.fmt_pct(lo)}–{views.fmt_pct(hi)})")

    # the curve is still drawn from 0.1-day bins, and read there the numbers would differ
    state = parse_state({}, known_values(ctx.wh, ctx.settings, fresh=True), ctx.settings.display_timezone)
    qctx = queries.Ctx(ctx.wh, ctx.settings, ctx.md)
    points = queries.retention_curve_points(qctx, state)
    drawn = points[points["segment"] == "seamless"]
    for day in LANDMARKS:
        assert drawn[drawn["days"] <= day]["survival"].iloc[-1] == pytest.approx(BINNED[day])
        assert BINNED[day] != pytest.approx(EXACT[day])
    summary = queries.retention_summary(qctx, state).set_index("segment")
    assert summary.loc["seamless", "survival_90"] == pytest.approx(EXACT[90])
