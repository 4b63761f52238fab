"""Safe output on real data: the sample with hostile channel, source, topic
and attrs values (``conftest.hostile_sample``) loaded into a fresh database,
every job run, then every CSV download and every page's figures built the
way the dashboard builds them."""

from __future__ import annotations

import csv
import inspect
import io
import uuid
from urllib.parse import urlencode

import pandas as pd
import pytest

from conftest import BOLD, LINK, SAMPLE, close_engines, hostile_sample
from pagekit import page_parts
from seamline import figures as views  # the figure builders live in seamline.figures
from seamline import queries
from seamline.safe_output import FORMULA_START, csv_safe, csv_text, plain_frame

PERIOD = {"period": "custom", "from": "2026-10-01", "to": "2026-10-30"}  # September is the previous period
ESCAPED_LINK = '&lt;a href="https://evil.example/"&gt;x&lt;/a&gt;'
ESCAPED_BOLD = "&lt;b&gt;bold&lt;/b&gt;"


class Hostile:
    def __init__(self, settings, ctx, query):
        self.settings, self.ctx, self.query = settings, ctx, query

    @property
    def search(self) -> str:
        return "?" + urlencode(self.query)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, chdb_dsn):
    """The hostile sample in a fresh database of the session's engine (as
    ``tests/conftest.py``'s ``settings``, once for the module), every job run,
    and a view with a contradictory-status incident and a regression selected."""
    from seamline.config import Settings
    from seamline.load import load_paths
    from seamline.metadata import Metadata
    from seamline.runner import run_jobs
    from seamline.warehouse import Warehouse, quote_ident
    from seamline.warehouse.schema import migrate

    tmp = tmp_path_factory.mktemp("hostile")
    settings = Settings(data_dir=tmp, warehouse=chdb_dsn, warehouse_database=f"t_{uuid.uuid4().hex[:12]}",
                        metadata_url=f"sqlite:///{tmp / 'metadata.db'}", hash_salt="test-salt")
    wh = Warehouse.from_settings(settings)
    try:
        migrate(wh)
        load_paths(wh, [hostile_sample(SAMPLE, tmp / "hostile.jsonl.gz")], settings.hash_salt)
        md = Metadata(settings.metadata_dsn)
        assert all(r.status == "success" for r in run_jobs(wh, md, settings))
        md.annotate(pd.Timestamp("2026-10-10T12:00Z").to_pydatetime(), LINK + " v2", source="")  # 40 characters: not clipped
        ctx = queries.Ctx(wh, settings, md)
        queries.clear_cache()
        rule, mid = wh.rows("SELECT rule, message_event_id FROM incidents FINAL WHERE rule = 'contradictory_status' "
                            "ORDER BY at LIMIT 1")[0]
        regression = queries.regression_key(queries.regressions(ctx)[0])
        yield Hostile(settings, ctx, PERIOD | {"incident": f"{rule}|{mid}", "regression": regression})
    finally:
        wh.command(f"DROP DATABASE IF EXISTS {quote_ident(settings.warehouse_database)}")
        close_engines()


# CSV --------------------------------------------------------------------------
def _rows(download: dict) -> list[list[str]]:
    assert download["filename"].endswith(".csv") and not download["base64"]
    return list(csv.reader(io.StringIO(download["content"], newline="")))


def test_csv_cells_that_start_a_formula_are_neutralised_and_numbers_stay_numbers():
    frame = pd.DataFrame({"text": ["=1+1", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx", "-5", "ok", None],
                          "n": [-1.5, 2, -3, 4, 5, 6, -7, 8, 9],
                          "mixed": ["=x", 3, -4.5, "a", "b", "c", "d", "e", "f"]})
    safe = csv_safe(frame)
    assert list(safe["text"]) == ["'=1+1", "'+1", "'-cmd", "'@SUM(A1)", "'\tx", "'\rx", "'-5", "ok", None]
    assert list(safe["n"]) == list(frame["n"])            # a numeric column is left as it is
    assert list(safe["mixed"][:3]) == ["'=x", 3, -4.5]     # numbers among text stay numbers
    rows = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    assert rows[0] == ["text", "n", "mixed"] and len(rows) == 10  # the CR cell is quoted: no extra row
    assert rows[6][:2] == ["'\rx", "6.0"] and rows[3][1] == "-3.0"


def test_every_csv_download_is_neutralised(hostile):
    from seamline.app import csv_download, state_from

    state, _ = state_from(hostile.query, hostile.ctx)
    escaped: dict[str, set[str]] = {}
    negatives = []
    for key in queries.DATASETS:
        frame = queries.get_dataset(key, hostile.ctx, state)
        rows = _rows(csv_download(hostile.ctx, key, hostile.search))
        assert rows[0] == [str(c) for c in frame.columns], key
        assert len(rows) == len(frame) + 1, key  # no cell broke a row
        numeric = {i for i, c in enumerate(frame.columns)
                   if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])}
        for row in rows[1:]:
            for i, cell in enumerate(row):
                if i in numeric:
                    assert cell == "" or float(cell) == float(cell.lstrip("'")), (key, cell)
                    if cell.startswith("-"):
                        negatives.append((key, frame.columns[i], cell))
                else:
                    assert not cell.startswith(FORMULA_START), (key, frame.columns[i], cell)
                    if cell.startswith("'"):
                        escaped.setdefault(cell[:2], set()).add(key)
    # what the hostile events put in: each reached a download and was neutralised there
    assert {"'=", "'+", "'-", "'@", "'\t", "'\r"} <= set(escaped), escaped
    assert "incidents.timeline" in escaped["'\t"] and "incidents.timeline" in escaped["'\r"]
    assert {"effort.by_topic", "effort.by_channel", "freshness.slo"} <= set().union(*escaped.values())
    assert negatives, "a negative number in a numeric column is written as a number"


# Figures ----------------------------------------------------------------------
def test_event_text_reaches_every_page_as_text(hostile):
    from seamline.app import create_app

    pages = page_parts(create_app(hostile.settings), hostile.query)
    assert set(pages) == {"/", "/journeys", "/freshness", "/effort", "/retention", "/incidents", "/alerts"}
    for path, parts in pages.items():
        assert "error-message" not in " ".join(parts["classes"]), path  # hostile text breaks nothing
        for text in parts["figures"]:
            assert "<a" not in text.lower() and "<b>" not in text.lower(), (path, text)
    # the hostile channels, sources, topics, attrs and the annotation did reach the
    # figures (escaped: Plotly shows them as the same characters)
    for path in ("/journeys", "/freshness", "/effort", "/incidents"):
        assert any(ESCAPED_LINK in t for t in pages[path]["figures"]), path
    assert any(ESCAPED_BOLD in t for t in pages["/freshness"]["figures"])          # source names
    assert "regression: " + ESCAPED_BOLD in pages["/freshness"]["figures"]          # its annotation
    assert ESCAPED_LINK + " v2" in pages["/freshness"]["figures"]               # a deploy annotation
    # DataTable cells are text in the browser: they carry the value as typed
    assert BOLD in pages["/freshness"]["tables"] and any(LINK in t for t in pages["/incidents"]["tables"])


def test_every_figure_builder_escapes_its_frames():
    """A new builder that draws a frame must be decorated with plain_inputs."""
    import plotly.graph_objects as go

    builders = [name for name, fn in inspect.getmembers(views, inspect.isfunction)
                if fn.__module__ == views.__name__ and "go.Figure" in str(inspect.signature(fn).return_annotation)
                and any("DataFrame" in str(p.annotation) for p in inspect.signature(fn).parameters.values())]
    assert len(builders) >= 15
    missing = [n for n in builders if not getattr(getattr(views, n), "plain_inputs", False)]
    assert not missing, f"decorate with @plain_inputs: {missing}"
    fig = views.ci_bars(pd.DataFrame({"c": [LINK, "a&b"], "y": [1.0, 2.0], "lo": [0.5, 1], "hi": [1.5, 3]}),
                        "c", "y", "lo", "hi")
    assert isinstance(fig, go.Figure) and list(fig.data[0].x) == [ESCAPED_LINK, "a&amp;b"]


def test_plain_frame_leaves_frames_without_markup_untouched():
    frame = pd.DataFrame({"day": [pd.Timestamp("2026-10-01").date()], "c": ["web"], "n": [1]})
    assert plain_frame(frame) is frame
    lists = pd.DataFrame({"channels": [[LINK, "web"]]})
    assert plain_frame(lists)["channels"][0] == [ESCAPED_LINK, "web"] and lists["channels"][0][0] == LINK
