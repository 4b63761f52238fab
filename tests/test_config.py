"""Strict configuration: real seamline.toml files and environment variables in,
one readable line per problem out (the key, the value, where it came from)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seamline.config import DEFAULT_RULES, ConfigError, Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toml(tmp_path, monkeypatch):
    """Write a seamline.toml, point SEAMLINE_CONFIG at it, no setting in the environment."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"SEAMLINE_{name.upper()}", raising=False)
    path = tmp_path / "seamline.toml"
    monkeypatch.setenv("SEAMLINE_CONFIG", str(path))

    def write(text: str) -> Path:
        path.write_text(text, "utf-8")
        return path

    return write


def problems(**overrides) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Settings(**overrides)
    message = str(info.value)
    assert "validation error" not in message and info.value.__cause__ is None
    return message.splitlines()


def test_defaults_build(toml):
    s = Settings()
    assert s.rules == DEFAULT_RULES and s.windows.landmark_days == 30 and s.schedules == {}


def test_readme_example_config_builds(toml):
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.S)
    # the table's inline examples, e.g. `freshness_targets` ... e.g. `{crm = 600}`
    inline = re.findall(r"^\| `(\w+)` \|.*?e\.g\. `(\{.*?\})`", section, re.M)
    assert blocks and {name for name, _ in inline} >= {"freshness_targets", "schedules"}
    toml("".join(f"{name} = {value}\n" for name, value in inline) + "\n".join(blocks))
    s = Settings()
    assert s.rules[0].name == "promo_after_complaint_contact" and s.rules[0].window_hours == 72
    assert s.schedules == {"freshness": "*/1 * * * *"} and s.freshness_targets == {"crm": 600}


def test_valid_overrides_reach_jobs(toml):
    from seamline.jobs import JOBS

    toml('schedules = { effort = "*/7 * * * *" }\ntargets = { continuity_rate = 0.9, ces_mean = 6 }\n'
         "[windows]\nlandmark_days = 60\n")
    s = Settings()
    assert JOBS["effort"].cron(s) == "*/7 * * * *" and s.targets["ces_mean"] == 6
    assert s.windows.landmark_days == 60 and s.windows.journey_gap_hours == 48


RULE = '[[rules]]\nname = "r{i}"\ntemplate = "during_open_case"\ncase_topic = "complaint"\n'


@pytest.mark.parametrize("text,key,closest", [
    ("winddows = { journey_gap_hours = 24 }\n", "winddows", "windows"),
    ('hash_slat = "pepper"\n', "hash_slat", "hash_salt"),
    ("[windows]\nlandmark_dayz = 30\n", "windows.landmark_dayz", "landmark_days"),
    (RULE.format(i=0) + RULE.format(i=1) + RULE.format(i=2) + "windw_hours = 72\n", "rules[2].windw_hours",
     "window_hours"),
    ('[[rules]]\nname = "r"\ntemplate = "after_triger"\nwindow_hours = 1\n', "rules[0].template", "after_trigger"),
    ('schedules = { frshness = "*/5 * * * *" }\n', "schedules.frshness", "freshness"),
    ("targets = { incidnts = 1 }\n", "targets.incidnts", "incidents"),
])
def test_unknown_key_names_it_and_the_closest(toml, text, key, closest):
    path = toml(text)
    [line] = problems()
    assert line.startswith(f"{path}: {key} = ") and f"did you mean {closest!r}?" in line


@pytest.mark.parametrize("text,expected", [
    ('[[rules]]\nname = "r"\ntemplate = "after_trigger"\nwindow_hours = -1\n',
     "rules[0].window_hours = -1: input should be greater than or equal to 0"),
    ('[[rules]]\nname = "r"\ntemplate = "contradiction"\nsame = "a"\ndiffer = "b"\n',
     "rules[0].window_hours = 0.0: the contradiction template needs window_hours > 0"),
    ("[windows]\njourney_gap_hours = 1e12\n", "windows.journey_gap_hours = 1000000000000.0: input should be less"),
    ("[windows]\nfriction_minutes = 0\n", "windows.friction_minutes = 0: input should be greater than 0"),
    ("[windows]\nlandmark_days = 3651\n", "windows.landmark_days = 3651: input should be less than or equal to 3650"),
    ("[windows]\nces_easy_min = 8\n", "windows.ces_easy_min = 8: input should be less than or equal to 7"),
    ("[windows]\nrepeat_contact_days = nan\n", "windows.repeat_contact_days = nan: input should be a finite number"),
    ("load_batch_rows = 1e12\n", "load_batch_rows = 1000000000000.0: input should be less than or equal to 10000000"),
    ('load_batch_rows = "lots"\n', "load_batch_rows = 'lots': input should be a valid integer"),
    ("load_batch_rows = 0\n", "load_batch_rows = 0: input should be greater than or equal to 1"),
    ("freshness_target_s = inf\n", "freshness_target_s = inf: input should be a finite number"),
    ("freshness_targets = { crm = 0 }\n", "freshness_targets.crm = 0: input should be greater than 0"),
    ("targets = { continuity_rate = 80 }\n", "is a rate: its target is between 0 and 1, not 80"),
    ('schedules = { freshness = "*/5 * * *" }\n',
     "schedules.freshness = '*/5 * * *': not a cron expression (minute hour day month weekday): Wrong number"),
    ('schedules = { effort = "61 * * * *" }\n', "schedules.effort = '61 * * * *': not a cron expression"),
])
def test_bad_value_names_source_key_and_value(toml, text, expected):
    path = toml(text)
    [line] = problems()
    assert line.startswith(f"{path}: ") and expected in line


def test_several_problems_one_line_each(toml):
    toml('hash_slat = "x"\nload_batch_rows = 0\n[windows]\nlandmark_days = 0\n')
    lines = problems()
    assert len(lines) == 3
    assert {line.split(": ")[1].split(" = ")[0] for line in lines} == {"hash_slat", "load_batch_rows",
                                                                      "windows.landmark_days"}


def test_environment_variable_with_bad_value_is_named(toml, monkeypatch):
    monkeypatch.setenv("SEAMLINE_LOAD_BATCH_ROWS", "lots")
    [line] = problems()
    assert line.startswith("environment variable SEAMLINE_LOAD_BATCH_ROWS: load_batch_rows = 'lots': ")

    monkeypatch.setenv("SEAMLINE_LOAD_BATCH_ROWS", "5000")
    monkeypatch.setenv("SEAMLINE_WINDOWS", '{"landmark_days": 0}')
    [line] = problems()
    assert line.startswith("environment variable SEAMLINE_WINDOWS: windows.landmark_days = 0: ")

    monkeypatch.setenv("SEAMLINE_SCHEDULES", '{"frshness": "* * * * *"}')
    monkeypatch.delenv("SEAMLINE_WINDOWS")
    [line] = problems()
    assert line == ("environment variable SEAMLINE_SCHEDULES: schedules.frshness = '* * * * *': "
                    "unknown job; did you mean 'freshness'?")

    monkeypatch.delenv("SEAMLINE_SCHEDULES")
    monkeypatch.setenv("SEAMLINE_WINDOWS", "{landmark_days = 0}")
    [line] = problems()
    assert line.startswith("environment variable SEAMLINE_WINDOWS: windows = '{landmark_days = 0}': not JSON")


def test_environment_overrides_file_and_stray_variables_are_ignored(toml, monkeypatch):
    toml("load_batch_rows = -1\n")
    monkeypatch.setenv("SEAMLINE_LOAD_BATCH_ROWS", "5000")  # takes precedence over the file's bad value
    for name in ("SEAMLINE_DEBUG", "SEAMLINE_TEST_CLICKHOUSE_URL", "SEAMLINE_NOT_A_SETTING"):
        monkeypatch.setenv(name, "1")
    assert Settings().load_batch_rows == 5000


def test_constructor_arguments_are_checked_too(toml):
    [line] = problems(load_batch_rows=0)
    assert line == "Settings() argument: load_batch_rows = 0: input should be greater than or equal to 1"
    [line] = problems(hash_slat="x")
    assert "did you mean 'hash_salt'?" in line


def test_invalid_toml_is_one_line_naming_file_and_line(toml):
    path = toml('hash_salt = "x"\nload_batch_rows = \n')
    [line] = problems()
    assert line.startswith(f"{path}: not valid TOML: ") and "line 2" in line
    path.write_bytes(b'hash_salt = "x"\n\n# caf\xe9\n')
    [line] = problems()
    assert line == f"{path}: not valid TOML: invalid UTF-8 at line 3"


def test_cli_prints_one_line_without_traceback(toml, tmp_path):
    path = toml("winddows = { journey_gap_hours = 24 }\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLINE_")}
    env |= {"SEAMLINE_CONFIG": str(path), "SEAMLINE_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([sys.executable, "-m", "seamline.cli", "quarantine"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "winddows" in proc.stderr and "did you mean 'windows'?" in proc.stderr


def test_default_settings_do_not_import_the_scheduler():
    code = ("import sys; from seamline.config import Settings; Settings(); "
            "print('apscheduler' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEAMLINE_")}
    env["SEAMLINE_CONFIG"] = os.devnull + ".none.toml"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
