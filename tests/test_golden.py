"""Golden tests as data (STYLE.md convention 5): tests/golden/<job>.toml holds
tiny hand-built events and hand-computed expectations.  Every case runs twice:
one load + full recompute, and two loads with incremental runs in between
(the second load holds the later half of the file, including identity links
that merge customers after metrics were computed)."""

from __future__ import annotations

import math
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from eventkit import expand_all, load_events
from seamline.cli import parse_date
from seamline.metrics import period_metrics
from seamline.runner import registry, run_jobs

GOLDEN = Path(__file__).parent / "golden"


def _cases():
    for f in sorted(GOLDEN.glob("*.toml")):
        for case in tomllib.loads(f.read_text("utf-8"))["case"]:
            for mode in ("full", "split"):
                yield pytest.param(f.stem, case, mode, id=f"{f.stem}:{case['name']}:{mode}")


def _lookup(obj, dotted: str):
    """A key of ``metrics --json``, or a registered KPI's value (which may be
    computed from several, like retention's over both segments)."""
    from seamline.kpis import kpi

    try:
        return kpi(dotted).of(obj)
    except KeyError:
        pass
    for part in dotted.split("."):
        obj = obj[part]
    return obj


def _close(actual, expected, tol) -> bool:
    if expected == "__none__":  # TOML has no null
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return math.isclose(float(actual), float(expected), rel_tol=tol, abs_tol=tol)
    return actual == expected


@pytest.mark.parametrize("job,case,mode", list(_cases()))
def test_golden(job, case, mode, tmp_path, settings, wh, md):
    for key, value in case.get("settings", {}).items():
        setattr(settings, key, value)
    events = expand_all(case["events"])
    if mode == "full":
        load_events(wh, settings, events, tmp_path / "all.jsonl")
        results = run_jobs(wh, md, settings, full=True)
    else:
        half = len(events) // 2
        load_events(wh, settings, events[:half], tmp_path / "first.jsonl")
        run_jobs(wh, md, settings)
        load_events(wh, settings, events[half:], tmp_path / "second.jsonl")
        results = run_jobs(wh, md, settings)
    assert all(r.status == "success" for r in results), [r for r in results if r.status != "success"]

    tol = case.get("tolerance", 1e-9)
    for exp in case.get("expect", []):
        m = period_metrics(wh, settings, parse_date(exp["from"]), parse_date(exp["to"]))
        if mode == "split":  # the dashboard computes the KPI families concurrently: same numbers
            assert period_metrics(wh, settings, parse_date(exp["from"]), parse_date(exp["to"]), workers=3) == m
        for key, expected in exp.items():
            if key in ("from", "to"):
                continue
            actual = _lookup(m, key)
            assert _close(actual, expected, tol), f"{exp['from']}..{exp['to']} {key}: {actual!r} != {expected!r}"
    for rows in case.get("rows", []):
        # test-authored SQL fragments (column names, filters), not user input
        cols = ", ".join(c if c != "n" else "count() AS n" for c in rows["columns"])
        order = ", ".join(rows["columns"])
        sql = (f"SELECT {cols} FROM {rows['table']}{' FINAL' if rows.get('final') else ''} "
               f"WHERE {rows.get('where', '1')} {'GROUP BY ' + rows['group'] if rows.get('group') else ''} "
               f"ORDER BY {order}")
        got = [list(r) for r in wh.rows(sql)]
        got = [[v.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if isinstance(v, datetime) else v for v in r] for r in got]
        assert got == sorted(rows["values"]), f"{rows['table']}: {got} != {rows['values']}"


def _expected_keys(family: str) -> set[str]:
    path = GOLDEN / f"{family}.toml"
    if not path.exists():
        return set()
    cases = tomllib.loads(path.read_text("utf-8"))["case"]
    return {key for case in cases for exp in case.get("expect", []) for key in exp}


def test_every_kpi_has_a_hand_computed_expectation():
    """Each KPI of the registry is checked in its family's golden file, with
    data (not only "no data")."""
    from seamline.kpis import all_kpis

    missing = [k.key for k in all_kpis() if k.key not in _expected_keys(k.family)]
    assert not missing, f"add expectations to tests/golden/<family>.toml for: {', '.join(missing)}"
    for k in all_kpis():
        cases = tomllib.loads((GOLDEN / f"{k.family}.toml").read_text("utf-8"))["case"]
        values = [exp[k.key] for case in cases for exp in case.get("expect", []) if k.key in exp]
        assert any(v != "__none__" for v in values), f"{k.key}: only 'no data' expectations in golden/{k.family}.toml"


def test_every_job_has_a_golden_file():
    missing = [name for name in registry() if not (GOLDEN / f"{name}.toml").exists()]
    assert not missing, f"add tests/golden/<job>.toml for: {', '.join(missing)}"
