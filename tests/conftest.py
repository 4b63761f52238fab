"""Shared fixtures: real chDB (one engine path per test session, a fresh
database per test), a real SQLite metadata file per test."""

from __future__ import annotations

import os

import pytest

from settingskit import make_settings, teardown_settings  # noqa: F401 (the fixtures' helpers)


@pytest.fixture(scope="session", autouse=True)
def _drops_remove_at_once():
    """Every DROP of the session's clients removes its table at once.  The
    engine keeps a dropped table for 8 minutes before removing it, and each
    new connection to the embedded engine takes longer the more dropped
    tables wait (40 ms with 30 of them, 1 s with 1,100): a suite of hundreds of
    fresh databases, whose jobs drop their work tables, slowed every test's
    setup threefold by its second half."""
    from seamline.warehouse import CLIENT_SETTINGS

    CLIENT_SETTINGS["database_atomic_wait_for_drop_and_detach_synchronously"] = 1
    yield
    CLIENT_SETTINGS.pop("database_atomic_wait_for_drop_and_detach_synchronously", None)


@pytest.fixture(scope="session")
def chdb_dsn(tmp_path_factory) -> str:
    url = os.environ.get("SEAMLINE_TEST_CLICKHOUSE_URL")
    if url:
        return url
    return f"chdb://{tmp_path_factory.mktemp('chdb')}"


@pytest.fixture
def settings(tmp_path, chdb_dsn):
    s = make_settings(tmp_path, chdb_dsn)
    yield s
    teardown_settings(s)


@pytest.fixture
def ctx(settings):
    from seamline.cli import Context

    return Context(settings)


@pytest.fixture
def wh(ctx):
    return ctx.wh


@pytest.fixture
def md(ctx):
    return ctx.md


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """Run ``seamline.cli.main`` in-process against the test's warehouse and metadata DB
    (a subprocess cannot open the embedded engine this process holds)."""
    from seamline.cli import main

    monkeypatch.setenv("SEAMLINE_WAREHOUSE", settings.warehouse)
    monkeypatch.setenv("SEAMLINE_WAREHOUSE_DATABASE", settings.warehouse_database)
    monkeypatch.setenv("SEAMLINE_METADATA_URL", settings.metadata_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SEAMLINE_HASH_SALT", settings.hash_salt)
    monkeypatch.setenv("SEAMLINE_CONFIG", str(settings.data_dir / "no-such-seamline.toml"))
    monkeypatch.delenv("SEAMLINE_DEBUG", raising=False)

    def run(*argv) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run
