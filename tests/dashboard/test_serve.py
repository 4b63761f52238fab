"""The waitress server: loopback by default, auth when exposed, /healthz."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest

from conftest import ServerThread
from seamline.config import Settings
from seamline.serve import ServeError, check_auth, is_loopback, make_server


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")


def test_non_loopback_host_is_refused_without_auth(tmp_path):
    with pytest.raises(ServeError, match="SEAMLINE_AUTH_PASSWORD"):
        make_server(Settings(data_dir=tmp_path), host="0.0.0.0", port=0, scheduler=False)


def test_check_auth_basic_and_bearer():
    s = Settings(auth_password="pw", auth_token="tok")
    basic = "Basic " + base64.b64encode(b"seamline:pw").decode()
    assert check_auth(s, basic)
    assert check_auth(s, "Bearer tok")
    assert not check_auth(s, "Bearer nope")
    assert not check_auth(s, "Basic " + base64.b64encode(b"other:pw").decode())
    assert not check_auth(s, None)
    assert check_auth(Settings(), None)


def _get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_auth_is_enforced_on_every_request_and_healthz_reports(tmp_path):
    srv = ServerThread(tmp_path, auth_password="s3cret", auth_user="ops")
    try:
        status, body = _get(srv.url + "/healthz")
        assert status == 200
        health = json.loads(body)
        assert health["warehouse"] == "ok" and health["metadata"] == "ok" and health["jobs"] == {}
        assert _get(srv.url + "/")[0] == 401
        assert _get(srv.url + "/_dash-layout")[0] == 401
        ok = {"Authorization": "Basic " + base64.b64encode(b"ops:s3cret").decode()}
        status, body = _get(srv.url + "/incidents", ok)
        assert status == 200 and b"<script" in body
        assert _get(srv.url + "/", {"Authorization": "Basic " + base64.b64encode(b"ops:wrong").decode()})[0] == 401
    finally:
        srv.stop()


def test_server_starts_the_scheduler_in_process(tmp_path):
    srv = ServerThread(tmp_path, scheduler=True)
    try:
        sched = srv.server.scheduler
        assert sched is not None and sched.running
        assert {j.id for j in sched.get_jobs()} >= {"seamline:freshness", "seamline:incidents"}
    finally:
        srv.stop()
    assert not srv.server.scheduler.running


def test_the_first_visit_works_from_the_moment_the_server_listens(tmp_path):
    """A fresh `seamline serve` process: the first requests, sent together the
    moment the port accepts, all succeed (they once raced the warm-up's
    imports: HTTP 500 and "Error loading layout")."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    from concurrent.futures import ThreadPoolExecutor

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, SEAMLINE_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "seamline", "serve", "--no-scheduler", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not listen within 120 s"
                time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        paths = ["/_dash-layout", "/_dash-dependencies", "/", "/journeys", "/freshness", "/effort", "/retention",
                 "/incidents", "/_dash-layout", "/_dash-layout"]
        with ThreadPoolExecutor(len(paths)) as pool:
            statuses = list(pool.map(lambda p: _get(base + p)[0], paths))
        assert statuses == [200] * len(paths), dict(zip(paths, statuses))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_rendered_view_is_kept_for_everyone_until_the_data_changes(tmp_path):
    """Many users opening one view wait for one render; a new annotation (a
    new cache stamp) renders it again; a different query is its own view."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime, timezone

    srv = ServerThread(tmp_path)
    try:
        def render(search=""):
            body = json.dumps({"output": ".._pages_content.children..._pages_store.data..",
                               "outputs": [{"id": "_pages_content", "property": "children"},
                                           {"id": "_pages_store", "property": "data"}],
                               "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                                          {"id": "_pages_location", "property": "search", "value": search}],
                               "changedPropIds": ["_pages_location.pathname"], "state": []}).encode()
            req = urllib.request.Request(srv.url + "/_dash-update-component", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()

        views = srv.server.views
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: render(), range(8)))
        assert {a for a in answers} == {answers[0]} and answers[0][0] == 200
        assert (views.renders, views.hits) == (1, 7)
        render("?period=7d")
        assert views.renders == 2
        srv.server.app.server.config["SEAMLINE_CTX"].md.annotate(datetime(2026, 3, 1, tzinfo=timezone.utc), "deploy")
        render()
        assert views.renders == 3
    finally:
        srv.stop()
