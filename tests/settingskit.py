"""Settings for a test's own warehouse database and metadata file.  Test
modules import these from here, not from ``conftest`` (two conftest.py
files exist: which one ``import conftest`` finds depends on the order the
suite collects them)."""

from __future__ import annotations

import uuid
from pathlib import Path

from seamline.config import Settings


def make_settings(tmp_path: Path, dsn: str, **overrides) -> Settings:
    return Settings(
        data_dir=tmp_path,
        warehouse=dsn,
        warehouse_database=f"t_{uuid.uuid4().hex[:12]}",
        metadata_url=f"sqlite:///{tmp_path / 'metadata.db'}",
        hash_salt="test-salt",
        **overrides,
    )


def teardown_settings(s: Settings) -> None:
    from seamline.metadata import dispose_all
    from seamline.warehouse import Warehouse, close_all, quote_ident

    try:
        Warehouse(s.warehouse_dsn, s.warehouse_database).command(
            f"DROP DATABASE IF EXISTS {quote_ident(s.warehouse_database)}")
    finally:
        close_all()
        dispose_all()
