"""Hand CLI commands to a running ``seamline serve`` (SPEC §5: every command
works while the dashboard runs).

The embedded engine (chDB) allows one process per data directory, so while
``seamline serve`` holds it a second process cannot open the warehouse.  The
server therefore listens on a loopback port of its own (``CommandServer``)
and records it in ``<data_dir>/serve.json`` (pid, port, started_at, …) with
a random token in ``<data_dir>/serve.token`` (mode 0600).  The CLI finds a
live server there (``find_server``) and sends it the command line, its
working directory and its resolved settings (``run_remote``); the server runs
the same ``seamline.cli.main(argv)`` in a thread of its own and streams the
thread's stdout and stderr back, then the exit code.

Capture is per request and per thread (``seamline.capture``): the dashboard's
and the scheduler's threads print and log as before.

Standard library only: the CLI imports this module on every command.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from seamline.capture import Request, RequestLogHandler, captured, uninstall_routers

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings

log = logging.getLogger("seamline.remote")

SERVE_FILE, TOKEN_FILE = "serve.json", "serve.token"
RUN_PATH = "/v1/run"
MAX_REQUEST_BYTES = 1 << 20


class RemoteError(RuntimeError):
    """A problem talking to the running server: one line for the user."""


# Settings as sent by the client ------------------------------------------------
def settings_payload(settings: "Settings", cwd: str | None = None) -> dict[str, Any]:
    """The settings as JSON with every path made absolute (relative to ``cwd``):
    the server rebuilds exactly the client's configuration from it."""
    cwd = cwd or os.getcwd()
    doc = settings.model_dump(mode="json")
    doc["data_dir"] = str(settings.data_path)
    doc["warehouse"] = settings.warehouse_dsn
    meta = settings.metadata_dsn
    if meta.startswith("sqlite:///"):
        path = meta.removeprefix("sqlite:///")
        if path and path != ":memory:" and not os.path.isabs(path):
            meta = "sqlite:///" + os.path.normpath(os.path.join(cwd, path))
    doc["metadata_url"] = meta
    return doc


# Discovery (client side) --------------------------------------------------------
def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except (OverflowError, ValueError):
        return False
    return True


@dataclass
class ServerInfo:
    pid: int
    port: int
    started_at: str
    data_dir: Path
    warehouse: str = ""
    dashboard: str = ""
    scheduler: bool = True

    @property
    def token_path(self) -> Path:
        return self.data_dir / TOKEN_FILE

    def describe(self) -> str:
        return f"pid {self.pid}" + (f", dashboard {self.dashboard}" if self.dashboard else "")


def read_server_file(data_dir: Path) -> ServerInfo | None:
    """The server recorded in ``data_dir/serve.json``, or None (missing, unreadable, malformed)."""
    try:
        doc = json.loads((data_dir / SERVE_FILE).read_text("utf-8"))
        return ServerInfo(pid=int(doc["pid"]), port=int(doc["port"]), started_at=str(doc.get("started_at", "")),
                          data_dir=data_dir, warehouse=str(doc.get("warehouse", "")),
                          dashboard=str(doc.get("dashboard", "")), scheduler=bool(doc.get("scheduler", True)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_server(settings: "Settings") -> ServerInfo | None:
    """A live server holding this embedded warehouse, or None (no file, a dead
    pid, another warehouse, or this very process)."""
    if not settings.is_embedded:
        return None
    info = read_server_file(settings.data_path)
    if info is None or info.pid == os.getpid() or not pid_alive(info.pid):
        return None
    if info.warehouse and info.warehouse != settings.warehouse_dsn:
        return None  # this command uses another engine path: it opens it itself
    return info


# The client -------------------------------------------------------------------
def run_remote(info: ServerInfo, argv: list[str], settings: "Settings") -> int | None:
    """Run ``argv`` in the server and replay its output here; the exit code, or
    None when nothing answers on the recorded port (a stale file: run locally)."""
    import http.client

    try:
        token = info.token_path.read_text("utf-8").strip()
    except OSError as exc:
        raise RemoteError(f"a Seamline server ({info.describe()}) holds {info.data_dir}, but its token "
                          f"{info.token_path} cannot be read ({exc.strerror or exc})") from None
    cwd = os.getcwd()
    body = json.dumps({
        "argv": [str(a) for a in argv],
        "cwd": cwd,
        "env": {k: v for k, v in os.environ.items() if k.startswith("SEAMLINE_")},
        "settings": settings_payload(settings, cwd),
    }).encode("utf-8")
    conn = http.client.HTTPConnection("127.0.0.1", info.port, timeout=10)
    try:
        try:
            conn.connect()
        except (ConnectionRefusedError, TimeoutError, OSError):
            return None
        conn.sock.settimeout(None)  # a command may run for minutes
        try:
            conn.request("POST", RUN_PATH, body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise RemoteError(f"the Seamline server ({info.describe()}) did not answer: {exc}") from None
        if resp.status == 401:
            raise RemoteError(f"the Seamline server ({info.describe()}) refused the token in {info.token_path}")
        if resp.status != 200:
            detail = resp.read(300).decode("utf-8", "replace").strip().splitlines()
            raise RemoteError(f"the Seamline server ({info.describe()}) answered {resp.status}"
                              + (f": {detail[0]}" if detail else ""))
        return _replay(resp, info)
    except KeyboardInterrupt:
        print(f"seamline: interrupted; the command goes on in the Seamline server ({info.describe()})",
              file=sys.stderr)
        return 130
    finally:
        conn.close()


def _replay(resp: Any, info: ServerInfo) -> int:
    """Write the streamed frames (one JSON object a line) to our stdout / stderr."""
    streams = {"out": sys.stdout, "err": sys.stderr}
    try:
        for line in resp:
            frame = json.loads(line)
            if "exit" in frame:
                return int(frame["exit"])
            for name, stream in streams.items():
                if name in frame:
                    stream.write(frame[name])
                    stream.flush()
    except BrokenPipeError:  # e.g. `| head`: the reader has gone
        return 1
    except (OSError, ValueError) as exc:
        raise RemoteError(f"lost the Seamline server ({info.describe()}) before the command finished: {exc}") \
            from None
    raise RemoteError(f"the Seamline server ({info.describe()}) stopped before the command finished")


# The server --------------------------------------------------------------------
class CommandServer:
    """The loopback API of ``seamline serve``: ``POST /v1/run`` with a bearer
    token runs one command line in-process and streams its output.

    ``run(argv, settings)`` is ``seamline.cli.main``.  Commands for which
    ``exclusive(argv)`` is true (the writers) run one at a time, as they
    would have run one process at a time; the readers run at once."""

    def __init__(self, settings: "Settings", run: Callable[..., int], exclusive: Callable[[list[str]], bool],
                 dashboard: str = "", scheduler: bool = True):
        from http.server import ThreadingHTTPServer

        self.settings, self._run, self._exclusive = settings, run, exclusive
        self.data_dir = settings.data_path
        self._payload = settings_payload(settings)
        self.token = secrets.token_urlsafe(32)
        self._writer = threading.Lock()
        self._writing: tuple[str, float] | None = None
        self._log_handler = RequestLogHandler()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class())
        self._httpd.daemon_threads = True
        self._httpd.api = self  # type: ignore[attr-defined]
        self.port = int(self._httpd.server_address[1])
        self._write_files(dashboard, scheduler)
        logging.getLogger().addHandler(self._log_handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="seamline-cli-api", daemon=True)
        self._thread.start()
        log.info("CLI commands on %s are handed to this process (127.0.0.1:%d)", self.data_dir, self.port)

    def _write_files(self, dashboard: str, scheduler: bool) -> None:
        """The token first (0600), then serve.json; both atomically, replacing stale ones."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token_tmp = self.data_dir / f".{TOKEN_FILE}.{os.getpid()}"
        fd = os.open(token_tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.token + "\n")
        os.chmod(token_tmp, 0o600)
        os.replace(token_tmp, self.data_dir / TOKEN_FILE)
        from datetime import datetime, timezone

        doc = {"pid": os.getpid(), "port": self.port, "host": "127.0.0.1",
               "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
               "warehouse": self.settings.warehouse_dsn, "dashboard": dashboard, "scheduler": scheduler}
        info_tmp = self.data_dir / f".{SERVE_FILE}.{os.getpid()}"
        info_tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        os.replace(info_tmp, self.data_dir / SERVE_FILE)

    def close(self) -> None:
        logging.getLogger().removeHandler(self._log_handler)
        info = read_server_file(self.data_dir)
        if info is not None and info.pid == os.getpid():  # never a successor's files
            for name in (SERVE_FILE, TOKEN_FILE):
                try:
                    (self.data_dir / name).unlink()
                except FileNotFoundError:
                    pass
        self._httpd.shutdown()
        self._httpd.server_close()
        uninstall_routers()

    def authorised(self, header: str | None) -> bool:
        scheme, _, value = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode())

    def settings_for(self, payload: dict[str, Any]) -> "Settings":
        """The server's own settings when the client's are the same, else the
        client's rebuilt (same engine path: it was found through it); none
        given means the server's."""
        if not payload or payload == self._payload:
            return self.settings
        from seamline.config import Settings

        if payload.get("warehouse") != self.settings.warehouse_dsn:
            raise RemoteError(f"this command uses the warehouse {payload.get('warehouse')}, the Seamline server "
                              f"on {self.data_dir} uses {self.settings.warehouse_dsn}")
        try:
            return Settings.model_validate(payload)
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RemoteError(f"this command's settings differ from the running server's and cannot be passed "
                              f"to it ({first}); stop the server or use its configuration") from None

    def execute(self, doc: dict[str, Any], req: Request) -> int:
        """Run one command line in this thread with its output routed to ``req``."""
        argv = [str(a) for a in doc.get("argv", [])]
        with captured(req):
            try:
                settings = self.settings_for(doc.get("settings") or {})
                if not self._exclusive(argv):
                    return self._run(argv, settings=settings)
                if not self._writer.acquire(blocking=False):
                    busy = self._writing
                    if busy:
                        print(f"seamline: waiting for `{busy[0]}` (running {time.monotonic() - busy[1]:.0f} s in "
                              "the server) to finish", file=sys.stderr, flush=True)
                    self._writer.acquire()
                try:
                    self._writing = (" ".join(argv[:2]), time.monotonic())
                    return self._run(argv, settings=settings)
                finally:
                    self._writing = None
                    self._writer.release()
            except SystemExit as exc:  # argparse's usage errors, sys.exit in a command
                if exc.code is None or isinstance(exc.code, int):
                    return int(exc.code or 0)
                print(exc.code, file=sys.stderr)
                return 1
            except RemoteError as exc:
                print(f"seamline: {exc}", file=sys.stderr)
                return 1
            except BaseException:  # what an uncaught exception does in a process (SEAMLINE_DEBUG=1)
                import traceback

                traceback.print_exc()
                return 1


def _frame_writer(wfile: Any) -> Callable[[dict], None]:
    def send(doc: dict) -> None:
        wfile.write((json.dumps(doc) + "\n").encode("utf-8"))
        wfile.flush()
    return send


def _handler_class() -> type:
    """The request handler (built on first use: http.server is not imported by every CLI command)."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        server_version = "seamline"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug("cli api: " + format, *args)

        def _refuse(self, status: int, text: str) -> None:
            body = (text + "\n").encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._refuse(404, "not found")

        def do_POST(self) -> None:
            api: CommandServer = self.server.api  # type: ignore[attr-defined]
            if self.path != RUN_PATH:
                return self._refuse(404, "not found")
            if not api.authorised(self.headers.get("Authorization")):
                return self._refuse(401, "token required (see serve.token in the data directory)")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 < length <= MAX_REQUEST_BYTES:
                return self._refuse(413 if length > MAX_REQUEST_BYTES else 400, "bad request size")
            try:
                doc = json.loads(self.rfile.read(length))
                if not isinstance(doc, dict) or not isinstance(doc.get("argv"), list):
                    raise ValueError("argv missing")
            except ValueError as exc:
                return self._refuse(400, f"bad request: {exc}")
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            env = doc.get("env") if isinstance(doc.get("env"), dict) else {}
            req = Request(_frame_writer(self.wfile), str(doc.get("cwd") or "/"), {str(k): str(v) for k, v in env.items()})
            code = api.execute(doc, req)
            req.frame({"exit": code})

    return Handler
