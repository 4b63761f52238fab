"""The Dash app factory: ``create_app(settings) -> dash.Dash``.

The shell (header, navigation, URL, download) and the callbacks every page
shares live here; the pages are the modules of ``seamline.dashboards`` (the
repository's ``dashboards/`` folder), loaded by Dash pages.  A page is a
``layout(**query)`` built with :func:`page`: the URL query string is parsed
into a validated :class:`seamline.urlstate.State`, the control bar is rendered
with its values, and control changes write the URL back (so every view is a
shareable link and the page re-renders from it).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterable

import dash
from dash import ALL, Input, Output, State as DState, dcc, html, no_update

from seamline import formatting, queries, urlstate, views
from seamline.health import add_health_route
from seamline.queries import Ctx
from seamline.urlstate import Known, State

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings

log = logging.getLogger("seamline.dashboard")

PAGES = (("/", "Overview"), ("/journeys", "Journeys"), ("/freshness", "Freshness"), ("/effort", "Effort"),
         ("/retention", "Retention"), ("/incidents", "Incidents"), ("/alerts", "Alerts"))
# Dash pages' own location: writing its search re-renders the page from the URL
URL = "_pages_location"
GLOBAL_KEYS = ("period", "from", "to", "compare", "channel", "source", "topic", "tz", "ids")


def dashboards_dir() -> str:
    import seamline.dashboards as pkg

    return os.path.abspath(list(pkg.__path__)[0])


def current_ctx() -> Ctx:
    import flask

    return flask.current_app.config["SEAMLINE_CTX"]


def page_params(known: Known) -> dict[str, Callable[[str | None], str | None]]:
    """Page-specific URL parameters, validated (the same set for every page)."""
    # incident and regression keys hold event values (event ids, source names)
    return {"rule": urlstate.member_of(known.rules), "incident": urlstate.text(),
            "regression": urlstate.text(), "q": urlstate.one_of("p50", "p95", "p99"),
            "cohort": urlstate.one_of("all", "period")}


def state_from(query: dict[str, Any], ctx: Ctx) -> tuple[State, Known]:
    known = urlstate.known_values(ctx.wh, ctx.settings)
    return urlstate.parse_state(query, known, ctx.settings.display_timezone, page_params(known)), known


# --------------------------------------------------------------------------
# Components shared by the pages
# --------------------------------------------------------------------------
def _opts(values: Iterable[str]) -> list[dict[str, str]]:
    return [{"label": v, "value": v} for v in values]


def control_bar(state: State, known: Known, filters: Iterable[str] = ()) -> html.Div:
    """Period (presets relative to the end of data, or custom dates), compare,
    the filters meaningful on this page, display zone, identifier masking."""
    filters = set(filters)

    def hidden(name: str) -> dict[str, str]:
        return {} if name in filters else {"display": "none"}

    tzs = list(urlstate.TIMEZONES)
    if state.tz not in tzs:
        tzs.append(state.tz)
    eod = known.end_of_data
    eod_local = formatting.to_local(eod, state.tz) if eod else None  # the end of data's day is the zone's
    prev = state.previous()
    return html.Div(className="controls", children=[
        *[html.Div(n, className="url-notice", role="status") for n in state.notices],
        html.Div(className="control", children=[html.Label("Period", htmlFor="ctl-period"), dcc.Dropdown(
            id="ctl-period", clearable=False, searchable=False, value=state.preset,
            options=[{"label": "Last 7 days", "value": "7d"}, {"label": "Last 30 days", "value": "30d"},
                     {"label": "Last 90 days", "value": "90d"}, {"label": "Custom dates", "value": "custom"}])]),
        html.Div(className="control", children=[html.Label(f"Dates ({state.tz} days)"), dcc.DatePickerRange(
            id="ctl-dates", start_date=state.date_from.isoformat(), end_date=state.date_to.isoformat(),
            display_format="YYYY-MM-DD", updatemode="bothdates", minimum_nights=0,
            max_date_allowed=(eod_local.date().isoformat() if eod_local else None))]),
        html.Div(className="control", children=[dcc.Checklist(
            id="ctl-compare", options=[{"label": " compare to previous period", "value": "1"}],
            value=["1"] if state.compare else [])]),
        html.Div(className="control", style=hidden("channel"), children=[html.Label("Channel"), dcc.Dropdown(
            id="ctl-channel", multi=True, value=list(state.channels), options=_opts(known.channels), placeholder="all")]),
        html.Div(className="control", style=hidden("source"), children=[html.Label("Source"), dcc.Dropdown(
            id="ctl-source", multi=True, value=list(state.sources), options=_opts(known.sources), placeholder="all")]),
        html.Div(className="control", style=hidden("topic"), children=[html.Label("Topic"), dcc.Dropdown(
            id="ctl-topic", multi=True, value=list(state.topics), options=_opts(known.topics), placeholder="all")]),
        html.Div(className="control", children=[html.Label("Time zone"), dcc.Dropdown(
            id="ctl-tz", clearable=False, value=state.tz, options=_opts(tzs))]),
        html.Div(className="control", children=[dcc.Checklist(
            id="ctl-ids", options=[{"label": " show identifiers", "value": "1"}],
            value=["1"] if state.show_ids else [])]),
        html.Div(className="period-note", children=(
            f"{state.date_from:%Y-%m-%d} – {state.date_to:%Y-%m-%d}"
            + (f" vs {prev.date_from:%Y-%m-%d} – {prev.date_to:%Y-%m-%d}" if state.compare else "")
            + (f" · end of data {eod_local:%Y-%m-%d %H:%M} ({state.tz})" if eod_local else ""))),
    ])


def no_data(message: str = views.NO_DATA) -> html.Div:
    return html.Div(className="no-data", children=message)


# --------------------------------------------------------------------------
# Failures shown in place
# --------------------------------------------------------------------------
# A page is built from cards; a card whose query or figure raises shows what
# failed where it would have been, and the other cards still render.  Cards
# take a builder (a function of no arguments) instead of a value, so that the
# query runs inside the card's guard.
_CH_PREFIX = re.compile(r"^Code: \d+\.\s*(DB::Exception:\s*)?")
# what ClickHouse appends after the message: guesses and the statement itself
_CH_TAIL = re.compile(r"\s+(Maybe you meant|In scope|While processing)\b.*$")


def one_line(exc: BaseException) -> str:
    """The gist of an error for a person: its first line, without the
    engine's code prefix and the statement it quotes, at most 160 characters."""
    text = _CH_TAIL.sub("", _CH_PREFIX.sub("", (str(exc).strip().splitlines() or [""])[0])).strip()
    text = text or type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"


def failure(message: str, exc: BaseException) -> html.Div:
    return html.Div(className="error-message", role="alert", children=f"{message}: {one_line(exc)}")


def guarded(build: Callable[[], Any], message: str = "This part of the page could not be shown",
            title: str | None = None) -> Any:
    """``build()``; if it raises, a card (titled ``title``) saying
    ``message: <one line>`` in its place.  The error is logged in full."""
    try:
        return build()
    except Exception as exc:
        log.exception("%s (%s)", message, title or getattr(build, "__name__", "part"))
        head = [html.Div(className="card-head", children=[html.H3(title)])] if title else []
        return html.Div(className="card card-failed", children=[*head, failure(message, exc)])


def nothing_to_show(check: Callable[[], bool]) -> bool:
    """A page's "no data for this selection" test.  If the test itself
    fails, the page goes on: each card then shows its own problem."""
    try:
        return bool(check())
    except Exception:
        log.exception("no-data check failed")
        return False


def error_block(exc: BaseException) -> html.Div:
    return failure("This page could not be prepared", exc)


def graph(key: str, figure: Any, title: str | None = None, csv: bool = True, height: int | None = None,
          note: Any = None, name: str | None = None) -> html.Div:
    """A chart card with a CSV download of the data behind it (dataset ``key``).
    ``figure`` (and ``note``) may be builders: a failure shows in the card."""
    if callable(figure) or callable(note):
        return guarded(lambda: graph(key, figure() if callable(figure) else figure, title, csv, height,
                                     note() if callable(note) else note, name),
                       "This chart could not be drawn", title)
    head = [html.H3(title)] if title else []
    if csv:
        head.append(csv_button(key))
    return html.Div(className="card", children=[
        html.Div(className="card-head", children=head),
        dcc.Graph(id={"type": "graph", "key": name or key}, figure=figure, config={"displaylogo": False},
                  style={"height": f"{height or _fig_height(figure)}px", "width": "100%"}),
        html.Div(className="note", children=note) if note else None,
    ])


def _fig_height(figure: Any) -> int:
    try:
        return int(figure.layout.height or 340)
    except Exception:
        return 340


def csv_button(key: str) -> html.Button:
    return html.Button("CSV", id={"type": "csv", "key": key}, className="csv", title="Download the data as CSV")


def table(key: str, records: Any, columns: list[str] | None = None, title: str | None = None,
          page_size: int = 15, row_selectable: str | bool = False, filterable: bool = False, table_id: Any = None,
          note: str | None = None, selected_rows: list[int] | None = None,
          highlight: str | None = None, styles: dict[str, dict[str, str]] | None = None,
          start_row: int | None = None) -> html.Div:
    """A table card with a CSV download (dataset ``key``).  ``records`` may be
    a builder: a failure shows in the card.  DataTable cells are text (never
    markdown), so event text shows as typed.  ``highlight`` is a filter query
    for rows to emphasise; ``styles`` maps more filter queries to styles;
    ``start_row`` opens the table at the page holding that row."""
    from dash import dash_table

    if callable(records):
        return guarded(lambda: table(key, records(), columns, title, page_size, row_selectable, filterable,
                                     table_id, note, selected_rows, highlight, styles, start_row),
                       "This table could not be filled", title)
    conditional = [{"if": {"filter_query": q}, **style} for q, style in (styles or {}).items()]
    if highlight:
        conditional.append({"if": {"filter_query": highlight}, "backgroundColor": "#ffe3e3", "fontWeight": "600"})
    cols = columns or (list(records[0].keys()) if records else [])
    head = [html.H3(title)] if title else []
    head.append(csv_button(key))
    body: Any
    if not records:
        body = no_data()
    else:
        body = dash_table.DataTable(
            id=table_id or {"type": "table", "key": key}, data=records,
            columns=[{"name": views.column_title(c), "id": c} for c in cols],
            page_size=page_size, page_current=(start_row or 0) // page_size, sort_action="native", filter_action="native" if filterable else "none",
            row_selectable=row_selectable or False, selected_rows=selected_rows or [],
            style_table={"overflowX": "auto"}, style_cell={"fontFamily": "inherit", "fontSize": 13, "padding": "4px 8px",
                                                          "textAlign": "left", "maxWidth": 320, "whiteSpace": "normal"},
            style_header={"fontWeight": "600", "backgroundColor": "#f1f3f5"},
            style_data_conditional=conditional)
    return html.Div(className="card", children=[html.Div(className="card-head", children=head), body,
                                                html.Div(className="note", children=note) if note else None])


def page(render: Callable[[Ctx, State, Known], Any], filters: Iterable[str] = (), title: str = "",
         needs_events: bool = True) -> Callable[..., Any]:
    """Wrap a page renderer as a Dash pages ``layout(**query)`` that never
    raises.  A page that ``needs_events`` says "no data" for an empty warehouse."""
    filters = tuple(filters)

    def layout(**query: Any) -> html.Div:
        # Dash shows "Error loading layout" (and nothing else) when a layout
        # raises: every failure here becomes a message in the page instead.
        try:
            ctx = current_ctx()
            state, known = state_from(query, ctx)
        except Exception as exc:
            log.exception("cannot prepare page %s", title)
            return html.Div(className="page", children=[html.H2(title), error_block(exc)])
        bar = guarded(lambda: control_bar(state, known, filters), "The controls could not be shown")
        if known.empty and needs_events:
            body: Any = no_data()
        else:
            try:
                body = render(ctx, state, known)
            except Exception as exc:
                log.exception("page %s failed for %r", title, query)
                body = error_block(exc)
        return html.Div(className="page", children=[html.H2(title), bar, html.Div(className="page-body", children=body)])

    return layout


def safe(default: Any = no_update, explain: Callable[[Exception], Any] | None = None) -> Callable:
    """Callbacks never send a traceback to the browser: log and answer
    ``default``, or ``explain(error)`` (outputs that tell the user what
    failed, in place)."""
    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                log.exception("callback %s failed", fn.__name__)
                if explain is not None:
                    return explain(exc)
                return default() if callable(default) else default
        return wrapper
    return deco


# --------------------------------------------------------------------------
# App factory
# --------------------------------------------------------------------------
# The header's count of firing alerts: asked on every page change and every
# minute (seamline.alerts.board keeps the count a few seconds).
ALERT_POLL_MS = 60_000
BADGE = {"marginLeft": "6px", "padding": "0 7px", "borderRadius": "9px", "fontSize": "12px", "fontWeight": "700",
         "background": "#e03131", "color": "#fff"}


def _nav_label(path: str, label: str) -> Any:
    if path != "/alerts":
        return label
    return [label, html.Span(id="alert-count", role="status", style={"display": "none"})]


def alert_badge(ctx: Ctx) -> tuple[str, dict[str, str], str]:
    """The header's count: the number of firing alerts, or nothing shown."""
    from seamline.alerts.board import firing_count

    n = firing_count(ctx.md) if ctx.settings.alerts else 0
    if not n:
        return "", {"display": "none"}, "no alert is firing"
    return str(n), BADGE, f"{n} alert{'s' if n != 1 else ''} firing"


def _shell() -> html.Div:
    return html.Div(className="shell", children=[
        dcc.Download(id="download"),
        html.Div(id="download-msg", className="download-msg", role="status"),
        html.Header(className="topbar", children=[
            html.Span("Seamline", className="brand"),
            html.Nav(className="nav", children=[
                dcc.Link(_nav_label(path, label), href=path, id=f"nav-{path.strip('/') or 'overview'}",
                         className="nav-link")
                for path, label in PAGES]),
        ]),
        dcc.Interval(id="alert-poll", interval=ALERT_POLL_MS),
        dcc.Loading(dash.page_container, target_components={"_pages_content": "children"}, delay_show=300,
                    type="dot", overlay_style={"visibility": "visible", "opacity": 0.5}),
        html.Footer(className="footer", id="footer", children="Seamline · connection quality"),
    ])


def _register_shared_callbacks(app: dash.Dash) -> None:
    @app.callback(
        Output(URL, "href", allow_duplicate=True),
        Input({"type": "graph", "key": ALL}, "clickData"), Input({"type": "graph", "key": ALL}, "relayoutData"),
        DState(URL, "pathname"), DState(URL, "search"),
        prevent_initial_call=True,
    )
    @safe()
    def drill_down(clicks, relayouts, pathname, search):
        """A click or a drag on a chart opens the view behind it (seamline.drill)."""
        from seamline import drill

        trig = dash.ctx.triggered_id
        if not isinstance(trig, dict) or not dash.ctx.triggered:
            return dash.no_update
        event = dash.ctx.triggered[0]
        value = event.get("value")
        if event["prop_id"].endswith(".relayoutData"):
            href = drill.target(trig.get("key", ""), pathname or "/", search, relayout=value or {})
        else:
            href = drill.target(trig.get("key", ""), pathname or "/", search, click=value)
        return href if href else dash.no_update

    @app.callback(
        Output(URL, "search"),
        Input("ctl-period", "value"), Input("ctl-dates", "start_date"), Input("ctl-dates", "end_date"),
        Input("ctl-compare", "value"), Input("ctl-channel", "value"), Input("ctl-source", "value"),
        Input("ctl-topic", "value"), Input("ctl-tz", "value"), Input("ctl-ids", "value"),
        Input({"type": "param", "name": ALL}, "value"),
        DState({"type": "param", "name": ALL}, "id"), DState(URL, "search"),
        prevent_initial_call=True,
    )
    @safe()
    def controls_to_url(period, d0, d1, compare, channel, source, topic, tz, ids, pvalues, pids, search):
        trig = dash.ctx.triggered_id
        q = {k: v for k, v in urlstate.parse_search(search).items() if isinstance(v, str)}
        if trig == "ctl-dates" or period == "custom":
            q["period"] = "custom"
            if d0:
                q["from"] = str(d0)[:10]
            if d1:
                q["to"] = str(d1)[:10]
        else:
            q["period"] = period if period in urlstate.PRESETS else urlstate.DEFAULT_PRESET
            q.pop("from", None)
            q.pop("to", None)
        for key, value in (("compare", compare), ("ids", ids)):
            if value:
                q[key] = "1"
            else:
                q.pop(key, None)
        for key, value in (("channel", channel), ("source", source), ("topic", topic)):
            if value:
                q[key] = ",".join(str(v) for v in value)
            else:
                q.pop(key, None)
        if tz and tz != current_ctx().settings.display_timezone:
            q["tz"] = tz
        else:
            q.pop("tz", None)
        for pid, value in zip(pids or [], pvalues or []):
            name = pid.get("name")
            if value in (None, "", []):
                q.pop(name, None)
            else:
                q[name] = str(value)
        if isinstance(trig, dict) and trig.get("name") == "rule":
            q.pop("incident", None)
        from urllib.parse import urlencode

        new = "?" + urlencode(q, safe=",:/@|")
        return no_update if new == search else new

    @app.callback(
        [Output(f"nav-{path.strip('/') or 'overview'}", "href") for path, _ in PAGES],
        Input(URL, "search"),
    )
    @safe(default=lambda: [p for p, _ in PAGES])
    def nav_links(search):
        q = {k: v for k, v in urlstate.parse_search(search).items() if k in GLOBAL_KEYS and isinstance(v, str)}
        from urllib.parse import urlencode

        suffix = ("?" + urlencode(q, safe=",:/@")) if q else ""
        return [path + suffix for path, _ in PAGES]

    @app.callback(
        Output("alert-count", "children"), Output("alert-count", "style"), Output("nav-alerts", "title"),
        Input(URL, "pathname"), Input("alert-poll", "n_intervals"),
    )
    @safe(default=("", {"display": "none"}, ""))
    def alert_count(pathname, n_intervals):
        return alert_badge(current_ctx())

    @app.callback(
        Output("download", "data"), Output("download-msg", "children"),
        Input({"type": "csv", "key": ALL}, "n_clicks"),
        DState(URL, "search"), DState(URL, "pathname"),
        prevent_initial_call=True,
    )
    @safe(explain=lambda exc: (no_update, failure("The CSV could not be prepared", exc)))
    def download(clicks, search, pathname):
        trig = dash.ctx.triggered_id
        if not isinstance(trig, dict) or not any(c for c in clicks or [] if c):
            return no_update, no_update
        return csv_download(current_ctx(), trig.get("key"), search) or no_update, ""


def csv_download(ctx: Ctx, key: Any, search: str | None) -> dict[str, Any] | None:
    """The CSV download of dataset ``key`` for the view in ``search`` (the
    ``dcc.Download`` data), or None for an unknown key.  The one way the
    dashboard writes CSV: identifiers masked unless shown, and every text
    cell neutralised against formula injection (``safe_output.csv_text``)."""
    from seamline.safe_output import csv_text

    if key not in queries.DATASETS:
        return None
    state, _ = state_from(urlstate.parse_search(search), ctx)
    frame = queries.get_dataset(key, ctx, state)
    if "customer" in frame and not state.show_ids:
        frame = frame.assign(customer=[views.mask_id(c) for c in frame["customer"]])
    name = f"seamline-{key.replace('.', '-')}-{state.date_from}-{state.date_to}.csv"
    return dcc.send_string(csv_text(frame), name, type="text/csv")


def create_app(settings: "Settings | None" = None) -> dash.Dash:
    """Build the dashboard for ``settings`` (schemas are created if missing)."""
    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate

    from seamline import governance

    settings = settings or Settings()
    wh = Warehouse.from_settings(settings)
    migrate(wh)
    governance.prepare(wh, settings)  # a salt that differs from the stored data's stops the server here
    md = Metadata(settings.metadata_dsn)
    pages_dir = dashboards_dir()
    app = dash.Dash(
        "seamline.dashboards",
        use_pages=True,
        pages_folder=pages_dir,
        assets_folder=os.path.join(pages_dir, "assets"),
        serve_locally=True,
        external_stylesheets=[],
        external_scripts=[],
        suppress_callback_exceptions=True,
        title="Seamline",
        update_title=None,
    )
    app.server.config["SEAMLINE_CTX"] = Ctx(wh, settings, md)
    app.layout = _shell
    _register_shared_callbacks(app)
    for entry in dash.page_registry.values():
        module = sys.modules.get(entry["module"])
        register = getattr(module, "register_callbacks", None)
        if register is not None:
            register(app)
    add_health_route(app)
    return app
