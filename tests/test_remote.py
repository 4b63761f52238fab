"""CLI commands while ``seamline serve`` runs (SPEC §5, issue 20 item 5).

Real processes and sockets only: one ``seamline serve`` subprocess on a temp
data directory for the module, the real CLI as subprocesses against it, then
the same commands again without the server, whose output must be the same.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

PY = sys.executable
RUN_TIMEOUT = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_pid() -> int:
    proc = subprocess.Popen([PY, "-c", "pass"])
    proc.wait()
    return proc.pid


class World:
    """A data directory, the CLI as a subprocess, and a server that can be stopped."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLINE_")}
        self.env["SEAMLINE_DATA_DIR"] = str(self.data)
        self.server: subprocess.Popen | None = None
        self.dashboard_port = 0
        self.remote: dict[str, tuple[int, str, str]] = {}

    def cli(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
        res = subprocess.run([PY, "-m", "seamline.cli", *map(str, args)], capture_output=True, text=True,
                             env={**self.env, **(env or {})}, cwd=cwd or self.root, timeout=RUN_TIMEOUT)
        return res.returncode, res.stdout, res.stderr

    def serve_info(self) -> dict:
        return json.loads((self.data / "serve.json").read_text())

    def start_server(self) -> None:
        self.dashboard_port = free_port()
        log = open(self.root / f"serve-{self.dashboard_port}.log", "w")
        self.server = subprocess.Popen(
            [PY, "-m", "seamline.cli", "serve", "--port", str(self.dashboard_port), "--no-scheduler"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.root)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (self.root / log.name).read_text()
            try:
                if self.serve_info()["pid"] == self.server.pid:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.dashboard_port}/healthz", timeout=5):
                        return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.3)
        raise AssertionError("seamline serve did not answer within 120 s")

    def ensure_server(self) -> dict:
        if self.server is None:
            self.start_server()
        return self.serve_info()

    def stop_server(self) -> int | None:
        if self.server is None:
            return None
        self.server.send_signal(signal.SIGTERM)
        try:
            code = self.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.server.kill()
            code = self.server.wait()
        self.server = None
        return code


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("remote"))
    code, out, err = w.cli("sample", "--out", "sample.jsonl", "--customers", "50", "--days", "10")
    assert code == 0, err
    lines = (w.root / "sample.jsonl").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    (w.root / "a.jsonl").write_text("".join(lines[:half]))
    (w.root / "b.jsonl").write_text("".join(lines[half:]))
    w.b_lines = len(lines) - half
    # a stale serve.json (its process is gone) is ignored by the CLI and replaced by the next server
    w.data.mkdir()
    (w.data / "serve.json").write_text(json.dumps({"pid": dead_pid(), "port": free_port(), "started_at": "x"}))
    (w.data / "serve.token").write_text("stale\n")
    code, out, err = w.cli("load", "a.jsonl")
    assert code == 0, err
    w.start_server()
    yield w
    w.stop_server()


# The same commands with and without the server ----------------------------------
PERIOD = ("--from", "2026-09-01", "--to", "2026-09-11")
READS = {
    "status": ("jobs", "status", "--json"),
    "metrics": ("metrics", *PERIOD, "--json"),
    "metrics_text": ("metrics", *PERIOD),
    "quarantine": ("quarantine", "--json"),
    "quarantine_text": ("quarantine",),
    "incidents": ("incidents", "--json"),
    "regressions": ("regressions", "--json"),
}
FAILS = {
    "bad_period": ("metrics", "--from", "2026-09-11", "--to", "2026-09-01"),
    "missing_file": ("load", "missing.jsonl"),
    "usage": ("metrics", "--from", "2026-09-01"),
    "unknown_job": ("jobs", "run", "nosuchjob"),
}
TIGHT = {"SEAMLINE_FRESHNESS_TARGET_S": "1"}  # the client's settings, not the server's


def _without_seconds(doc):
    if isinstance(doc, dict):
        return {k: _without_seconds(v) for k, v in doc.items() if k not in ("seconds", "run_id")}
    if isinstance(doc, list):
        return [_without_seconds(v) for v in doc]
    return doc


def remote_phase(w: World) -> dict:
    """Everything the CLI does through the running server (once for the module)."""
    if w.remote:
        return w.remote
    w.ensure_server()
    r = w.remote
    r["load_b"] = w.cli("load", w.root / "b.jsonl", "--json")
    r["reload_b_text"] = w.cli("load", "b.jsonl")  # a relative path: the client's directory
    r["reload_b"] = w.cli("load", w.root / "b.jsonl", "--json")
    r["jobs_run"] = w.cli("jobs", "run")
    r["jobs_run_again"] = w.cli("jobs", "run", "--json")
    r["annotate"] = w.cli("annotate", "--at", "2026-09-05T12:00:00Z", "--source", "web", "--text", "deploy 42")
    for name, argv in {**READS, **FAILS}.items():
        r[name] = w.cli(*argv)
    r["metrics_tight"] = w.cli(*READS["metrics"], env=TIGHT)
    return r


def test_commands_run_in_the_server_and_print_what_they_would_print_alone(world):
    r = remote_phase(world)
    info = world.serve_info()
    assert info["pid"] == world.server.pid  # the stale file was replaced

    code, out, err = r["load_b"]
    assert code == 0, err
    doc = json.loads(out)
    assert doc["read"] == world.b_lines
    assert doc["read"] == doc["loaded"] + doc["duplicates"] + doc["quarantined"] and doc["loaded"] > 0
    assert doc["files"][0]["file"] == str(world.root / "b.jsonl")
    code, out, err = r["reload_b_text"]
    assert code == 0, err
    assert out.startswith(f"b.jsonl: read {world.b_lines:,}, loaded 0, ")  # shown as typed

    code, out, err = r["jobs_run"]
    assert code == 0, err
    assert len(out.splitlines()) >= 8 and all(" success " in line for line in out.splitlines())
    code, out, err = r["annotate"]
    assert (code, out, err) == (0, "annotation saved at 2026-09-05T12:00:00.000Z\n", "")
    for name in READS:
        code, out, err = r[name]
        assert code == 0 and err == "", (name, err)
    m = json.loads(r["metrics"][1])
    assert m["freshness"]["events"] > 0 and m["continuity"]["transitions"] > 0
    # the client's environment is the command's configuration
    tight = json.loads(r["metrics_tight"][1])
    assert tight["freshness"]["slo_met_rate"] < m["freshness"]["slo_met_rate"]


def test_concurrent_commands_each_get_their_own_output(world):
    r = remote_phase(world)
    names = ["metrics", "quarantine", "status", "incidents", "metrics_tight"]
    got: dict[str, tuple[int, str, str]] = {}

    def run(name: str) -> None:
        argv = READS.get(name) or READS["metrics"]
        got[name] = world.cli(*argv, env=TIGHT if name == "metrics_tight" else None)

    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name in names:
        assert got[name] == r[name], name


def test_the_api_refuses_a_request_without_the_token(world):
    info = world.ensure_server()
    token_file = world.data / "serve.token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    body = json.dumps({"argv": ["quarantine", "--json"], "cwd": str(world.root), "env": {}, "settings": {}})

    def post(headers: dict, path: str = "/v1/run", method: str = "POST") -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=60)
        try:
            conn.request(method, path, body=body if method == "POST" else None, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    assert post({})[0] == 401
    assert post({"Authorization": "Bearer " + "x" * 43})[0] == 401
    assert post({"Authorization": "Basic " + token_file.read_text().strip()})[0] == 401
    assert post({}, method="GET")[0] == 404
    status, data = post({"Authorization": "Bearer " + token_file.read_text().strip()})
    frames = [json.loads(line) for line in data.decode().splitlines()]
    assert status == 200 and frames[-1] == {"exit": 0}, frames
    assert json.loads("".join(f.get("out", "") for f in frames)) == json.loads(remote_phase(world)["quarantine"][1])
    # the loopback API never listens on another interface
    with socket.socket() as s:
        s.settimeout(2)
        try:
            addr = socket.gethostbyname(socket.gethostname())
        except OSError:
            addr = "127.0.0.1"
        if not addr.startswith("127."):
            assert s.connect_ex((addr, info["port"])) != 0


def test_server_commands_are_refused_with_one_line(world):
    world.ensure_server()
    for argv in (("scheduler",), ("demo", "--no-serve"), ("serve", "--port", str(free_port()))):
        code, out, err = world.cli(*argv)
        assert code == 1 and out == "", argv
        assert len(err.splitlines()) == 1 and "a Seamline server (pid" in err, (argv, err)
    assert "scheduler" in world.cli("scheduler")[2]
    # sample needs no warehouse: it runs in the client as usual
    code, out, err = world.cli("sample", "--out", "other.jsonl", "--customers", "5", "--days", "8")
    assert code == 0 and "wrote" in out, err


def test_without_the_server_the_same_commands_print_the_same(world):
    r = remote_phase(world)
    assert world.stop_server() == 0
    assert not (world.data / "serve.json").exists() and not (world.data / "serve.token").exists()

    for name, argv in READS.items():
        assert world.cli(*argv) == r[name], name
    assert world.cli(*READS["metrics"], env=TIGHT) == r["metrics_tight"]
    for name, argv in FAILS.items():
        local = world.cli(*argv)
        assert local == r[name], name
        assert local[0] in (1, 2) and local[2].strip()
    code, out, err = world.cli("load", world.root / "b.jsonl", "--json")
    assert code == r["reload_b"][0] == 0
    assert _without_seconds(json.loads(out)) == _without_seconds(json.loads(r["reload_b"][1]))
    code, out, err = world.cli("load", "b.jsonl")
    assert (code, out.split(" (")[0], err) == (r["reload_b_text"][0], r["reload_b_text"][1].split(" (")[0],
                                               r["reload_b_text"][2])
    code, out, err = world.cli("jobs", "run", "--json")
    assert code == r["jobs_run_again"][0] == 0
    keep = ("job", "status", "full", "rows", "error")
    assert [{k: j[k] for k in keep} for j in json.loads(out)] == \
        [{k: j[k] for k in keep} for j in json.loads(r["jobs_run_again"][1])]
    assert world.cli("annotate", "--at", "2026-09-05T12:00:00Z", "--text", "deploy 42", "--source", "web") \
        == r["annotate"]


# When the warehouse is really unavailable: one line ------------------------------
def test_a_server_file_whose_port_does_not_answer_is_ignored(world):
    remote_phase(world)
    world.stop_server()
    expected = world.cli(*READS["quarantine"])
    # a live pid (this test) but nothing on the port: the CLI opens the warehouse itself
    (world.data / "serve.json").write_text(json.dumps({"pid": os.getpid(), "port": free_port(), "started_at": "x"}))
    (world.data / "serve.token").write_text("whatever\n")
    try:
        assert world.cli(*READS["quarantine"]) == expected
    finally:
        (world.data / "serve.json").unlink()
        (world.data / "serve.token").unlink()


HOLD = """
import sys
from seamline.config import Settings
from seamline.warehouse import Warehouse
Warehouse.from_settings(Settings()).scalar("SELECT 1")
print("holding", flush=True)
sys.stdin.read()
"""


def test_another_process_holding_the_warehouse_gives_one_line(world):
    world.stop_server()
    holder = subprocess.Popen([PY, "-c", HOLD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=world.env, cwd=world.root)
    try:
        assert holder.stdout.readline().strip() == "holding"
        for argv in (("quarantine",), ("jobs", "run"), ("load", "b.jsonl"),
                     ("serve", "--port", str(free_port()), "--no-scheduler")):
            code, out, err = world.cli(*argv)
            assert code == 1, (argv, out, err)
            assert err.count("\n") == 1 and err.startswith("seamline: another Seamline process is using the "
                                                           "embedded warehouse"), (argv, err)
            assert "Code: 76" not in err and "Cannot lock file" not in err
        code, out, err = world.cli("quarantine", env={"SEAMLINE_DEBUG": "1"})
        assert code == 1 and "Cannot lock file" in err  # the engine's own words, for whoever asks
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_a_warehouse_server_that_is_down_gives_one_line(world):
    code, out, err = world.cli("quarantine", env={"SEAMLINE_WAREHOUSE": f"http://127.0.0.1:{free_port()}/db"})
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "cannot connect to the warehouse" in err and "onnection refused" in err, err


def test_a_configuration_error_is_one_line(world):
    (world.root / "bad.toml").write_text("windows = [\n")
    code, out, err = world.cli("quarantine", env={"SEAMLINE_CONFIG": str(world.root / "bad.toml")})
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("seamline: ") and "Traceback" not in err, err


def test_capture_takes_only_the_request_threads_output(capfd):
    """A request's thread is routed to its request; the server's other threads
    (pages, scheduler, logging) still write to the real streams meanwhile."""
    import logging

    from seamline.capture import Request, RequestLogHandler, captured, uninstall_routers

    frames: list[dict] = []
    inside, release = threading.Event(), threading.Event()

    def request() -> None:
        with captured(Request(frames.append, "/", {})):
            print("request line 1")
            inside.set()
            release.wait(10)
            print("request error", file=sys.stderr)
            logging.getLogger("seamline.test").warning("request warning")
            sys.stdout.write("no newline")
            assert not sys.stdout.isatty()

    handler = RequestLogHandler()
    logging.getLogger().addHandler(handler)
    try:
        t = threading.Thread(target=request)
        t.start()
        assert inside.wait(10)
        for i in range(50):
            print(f"server line {i}")
            print(f"server error {i}", file=sys.stderr)
        release.set()
        t.join(10)
    finally:
        logging.getLogger().removeHandler(handler)
        uninstall_routers()
    assert frames == [{"out": "request line 1\n"}, {"err": "request error\n"}, {"err": "request warning\n"},
                      {"out": "no newline"}]
    out, err = capfd.readouterr()
    assert "request" not in out + err
    assert out.count("server line") == 50 and err.count("server error") == 50
