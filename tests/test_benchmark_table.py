"""benchmarks/README.md's results table is the one rendered from results.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import table  # noqa: E402


def test_the_readme_table_is_rendered_from_results_json():
    readme = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    rendered = table.render(json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8")))
    assert rendered in readme, "run `python benchmarks/table.py` to update benchmarks/README.md"


def test_a_row_shows_each_figure_of_its_summary():
    summary = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))["summary"][0]
    cells = table.row(summary).strip("| ").split(" | ")
    assert cells[0] == summary["size"].replace("M", " M")
    assert cells[1] == f"{summary['load_ev_s'] / 1000:.0f} k"
    assert cells[3] == f"{summary['full_jobs_s']:.1f} s"
    assert cells[13] == str(summary["mismatches"])
    summary = dict(summary, pandas_s=None, speedup=None, mem_ratio=None, mismatches=None)
    assert table.row(summary).strip("| ").split(" | ")[10:] == ["–"] * 4
