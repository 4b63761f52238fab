"""Upstream table shapes for the sources tests (no tests here): they live in
``seamline.sources.fixtures`` (the benchmark writes them too); the tests
import them from here as before."""

from __future__ import annotations

from seamline.sources.fixtures import DATABASES, UPSTREAM_DDL, create_upstream, drop_upstream  # noqa: F401
