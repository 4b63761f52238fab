"""Executive overview: are the shared KPIs on target and trending the right way?"""

import dash
from dash import dcc, html

from seamline import drill, queries, views
from seamline.app import graph, guarded, no_data, nothing_to_show, page, table

HEALTH_STYLES = {'{health} = "failed"': {"backgroundColor": "#ffe3e3", "fontWeight": "600"},
                 '{health} = "warning"': {"backgroundColor": "#fff3bf"},
                 '{health} = "running"': {"backgroundColor": "#e7f5ff"}}
ALERT_STYLES = {'{state} = "firing"': {"backgroundColor": "#ffe3e3", "fontWeight": "600"},
                '{state} = "pending"': {"backgroundColor": "#fff3bf"}}
SOURCE_STYLES = {'{status} = "failed"': {"backgroundColor": "#ffe3e3", "fontWeight": "600"},
                 '{status} = "invalid"': {"backgroundColor": "#ffe3e3", "fontWeight": "600"}}


def incidents_per_day(ctx, state, title):
    """Incidents per day and rule; with compare, the previous period's daily total overlaid."""
    prev = queries.incidents_daily(ctx, state.previous()) if state.compare else None
    return views.incidents_figure(queries.incidents_daily(ctx, state), prev, title, state.date_from, state.date_to)


def _tile(row, kpi, daily, search="", definition=""):
    sig = ""
    if row["change"] is not None and not views.is_missing(row["change"]):
        if row["p_value"] is not None and not views.is_missing(row["p_value"]):
            sig = ("significant" if row["significant"] else "not significant") + f" ({views.p_text(row['p_value'])})"
        else:
            sig = "no test"
    status = {True: "on target", False: "off target", None: "no target"}[row["on_target"] if row["on_target"] in (True, False) else None]
    trend = "better" if row["better"] is True else ("worse" if row["better"] is False else "flat")
    # the tile opens its family's page with the same view (drill-down)
    return dcc.Link(href=drill.tile_href(kpi.family, search), className="tile-link", title=definition or None,
                    children=html.Div(className=f"tile tile-{status.replace(' ', '-')}", id=f"tile-{kpi.name}", children=[
        html.Div(kpi.label, className="tile-label"),
        html.Div(row["value_text"], className="tile-value"),
        html.Div(className="tile-meta", children=[
            html.Span(f"target {row['target_text']} · {status}", className="tile-target"),
            html.Span(f"vs previous: {row['change_text']} ({trend}) · {sig}" if sig else
                      f"vs previous: {row['change_text']}",
                      className=f"tile-change change-{trend}"),
        ]),
        dcc.Graph(figure=views.sparkline(daily, kpi.name, kpi.unit) if kpi.daily else views.no_data_figure("", 60),
                  config={"displayModeBar": False, "staticPlot": True}, className="sparkline",
                  style={"height": "60px"}),
    ]))


def _kpi_rows(ctx, state):
    """The tiles' and the comparison table's rows: when the period's own cohort
    has no customer past its landmark yet, retention over all cohorts."""
    rows = queries.kpi_table(ctx, state).set_index("kpi")
    if views.is_missing(rows.loc["retention_90", "value"]):
        rows = views.retention_fallback(rows, queries.retention(ctx, state),
                                        views.kpi_targets(ctx.settings).get("retention_90"))
    return rows


def _tiles(ctx, state):
    daily = queries.daily_kpis(ctx, state)
    rows = _kpi_rows(ctx, state)
    search = queries.to_search(state, ctx.settings.display_timezone)
    return html.Div(className="tiles", children=[_tile(rows.loc[k.name], k, daily, search, k.describe(ctx.settings))
                                                 for k in views.KPIS])


def _retention(ctx, state):
    summary = queries.retention_summary(ctx, state)
    p = summary["logrank_p"].iloc[0] if len(summary) else None
    return views.retention_figure(queries.retention_curve_points(ctx, state), p, "Retention by segment")


def _as_of(ctx, state):
    """Where the loaded data ends (what the numbers are as of), and the last job run beside it."""
    from seamline.kpis.retention import end_of_data

    end, ran = end_of_data(ctx.wh), ctx.md.data_as_of()
    return html.Div(className="as-of", children=[
        html.Strong("Data as of: "),
        html.Span(f"{views.fmt_time(end, state.tz)} ({state.tz}), the latest event loaded" if end else "no events yet"),
        html.Span(f" · jobs last ran {views.fmt_time(ran, state.tz)}" if ran else " · no successful job run yet",
                  className="as-of-run"),
    ])


def _jobs(ctx, state):
    from seamline.jobs import JOBS

    return views.table_records(views.job_health(ctx.md.runs(limit=2000), JOBS), state.tz)


def _overmerged(ctx, state):
    """The suspected over-merges card, when there are any (SPEC §2)."""
    try:
        rows = queries.overmerged(ctx, state)
    except Exception:  # the card then says what failed
        rows = None
    if rows is not None and rows.empty:
        return []
    limit = ctx.settings.identity_max_identifiers
    return [table("overview.overmerged", lambda: views.table_records(queries.overmerged(ctx, state), state.tz,
                                                                     state.show_ids),
                  title="Suspected over-merges", styles={},
                  note=f"Customers joined from more than {limit} identifiers: a shared account, or a placeholder "
                       "value (a shared mailbox, a test device) joining people who are not one customer. "
                       "See what joined them with seamline identity explain CUSTOMER; ignore a value with "
                       "identity_blocked_values or identity_blocked_patterns, then run seamline jobs run "
                       "identity --full and seamline jobs run --full.")]


def render(ctx, state, known):
    if nothing_to_show(lambda: not views.kpi_has_data(queries.kpi_table(ctx, state))):
        return no_data()
    return [
        guarded(lambda: _as_of(ctx, state)),
        guarded(lambda: _tiles(ctx, state), "The KPI tiles could not be computed", title="KPIs"),
        html.Div(className="grid2", children=[
            graph("retention.curves", lambda: _retention(ctx, state), "Retention: seamless vs frictioned customers",
                  note="Kaplan–Meier from the 30-day landmark, all cohorts; shaded: 95 % intervals."),
            graph("overview.incidents", lambda: incidents_per_day(ctx, state, "Incidents per day"),
                  "Conflicting-message incidents"),
        ]),
        table("overview.kpis", lambda: views.table_records(views.kpi_display(_kpi_rows(ctx, state).reset_index())),
              title="This period vs the previous period"),
        table("overview.jobs", lambda: _jobs(ctx, state), title="Job health", styles=HEALTH_STYLES,
              note="Health is the latest run that finished: failed (red), interrupted (amber: the next run redoes "
                   "it) or ok. A skipped run (the job was already running) changes nothing."),
        *([table("overview.alerts", lambda: views.table_records(queries.alert_table(ctx, state), state.tz),
                 title="Alerts firing and pending", styles=ALERT_STYLES,
                 note="From the [[alerts]] rules, evaluated after every scheduled job run "
                      "(seamline alerts list for all; silence with seamline alerts silence).")]
          if ctx.settings.alerts else []),
        *_overmerged(ctx, state),
        *([table("overview.sources", lambda: views.table_records(queries.source_table(ctx, state), state.tz),
                 title="Sources in place", styles=SOURCE_STYLES,
                 note="Each [[sources]] table, synced on its schedule (seamline sources check NAME shows its mapping).")]
          if ctx.settings.sources else []),
    ]


dash.register_page(__name__, path="/", name="Overview", title="Seamline · Overview", order=0)
layout = page(render, filters=(), title="Executive overview")
