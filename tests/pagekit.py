"""Every dashboard page built the way Dash builds it, without a browser: the
text of each figure, each DataTable's rows and each component's class name
(a card whose callback failed carries ``error-message``)."""

from __future__ import annotations

import json


def _components(node):
    from dash.development.base_component import Component

    if isinstance(node, (list, tuple)):
        for n in node:
            yield from _components(n)
    elif isinstance(node, Component):
        yield node
        yield from _components(getattr(node, "children", None))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def page_parts(app, query: dict) -> dict[str, dict[str, list]]:
    """Per page: the text of every figure, every DataTable's rows and the
    components' class names, from the page's real layout function."""
    import dash
    import plotly.io as pio
    from dash import dash_table, dcc

    out = {}
    for entry in dash.page_registry.values():
        with app.server.test_request_context(entry["path"]):
            layout = entry["layout"](**query)
        parts = {"figures": [], "tables": [], "classes": []}
        for comp in _components(layout):
            if isinstance(comp, dcc.Graph):
                parts["figures"].extend(_strings(json.loads(pio.to_json(comp.figure))))
            elif isinstance(comp, dash_table.DataTable):
                parts["tables"].extend(_strings(comp.data))
            parts["classes"].append(getattr(comp, "className", None) or "")
        out[entry["path"]] = parts
    return out


def page_errors(app, query: dict) -> dict[str, int]:
    """Per page, how many of its cards show an error in place."""
    return {path: sum("error-message" in c for c in parts["classes"])
            for path, parts in page_parts(app, query).items()}
