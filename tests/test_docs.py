"""Docs kept honest: README's CLI reference matches --help, every setting and
command is documented, the package ships its SQL, jobs and dashboards."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_reference_matches_help():
    ref = _load_script("cli_reference")
    doc = (ROOT / "docs" / "cli.md").read_text("utf-8")
    assert ref.START in doc and ref.END in doc
    assert ref.render(doc) == doc, "docs/cli.md is stale: run python scripts/cli_reference.py --write"


def _configuration_table_names(readme: str) -> set[str]:
    """The setting names in the first column of README's Configuration table."""
    import re

    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return names


def test_every_setting_is_in_the_configuration_table():
    from seamline.config import Settings

    documented = _configuration_table_names((ROOT / "README.md").read_text("utf-8"))
    missing = sorted(set(Settings.model_fields) - documented)
    assert not missing, f"add these settings to README.md's Configuration table: {missing}"
    unknown = sorted(documented - set(Settings.model_fields))
    assert not unknown, f"README.md's Configuration table names settings that do not exist: {unknown}"


def test_readme_quick_start_commands_exist():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "scripts/demo.sh" in readme and "scripts/test.sh" in readme
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text("utf-8")


def test_help_is_cheap_to_import():
    code = ("import sys, seamline.cli; seamline.cli.build_parser(); "
            "heavy = [m for m in ('pandas', 'numpy', 'scipy', 'clickhouse_connect', 'dash', 'sqlalchemy') if m in sys.modules]; "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"`seamline --help` imports heavy modules: {out}"


def test_wheel_ships_jobs_dashboards_and_sql(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("seamline-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for job in ("continuity", "freshness", "silence", "effort", "retention", "incidents_contradiction"):
        assert f"seamline/jobs/{job}.sql" in names
    assert "seamline/jobs/__init__.py" in names
    assert "seamline/dashboards/__init__.py" in names
    assert "seamline/sql/load_parse.sql" in names
    assert "seamline/warehouse/migrations/0001_core.sql" in names


# The README is for users (what it is, quick start, use, configuration,
# deployment, a benchmark summary); design notes belong in docs/, benchmark
# detail in benchmarks/README.md.  Tables and code blocks count too.
README_MAX_WORDS = 1650


def test_readme_stays_short_and_links_its_detail():
    readme = (ROOT / "README.md").read_text("utf-8")
    words = len(readme.split())
    assert words <= README_MAX_WORDS, f"README.md has {words} words (at most {README_MAX_WORDS}): move detail to docs/"
    for link in ("docs/architecture.md", "docs/cli.md", "benchmarks/README.md"):
        assert f"]({link}" in readme and (ROOT / link).exists(), link
