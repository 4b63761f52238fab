"""Incidents (retrospectives): what went wrong, on which channels, what did the customer see?"""

from functools import cache, partial

import dash
from dash import Input, Output, State, dcc, html, no_update

from seamline import queries, urlstate, views
from seamline.alerts import overlay
from seamline.app import URL, current_ctx, graph, guarded, no_data, nothing_to_show, page, safe, table

STATUSES = ("open", "investigating", "resolved", "wont_fix")


def _review_form(inc, tz):
    review = inc.get("review") or {}
    return html.Div(className="card review", children=[
        html.Div(className="card-head", children=[html.H3("Review")]),
        html.Div(className="form-row", children=[
            html.Label("Status", htmlFor="review-status"),
            dcc.Dropdown(id="review-status", clearable=False, value=review.get("status", "open"),
                         options=[{"label": s.replace("_", " "), "value": s} for s in STATUSES]),
        ]),
        html.Div(className="form-row", children=[html.Label("Owner", htmlFor="review-owner"),
                                                 dcc.Input(id="review-owner", value=review.get("owner", ""),
                                                           maxLength=128, debounce=False)]),
        html.Div(className="form-row", children=[html.Label("Root cause", htmlFor="review-root-cause"),
                                                 dcc.Textarea(id="review-root-cause", value=review.get("root_cause", ""),
                                                              maxLength=5000)]),
        html.Div(className="form-row", children=[html.Label("Notes", htmlFor="review-notes"),
                                                 dcc.Textarea(id="review-notes", value=review.get("notes", ""),
                                                              maxLength=20000)]),
        html.Button("Save review", id="review-save", className="primary"),
        html.Span(id="review-msg", className="review-msg",
                  children=(f"last saved {views.fmt_time(review.get('updated_at'), tz)} ({tz})" if review else "")),
    ])


def _group_table(state, groups):
    """The incidents per rule and day, the biggest first; selecting a group
    opens its day and rule (the list below then holds its incidents)."""
    records = views.table_records(groups, state.tz)
    for rec in records:
        rec["id"] = f"{rec['rule']}|{rec['day']}"
    one_day = state.date_from == state.date_to
    selected = [i for i, r in enumerate(records)
                if one_day and state.extra.get("rule") == r["rule"] and r["day"] == state.date_from.isoformat()]
    columns = ["day", "rule", "incidents", "customers", "campaigns", "channels", "first_at", "last_at"]
    return table("incidents.groups", records, columns=columns,
                 title=f"Incidents by rule and day ({len(records):,} groups, the biggest first)",
                 row_selectable="single", filterable=True, table_id="incident-groups", selected_rows=selected,
                 page_size=8, note="Select a group to list its incidents (its day and rule become the view; the "
                                   "back button returns here). Days and times in " + state.tz + ".")


def _incident_table(state, rows, inc):
    records = views.table_records(rows, state.tz, state.show_ids)
    for rec, rule, mid in zip(records, rows["rule"], rows["message_event_id"]):
        rec["id"] = f"{rule}|{mid}"
    selected = [i for i, r in enumerate(records) if inc and r["id"] == f"{inc['rule']}|{inc['message_event_id']}"]
    columns = ["at", "rule", "customer", "channels", "message_event_id", "event_ids", "status", "owner"]
    return table("incidents.table", records, columns=columns,
                 title=f"Incidents ({len(records):,}{'+' if len(records) >= queries.MAX_INCIDENT_ROWS else ''}, "
                       f"newest first; times in {state.tz})",
                 row_selectable="single", filterable=True, table_id="incident-table", selected_rows=selected,
                 page_size=10)


def _timeline_rows(timeline, state):
    rows = views.table_records(timeline, state.tz)
    for rec in rows:
        rec["involved"] = "yes" if rec.get("involved") else ""
    return rows


def _timeline_table(timeline, state):
    rows = _timeline_rows(timeline, state)
    # opens at the incident's first event, not at the oldest of the ±7 days
    first = next((i for i, r in enumerate(rows) if r["involved"]), 0)
    return table("incidents.timeline", rows, title="Timeline events", page_size=12, table_id="timeline-table",
                 highlight='{involved} = "yes"', start_row=first,
                 note="Highlighted rows are the incident's events; the table opens at the first of them.")


def _detail(ctx, state, inc):
    if inc is None:
        return [html.Div("Select an incident in the table to see the customer's timeline and review it.",
                         className="hint")]
    timeline = cache(partial(queries.customer_timeline, ctx, state))  # raw events: one read for chart and table
    return [
        html.Div(className="incident-head", children=[
            html.Strong(inc["rule"]), f" · customer {views.mask_id(inc['customer'], state.show_ids)} · ",
            views.fmt_time(inc["at"], state.tz), f" ({state.tz}) · channels {', '.join(inc['channels'])}"]),
        graph("incidents.timeline",
              lambda: views.timeline_figure(timeline(), state.tz, inc["at"]),
              "Customer timeline", note="Red: the events of this incident (the conflicting messages); triangles: outbound."),
        guarded(lambda: _timeline_table(timeline(), state), "This table could not be filled", title="Timeline events"),
        _review_form(inc, state.tz),
    ]


def render(ctx, state, known):
    rule_picker = html.Div(className="inline-controls", children=[
        html.Label("Rule"),
        dcc.Dropdown(id={"type": "param", "name": "rule"}, value=state.extra.get("rule"), placeholder="all rules",
                     options=[{"label": r, "value": r} for r in known.rules], style={"minWidth": "280px"}),
    ])
    compare_table = table("incidents.compare", lambda: views.table_records(views.kpi_display(
        queries.kpi_table(ctx, state))), title="Every KPI: this period vs the previous period")
    # the list reads the review metadata (not cached): read once per view; a failure is not kept
    rows = cache(partial(queries.incident_rows, ctx, state))
    if nothing_to_show(lambda: rows().empty):
        return [rule_picker, no_data(), compare_table]
    groups = guarded(lambda: _group_table(state, queries.incident_groups(ctx, state)),
                     "This table could not be filled", title="Incidents by rule and day")
    key = queries.split_incident_key(state.extra.get("incident"))
    inc = cache(lambda: queries.incident(ctx, *key) if key else None)
    return [
        rule_picker,
        groups,
        html.Div(className="grid2", children=[
            graph("overview.incidents", lambda: overlay.on_chart(views.incidents_figure(
                queries.incidents_daily(ctx, state), queries.incidents_daily(ctx, state.previous()) if state.compare
                else None, "Incidents per day by rule", state.date_from, state.date_to), ctx, state, "/incidents"),
                  "Incidents over time", name="incidents.daily"),
            graph("incidents.by_channel", lambda: views.stacked_bars(queries.incidents_by_channel(ctx, state),
                                                                     "channel", "rule", "incidents",
                                                                     "Incidents by channel"), "Incidents by channel"),
        ]),
        guarded(lambda: _incident_table(state, rows(), inc()), "This table could not be filled", title="Incidents"),
        html.Div(id="incident-detail", children=guarded(lambda: _detail(ctx, state, inc()),
                                                        "The selected incident could not be shown")),
        compare_table,
    ]


def register_callbacks(app):
    @app.callback(Output(URL, "search", allow_duplicate=True), Input("incident-groups", "selected_row_ids"),
                  State(URL, "search"), prevent_initial_call=True)
    @safe()
    def open_group(ids, search):
        """A group's day and rule become the view: the list holds its incidents."""
        if not ids or "|" not in str(ids[0]):
            return no_update
        from urllib.parse import urlencode

        rule, _, day = str(ids[0]).rpartition("|")
        q = {k: v for k, v in urlstate.parse_search(search).items() if isinstance(v, str)}
        new = q | {"period": "custom", "from": day, "to": day, "rule": rule}
        new.pop("incident", None)
        return no_update if new == q else "?" + urlencode(new, safe=",:/@|")

    @app.callback(Output(URL, "search", allow_duplicate=True), Input("incident-table", "selected_row_ids"),
                  State(URL, "search"), prevent_initial_call=True)
    @safe()
    def select_incident(ids, search):
        if not ids:
            return no_update
        from urllib.parse import urlencode

        q = {k: v for k, v in urlstate.parse_search(search).items() if isinstance(v, str)}
        if q.get("incident") == ids[0]:
            return no_update
        q["incident"] = str(ids[0])
        return "?" + urlencode(q, safe=",:/@|")

    @app.callback(Output("review-msg", "children"), Input("review-save", "n_clicks"),
                  State("review-status", "value"), State("review-owner", "value"), State("review-root-cause", "value"),
                  State("review-notes", "value"), State(URL, "search"), prevent_initial_call=True)
    @safe(default="Could not save the review (the error was logged).")
    def save_review(n, status, owner, root_cause, notes, search):
        if not n:
            return no_update
        key = queries.split_incident_key(urlstate.parse_search(search).get("incident")
                                         if isinstance(urlstate.parse_search(search).get("incident"), str) else None)
        if key is None:
            return "Select an incident first."
        if status not in STATUSES:
            return "Choose a valid status."
        ctx = current_ctx()
        if queries.incident(ctx, *key) is None:
            return "This incident no longer exists."
        ctx.md.save_review(key[0], key[1], status, owner or "", root_cause or "", notes or "")
        return f"Saved ({status})."


dash.register_page(__name__, path="/incidents", name="Incidents", title="Seamline · Incidents", order=5)
layout = page(render, filters=("channel",), title="Conflicting-message incidents")
