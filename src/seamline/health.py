"""The dashboard's health route, for load balancers and probes (it stays open
when the dashboard asks for authentication: seamline.serve)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from seamline import queries, views

if TYPE_CHECKING:  # pragma: no cover
    import dash

    from seamline.queries import Ctx

log = logging.getLogger("seamline.dashboard")


def add_health_route(app: "dash.Dash") -> None:
    """``/healthz``: the warehouse, the metadata store and each job's health, as
    JSON; 200 when both stores answer, else 503 (for load balancers and probes)."""
    import flask

    @app.server.route("/healthz")
    def healthz():
        ctx: Ctx = app.server.config["SEAMLINE_CTX"]
        out: dict[str, Any] = {"warehouse": "error", "metadata": "error", "jobs": {}}
        try:
            out["warehouse"] = "ok" if queries.warehouse_ok(ctx.wh) else "error"
        except Exception as exc:
            log.warning("healthz: warehouse: %s", exc)
        try:
            health = views.job_health(ctx.md.runs(limit=2000))
            out["jobs"] = dict(zip(health["job"], health["health"]))
            out["metadata"] = "ok"
        except Exception as exc:
            log.warning("healthz: metadata: %s", exc)
        code = 200 if out["warehouse"] == "ok" and out["metadata"] == "ok" else 503
        return flask.jsonify(out), code
