"""Alerts (on-call): what fires or waits now, what fired in the period, what
is silenced, and whether each message reached its receiver."""

import dash
from dash import dcc, html

from seamline import queries, views
from seamline.alerts import board
from seamline.app import guarded, page, table

STATE_STYLES = {'{outcome} = "failed"': {"backgroundColor": "#ffe3e3", "fontWeight": "600"},
                '{outcome} = "retrying"': {"backgroundColor": "#fff3bf"},
                '{status} = "active"': {"backgroundColor": "#e7f5ff", "fontWeight": "600"}}
EXAMPLE = """[[alerts]]
name = "latency"
kind = "regression"        # burn_rate | regression | kpi | incidents | stale
receivers = ["oncall"]

[[receivers]]
name = "oncall"
kind = "webhook"           # webhook | slack | email | apprise
url = "https://alerts.example.com/hook"
external_url = "http://127.0.0.1:8050"   # this dashboard, for the links in messages"""


def _now():
    from seamline.metadata import utcnow

    return utcnow()


def _window(state):
    """The period's bounds for what happened in it; a preset ("last 30 days")
    runs on to now, so what fired after the end of data is in it too."""
    return state.start, (state.end if state.preset == "custom" else None)


# The page's datasets (the tables and their CSV downloads): the metadata, changed by every evaluation
@queries.dataset("alerts.firing", cached=False)
def firing(ctx, state):
    return board.firing_frame(board.instances(ctx.md))


@queries.dataset("alerts.pending", cached=False)
def pending(ctx, state):
    return board.pending_frame(board.instances(ctx.md))


@queries.dataset("alerts.history", cached=False)
def history(ctx, state):
    return board.history_frame(board.instances(ctx.md), *_window(state))


@queries.dataset("alerts.silences", cached=False)
def silences(ctx, state):
    return board.silence_frame(board.silences(ctx.md), _now())


@queries.dataset("alerts.deliveries", cached=False)
def deliveries(ctx, state):
    return board.delivery_frame(board.notifications(ctx.md, *_window(state)), board.instances(ctx.md))


def _how_to_configure():
    return html.Div(className="card", id="alerts-howto", children=[
        html.Div(className="card-head", children=[html.H3("No alert rules configured")]),
        html.P("Seamline tells people when connection quality breaks: a source's data gets slower, a KPI "
               "crosses its bound, conflicting messages pile up, data stops arriving. Add rules ([[alerts]]: "
               "when) and receivers ([[receivers]]: who, by webhook, Slack, e-mail or apprise) to seamline.toml "
               "and restart seamline serve:"),
        html.Pre(EXAMPLE, className="example"),
        html.P(["Every key and rule kind is in ", html.Code("docs/alerts.md"), " (in the repository and the "
                "source distribution); ", html.Code("seamline alerts test oncall"), " sends a test message, ",
                html.Code("seamline alerts run"), " evaluates the rules now."]),
    ])


def _links(ctx, state):
    """Each firing alert opens the view that shows it (its page, period and filters)."""
    insts = [r for r in board.instances(ctx.md) if r["state"] == "firing"]
    if not insts:
        return None
    tz = {"tz": state.tz} if state.tz != ctx.settings.display_timezone else {}
    items = []
    for r in insts:
        ann = r.get("annotations") or {}
        href = board.view_href(ann.get("page", "/"), {**(ann.get("view") or {}), **tz})
        items.append(html.Li([dcc.Link(ann.get("summary") or r["rule"], href=href, className="alert-view"),
                              html.Span(f" · {r['rule']} {board.labels_text(r.get('labels'))}", className="note")]))
    return html.Div(className="card", children=[
        html.Div(className="card-head", children=[html.H3("Open the view of a firing alert")]),
        html.Ul(items, id="alert-views")])


def render(ctx, state, known):
    if not ctx.settings.alerts and not (board.instances(ctx.md) or board.silences(ctx.md)
                                        or board.notifications(ctx.md)):
        return [_how_to_configure()]

    def rows(fn):
        return lambda: views.table_records(fn(ctx, state), state.tz)

    def section(key, fn, title, empty, **kw):
        """A table, or a line saying there is nothing (not "no data for this selection")."""
        def build():
            records = rows(fn)()
            if records:
                return table(key, records, title=title, **kw)
            return html.Div(className="card", children=[html.Div(className="card-head", children=[html.H3(title)]),
                                                        html.Div(empty, className="hint", id=f"{key.replace('.', '-')}-empty")])
        return guarded(build, "This table could not be filled", title)

    period = "in the period" if state.preset == "custom" else "from the period's start on"
    return [
        None if ctx.settings.alerts else _how_to_configure(),
        section("alerts.firing", firing, "Firing", "No alert is firing.", page_size=20,
                note="Firing since: when the condition had held for the rule's `for`; evaluated: its latest "
                     "evaluation."),
        guarded(lambda: _links(ctx, state)),
        section("alerts.pending", pending, "Pending", "No alert is pending.", page_size=10,
                note="The condition holds, not yet for the rule's `for`."),
        section("alerts.history", history, "Resolved", f"No alert resolved {period}.", page_size=15,
                note=f"Each instance's latest cycle that fired {period}: from firing to resolved."),
        section("alerts.silences", silences, "Silences",
                "No silences (seamline alerts silence --rule NAME --match KEY=VALUE --for 2h --comment TEXT).",
                page_size=10, styles=STATE_STYLES,
                note="Muted instances keep their state; messages are held back while a silence is active "
                     "(seamline alerts silence --rule NAME --match KEY=VALUE --for 2h --comment TEXT)."),
        section("alerts.deliveries", deliveries, "Deliveries", f"No message was sent {period}.", page_size=15,
                styles=STATE_STYLES,
                note=f"Each message to a receiver whose evaluation time is {period} (the latest {board.LIMIT}); "
                     "a failed attempt is retried with backoff until the receiver's max_attempts."),
    ]


dash.register_page(__name__, path="/alerts", name="Alerts", title="Seamline · Alerts", order=6)
# an empty warehouse still shows the alerts: a source that never sent an event is a "no data" alert
layout = page(render, title="Alerts", needs_events=False)
