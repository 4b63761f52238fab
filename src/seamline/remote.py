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

Capture is per request: ``sys.stdout`` / ``sys.stderr`` become routers that
send the writes of a request's thread to that request and everything else to
the real stream, so the dashboard's and scheduler's threads are unaffected.

Standard library only: the CLI imports this module on every command.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import os
import secrets
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

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


# Per-request capture (server side) ---------------------------------------------
class _Request:
    """One request's output: buffered per stream, sent as frames at line ends;
    a client that went away no longer receives anything (the command finishes)."""

    def __init__(self, send: Callable[[dict], None], cwd: str, env: dict[str, str]):
        self._send, self.cwd, self.env = send, cwd, env
        self._buf = {"out": "", "err": ""}
        self._lock = threading.Lock()
        self.gone = False

    def write(self, stream: str, text: str) -> None:
        with self._lock:
            other = "err" if stream == "out" else "out"
            if self._buf[other]:  # keep the order of stdout and stderr lines
                self._emit(other)
            self._buf[stream] += text
            if "\n" in text:
                self._emit(stream)

    def flush(self) -> None:
        with self._lock:
            for stream in self._buf:
                if self._buf[stream]:
                    self._emit(stream)

    def frame(self, doc: dict) -> None:
        self.flush()
        with self._lock:
            self._deliver(doc)

    def _emit(self, stream: str) -> None:
        text, self._buf[stream] = self._buf[stream], ""
        self._deliver({stream: text})

    def _deliver(self, doc: dict) -> None:
        if self.gone:
            return
        try:
            self._send(doc)
        except OSError:
            self.gone = True


_routes: dict[int, _Request] = {}
_install_lock = threading.Lock()


def _current() -> _Request | None:
    return _routes.get(threading.get_ident())


class _Router:
    """Stands in for sys.stdout / sys.stderr: the writes of a thread that runs
    a request go to that request, every other thread's to the real stream."""

    def __init__(self, real: Any, stream: str):
        self._real, self._stream = real, stream

    def write(self, text: str) -> int:
        req = _current()
        if req is None:
            return self._real.write(text)
        req.write(self._stream, text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        req = _current()
        if req is None:
            self._real.flush()
        else:
            req.flush()

    def isatty(self) -> bool:  # no progress bars for a request (its worker threads are not routed)
        return False if _current() is not None else self._real.isatty()

    def fileno(self) -> int:
        if _current() is not None:
            raise io.UnsupportedOperation("a request's output has no file descriptor")
        return self._real.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _RequestLogHandler(logging.Handler):
    """Warnings logged by a request's thread reach that request's stderr, as
    they would reach a terminal from a CLI process (logging's last resort)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        req = _current()
        if req is not None:
            req.write("err", self.format(record) + "\n")
        elif all(h is self for h in logging.getLogger().handlers):  # nothing else would print it
            logging.lastResort.handle(record)


def _install_routers() -> None:
    with _install_lock:
        if not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout, "out")
        if not isinstance(sys.stderr, _Router):
            sys.stderr = _Router(sys.stderr, "err")


def _uninstall_routers() -> None:
    with _install_lock:
        if _routes:
            return
        if isinstance(sys.stdout, _Router):
            sys.stdout = sys.stdout._real
        if isinstance(sys.stderr, _Router):
            sys.stderr = sys.stderr._real


@contextmanager
def captured(req: _Request) -> Iterator[None]:
    """Route this thread's stdout / stderr to ``req`` for the duration."""
    _install_routers()
    ident = threading.get_ident()
    _routes[ident] = req
    try:
        yield
    finally:
        _routes.pop(ident, None)
        req.flush()


def getenv(name: str, default: str | None = None) -> str | None:
    """The environment of the command being run: the client's for a request."""
    req = _current()
    return req.env.get(name, default) if req is not None else os.environ.get(name, default)


def request_cwd() -> str | None:
    """The client's working directory when this thread runs a request, else None."""
    req = _current()
    return req.cwd if req is not None else None


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
        self._log_handler = _RequestLogHandler()
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
        _uninstall_routers()

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

    def execute(self, doc: dict[str, Any], req: _Request) -> int:
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
            req = _Request(_frame_writer(self.wfile), str(doc.get("cwd") or "/"), {str(k): str(v) for k, v in env.items()})
            code = api.execute(doc, req)
            req.frame({"exit": code})

    return Handler
