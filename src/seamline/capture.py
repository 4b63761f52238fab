"""Per-request output capture for commands the server runs on a client's behalf.

While ``seamline serve`` runs a command for the CLI (``seamline.remote``),
``sys.stdout`` / ``sys.stderr`` are routers: the writes of the thread that runs
a request go to that request (buffered, sent as frames at line ends), every
other thread's to the real stream, so the dashboard's and the scheduler's
threads print and log as before.  Warnings logged by a request's thread reach
its stderr too, as logging's last resort prints them in a CLI process.

Standard library only: the CLI imports this module on every command.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator


class Request:
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


_routes: dict[int, Request] = {}
_install_lock = threading.Lock()


def _current() -> Request | None:
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


class RequestLogHandler(logging.Handler):
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


def uninstall_routers() -> None:
    with _install_lock:
        if _routes:
            return
        if isinstance(sys.stdout, _Router):
            sys.stdout = sys.stdout._real
        if isinstance(sys.stderr, _Router):
            sys.stderr = sys.stderr._real


@contextmanager
def captured(req: Request) -> Iterator[None]:
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
