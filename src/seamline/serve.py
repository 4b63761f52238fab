"""Serve the dashboard with waitress: one process, threads (chDB cannot fork).

``serve(settings, host, port, scheduler)`` blocks; ``make_server`` returns a
server object (``.run()``, ``.close()``, ``.port``) that tests start in a
thread on a free port.  The dashboard listens on loopback by default; a
non-loopback host is refused unless HTTP basic auth (``auth_password``) or a
bearer token (``auth_token``) is configured, and then every request must
carry it (``/healthz`` stays open for load balancers).

With the embedded warehouse the server also takes CLI commands for its data
directory (``seamline.remote.CommandServer``: its own loopback port, whatever
host the dashboard listens on, so a long ``jobs run`` never holds one of the
dashboard's threads).
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings

log = logging.getLogger("seamline.serve")
WARM_POLL_S = 5.0  # how often the server checks whether the data changed

OPEN_PATHS = ("/healthz",)


class ServeError(RuntimeError):
    """A configuration problem that stops the server from starting."""


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def auth_configured(settings: "Settings") -> bool:
    return bool(settings.auth_password or settings.auth_token)


def check_auth(settings: "Settings", header: str | None) -> bool:
    """True when the Authorization header carries the configured credentials."""
    if not auth_configured(settings):
        return True
    header = header or ""
    scheme, _, value = header.partition(" ")
    if settings.auth_token and scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), settings.auth_token.encode())
    if settings.auth_password and scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except Exception:
            return False
        want_user = settings.auth_user or "seamline"
        return hmac.compare_digest(user.encode(), want_user.encode()) and hmac.compare_digest(
            password.encode(), settings.auth_password.encode())
    return False


def install_auth(server: Any, settings: "Settings") -> None:
    import flask

    if not auth_configured(settings):
        return

    @server.before_request
    def _require_auth():
        if flask.request.path in OPEN_PATHS:
            return None
        if check_auth(settings, flask.request.headers.get("Authorization")):
            return None
        headers = {"WWW-Authenticate": 'Basic realm="Seamline"'} if settings.auth_password else {}
        return flask.Response("authentication required\n", 401, headers)


class DashboardServer:
    """A waitress server around the Dash app (and optionally the scheduler)."""

    def __init__(self, settings: "Settings", host: str = "127.0.0.1", port: int = 8050, scheduler: bool = True,
                 threads: int = 8, cli_api: bool = True):
        from waitress.server import create_server

        from seamline.app import create_app

        if not is_loopback(host) and not auth_configured(settings):
            raise ServeError(
                f"refusing to listen on {host}: the dashboard would be open to the network. Set "
                "SEAMLINE_AUTH_PASSWORD (HTTP basic, user SEAMLINE_AUTH_USER or 'seamline') or "
                "SEAMLINE_AUTH_TOKEN (bearer), or listen on 127.0.0.1")
        self.settings = settings
        self.app = create_app(settings)
        install_auth(self.app.server, settings)
        from seamline.viewcache import ViewCache

        # after authentication: a kept view is only served to a request that passed it
        self.views = ViewCache(self.app.server.config["SEAMLINE_CTX"].md)
        self.views.install(self.app.server)
        self.scheduler = None
        if scheduler:
            from seamline.scheduler import build_scheduler

            self.scheduler = build_scheduler(settings)
        # Everything a page imports is imported before the port opens: a first
        # request racing an import in another thread got a half-initialised
        # module (HTTP 500, "Error loading layout").
        _import_page_stack()
        self._server = create_server(self.app.server, host=host, port=port, threads=threads,
                                     ident="seamline", clear_untrusted_proxy_headers=True)
        self.host = host
        self.port = int(self._server.effective_port)
        self._closed = threading.Event()
        self._warm_thread = threading.Thread(target=self._keep_warm, name="seamline-keep-warm", daemon=True)
        self._warm_thread.start()
        self.cli_api = None
        if cli_api and settings.is_embedded:  # a ClickHouse server takes every process itself
            from seamline.cli import main, runs_exclusively
            from seamline.remote import CommandServer

            self.cli_api = CommandServer(settings, main, runs_exclusively, dashboard=self.url,
                                         scheduler=self.scheduler is not None)

    def _keep_warm(self) -> None:
        """Recompute the default views whenever the data changes (a job run
        finished, an annotation was added): the first visitor after a run
        finds every page's default view cached instead of waiting for it."""
        from seamline.queries import warm

        ctx = self.app.server.config["SEAMLINE_CTX"]
        done = None
        while not self._closed.wait(WARM_POLL_S):
            try:
                stamp = ctx.md.cache_stamp()
                if stamp == done:
                    continue
                done = stamp  # once per stamp, even if it fails (the pages show their own errors)
                took = warm(ctx, stop=self._closed.is_set)
                log.info("warmed %d views in %.2f s", len(took), sum(took.values()))
            except Exception:
                log.exception("warming the default views failed")

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        try:
            self._server.run()
        except OSError:
            if not self._closed.is_set():  # closing the socket ends run() with EBADF
                raise

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self.cli_api is not None:
            try:
                self.cli_api.close()
            except Exception:
                log.exception("closing the CLI API failed")
        if self.scheduler is not None:
            try:
                self.scheduler.shutdown(wait=False)
            except Exception:
                log.exception("scheduler shutdown failed")
        try:
            self._server.close()
        except Exception:
            log.exception("server close failed")
        self._warm_thread.join(timeout=120)  # it stops after its current dataset


def _import_page_stack() -> None:
    """Import the pages' data, statistics and figure stack (pandas, SciPy, Plotly)."""
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import scipy.stats  # noqa: F401

    import seamline.figures  # noqa: F401
    import seamline.queries.cohorts  # noqa: F401
    import seamline.stats.intervals  # noqa: F401
    import seamline.stats.survival  # noqa: F401
    import seamline.views  # noqa: F401


def make_server(settings: "Settings", host: str = "127.0.0.1", port: int = 0, scheduler: bool = True,
                cli_api: bool = True) -> DashboardServer:
    return DashboardServer(settings, host, port, scheduler, cli_api=cli_api)


def _stop_on_sigterm() -> None:
    """SIGTERM (systemd, docker stop, kill) stops the server like Ctrl-C: the
    scheduler is shut down and serve.json / serve.token are removed."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def serve(settings: "Settings", host: str = "127.0.0.1", port: int = 8050, scheduler: bool = True) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = make_server(settings, host, port, scheduler)
    _stop_on_sigterm()
    print(f"Seamline dashboard on {server.url} (scheduler {'on' if scheduler else 'off'}); Ctrl-C to stop", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
