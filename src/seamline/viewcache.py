"""Rendered views, kept and served to everyone who asks for the same one.

A page's render request (the ``_pages_content`` callback: a path and a
query) is answered with the same bytes until the data changes: its key is
the request body and the metadata's cache stamp (a new successful job run or
annotation is a new key), and an entry lives ``TTL_S`` at most, which bounds
how stale the parts that read other metadata (job health, alerts, incident
reviews) can be.  Many users asking for one view wait for one render (one
lock per key) instead of each rendering it: rendering a page (its layout and
the JSON of every figure) costs a core for a fraction of a second, so 50
users would otherwise queue on the machine's cores.

Installed after authentication (``seamline.serve``): a cached view is only
served to a request that passed it.  Nothing is kept while a job run is
writing (a page read then may hold rows between an increment's delete and
insert) or when the render failed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

TTL_S = 5.0
MAX_ENTRIES = 256
RENDER_OUTPUT = b'_pages_content.children'
LOCK_WAIT_S = 30.0


class ViewCache:
    def __init__(self, md: Any, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES):
        self.md, self.ttl_s, self.max_entries = md, ttl_s, max_entries
        self._entries: OrderedDict[tuple, tuple[float, bytes, str]] = OrderedDict()
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()
        self.hits = self.renders = 0

    def _fresh(self, key: tuple) -> tuple[bytes, str] | None:
        with self._guard:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry[0] > self.ttl_s:
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]

    def install(self, server: Any) -> None:
        from flask import Response, g, request

        @server.before_request
        def _serve_kept_view():
            if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
                return None
            body = request.get_data(cache=True)
            if RENDER_OUTPUT not in body:
                return None
            try:
                writing = self.md.runs_in_progress()
                key = (body, self.md.cache_stamp())
            except Exception:
                return None  # the page itself will say what is wrong
            kept = self._fresh(key)
            if kept is None:
                with self._guard:
                    lock = self._locks.setdefault(key, threading.Lock())
                if not lock.acquire(timeout=LOCK_WAIT_S):
                    return None  # a render that hangs holds no one else up: render this one too
                g.seamline_view = (key, lock, writing)
                kept = self._fresh(key)  # rendered by the request we waited for
                if kept is None:
                    return None
                lock.release()
                g.seamline_view = None
            with self._guard:
                self.hits += 1
            return Response(kept[0], mimetype=kept[1])

        @server.after_request
        def _keep_view(response):
            view = g.pop("seamline_view", None) if "seamline_view" in g else None
            if view is None:
                return response
            key, lock, writing = view
            try:
                if response.status_code == 200 and not writing and not response.direct_passthrough:
                    data = response.get_data()
                    with self._guard:
                        self.renders += 1
                        self._entries[key] = (time.monotonic(), data, response.mimetype)
                        self._entries.move_to_end(key)
                        while len(self._entries) > self.max_entries:
                            old, _ = self._entries.popitem(last=False)
                            self._locks.pop(old, None)
                else:
                    with self._guard:
                        self._locks.pop(key, None)
            finally:
                lock.release()
            return response

        @server.teardown_request
        def _release_view(exc):  # an exception skipped after_request
            view = g.pop("seamline_view", None) if "seamline_view" in g else None
            if view is not None:
                view[1].release()
