"""One typed settings object, read from SEAMLINE_* variables and seamline.toml.

Built by the CLI or the app factory, never at import time.  Every setting has a
default that works on a laptop.

Strict: an unknown key, a number out of range, an unknown job or a bad cron
string is a ``ConfigError`` when the settings are built, one line per problem
naming the source, the key and the value (never pydantic's own report).
Unknown ``SEAMLINE_*`` environment variables are not settings and are ignored
(``SEAMLINE_CONFIG``, ``SEAMLINE_DEBUG``, the tests' variables, ...).
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Iterable, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

import seamline.alerts.models as _alerts  # the alert rules and receivers (no config import there)


class ConfigError(ValueError):
    """Invalid configuration: one line per problem, each naming where the value
    came from (the seamline.toml path or the environment variable), the key and
    the value."""


# Durations stop at ten years: anything longer is a typo (1e12), and the jobs
# turn windows into Int64 milliseconds.
MAX_DAYS = 3650
MAX_HOURS = MAX_DAYS * 24
MAX_SECONDS = MAX_HOURS * 3600

# Unknown keys are errors, and so are nan and inf (TOML and float() accept both).
STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


def _one_of(value: str, names: Iterable[str], what: str) -> str:
    names = list(names)
    if value not in names:
        close = difflib.get_close_matches(value, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(names)}"
        raise ValueError(f"unknown {what}; {hint}")
    return value


def _known_job(name: str) -> str:
    from seamline.jobs import JOBS  # the registry: a few small modules, no SQL read

    return _one_of(name, JOBS, "job")


def _valid_cron(expr: str) -> str:
    # Checked here rather than when the scheduler starts, which a bad one used to kill.
    from apscheduler.triggers.cron import CronTrigger  # lazily: `seamline --help` stays instant

    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as e:
        raise ValueError(f"not a cron expression (minute hour day month weekday): {e}") from None
    return expr


def _known_kpi(name: str) -> str:
    from seamline.kpis import known_names  # the KPI registry (pure modules, cheap)

    return _one_of(name, known_names(), "KPI")


JobName = Annotated[str, AfterValidator(_known_job)]
Cron = Annotated[str, AfterValidator(_valid_cron)]
KpiName = Annotated[str, AfterValidator(_known_kpi)]
Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS)]

# A KPI target is on the KPI's own scale: a rate is 0.95, not 95; CES is scored 1..7.
KPI_TARGET_RANGES = {"pct": ("a rate", 0, 1), "score": ("a CES score", 1, 7),
                     "seconds": ("in seconds", 0, MAX_SECONDS), "count": ("a count", 0, 10**9), "number": ("a number", 0, 10**9)}


class Windows(BaseModel):
    """Metric windows (SPEC §3).  All windows are closed intervals."""

    model_config = STRICT

    journey_gap_hours: float = Field(default=48.0, gt=0, le=MAX_HOURS)
    friction_minutes: float = Field(default=30.0, gt=0, le=MAX_HOURS * 60)
    repeat_contact_days: float = Field(default=7.0, gt=0, le=MAX_DAYS)
    landmark_days: int = Field(default=30, ge=1, le=MAX_DAYS)
    ces_easy_min: int = Field(default=5, ge=1, le=7)  # CES answers are 1..7


class Rule(BaseModel):
    """A conflicting-message rule: a template (one SQL file) plus its parameters.

    Templates:
    - ``after_trigger``: an outbound message matching ``message`` within
      ``window_hours`` after the same customer's ``trigger_type`` event whose
      attrs ``match`` the message's attrs.
    - ``during_open_case``: an outbound message matching ``message`` while the
      customer has a case opened by a ``contact`` on ``case_topic`` with no
      ``resolution`` yet.
    - ``contradiction``: two outbound messages on different channels within
      ``window_hours`` with the same ``same`` attr and a different ``differ`` attr.
    """

    model_config = STRICT

    name: str
    template: str
    # validate_default: a windowed rule that leaves it out must fail, not match nothing
    window_hours: float = Field(default=0.0, ge=0, le=MAX_HOURS, validate_default=True)
    message: dict[str, str] = Field(default_factory=dict)
    trigger_type: str = ""
    match: list[str] = Field(default_factory=list)
    case_topic: str = ""
    same: str = ""
    differ: str = ""
    enabled: bool = True

    @field_validator("template")
    @classmethod
    def _known_template(cls, value: str) -> str:
        return _one_of(value, RULE_TEMPLATES, "rule template")

    @field_validator("window_hours")
    @classmethod
    def _window_when_used(cls, value: float, info: ValidationInfo) -> float:
        # A window of 0 (or -1) used to give 0 incidents without a word.
        template = info.data.get("template")
        if template in WINDOWED_TEMPLATES and value <= 0:
            raise ValueError(f"the {template} template needs window_hours > 0")
        return value


RULE_TEMPLATES = ("after_trigger", "during_open_case", "contradiction")
WINDOWED_TEMPLATES = ("after_trigger", "contradiction")

DEFAULT_RULES = [
    Rule(name="promo_after_purchase", template="after_trigger", window_hours=14 * 24,
         message={"kind": "promo"}, trigger_type="purchase", match=["product"]),
    Rule(name="promo_during_open_complaint", template="during_open_case",
         message={"kind": "promo"}, case_topic="complaint"),
    Rule(name="contradictory_status", template="contradiction", window_hours=24,
         same="subject", differ="status"),
]


def toml_path() -> Path:
    return Path(os.environ.get("SEAMLINE_CONFIG", "seamline.toml"))


def read_toml(path: Path) -> dict[str, Any]:
    """The file's data, or a one-line ``ConfigError`` naming the file and the line."""
    raw = path.read_bytes()
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not valid TOML: invalid UTF-8 at line {line}") from None
    except tomllib.TOMLDecodeError as e:  # its message ends "(at line L, column C)"
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


class Settings(BaseSettings):
    """Seamline configuration.  Environment: ``SEAMLINE_<NAME>``; file: ``seamline.toml``."""

    model_config = SettingsConfigDict(env_prefix="SEAMLINE_", extra="forbid", allow_inf_nan=False)

    data_dir: Path = Field(default=Path(".seamline"), description="where the embedded warehouse, metadata DB and sample data live")
    warehouse: str = Field(default="", description="ClickHouse DSN; default chdb:///<data_dir>/warehouse")
    warehouse_database: str = Field(default="seamline", description="ClickHouse database holding Seamline's tables")
    metadata_url: str = Field(default="", description="SQLAlchemy URL; default sqlite:///<data_dir>/metadata.db")
    cluster: str = Field(default="", description="ClickHouse cluster name: renders ON CLUSTER and Replicated engines")
    hash_salt: str = Field(default="", description="salt for the SHA-256 of emails and phones; empty: the installation's own, generated by init and stored in the warehouse (a salt that differs from the stored data's is refused)")
    # Customer data governance (SPEC §2, §8; seamline.governance, docs/privacy.md)
    identity_blocked_values: list[str] = Field(default_factory=list, description="identifier values ignored as identifiers, besides SPEC §2's (e.g. a shared mailbox); case-insensitive")
    identity_blocked_patterns: list[str] = Field(default_factory=list, description="regular expressions (RE2) of identifier values ignored as identifiers, matched against the normalised value")
    retention_days: int = Field(default=0, ge=0, le=MAX_DAYS * 10, description="events older than this many days (by occurred_at) are dropped by ClickHouse (a TTL); 0: kept")
    quarantine_retention_days: int = Field(default=30, ge=0, le=MAX_DAYS * 10, description="quarantined rows older than this many days are dropped by ClickHouse (a TTL); 0: kept")
    identity_max_identifiers: int = Field(default=50, ge=2, le=10**9, description="a customer with more identifiers is reported as a suspected over-merge")
    # A batch is held in memory while it is parsed: ten million rows is already several GB.
    load_batch_rows: int = Field(default=200_000, ge=1, le=10_000_000, description="rows per load batch (memory bound)")
    freshness_target_s: Seconds = Field(default=300.0, description="default p95 lag target per source-hour (seconds)")
    freshness_targets: dict[str, Seconds] = Field(default_factory=dict, description="per-source p95 lag targets (seconds)")
    windows: Windows = Field(default_factory=Windows)
    rules: list[Rule] = Field(default_factory=lambda: list(DEFAULT_RULES), description="conflicting-message rules")
    schedules: dict[JobName, Cron] = Field(default_factory=dict, description="cron overrides per job name")
    targets: dict[KpiName, float] = Field(default_factory=dict, description="KPI targets shown on the dashboard")
    auth_user: str = Field(default="", description="HTTP basic auth user for the dashboard")
    auth_password: str = Field(default="", description="HTTP basic auth password for the dashboard")
    auth_token: str = Field(default="", description="bearer token accepted by the dashboard")
    display_timezone: str = Field(default="UTC", description="default display time zone of the dashboard")
    # Sources in place (SPEC §6) and alerts (SPEC §7): each entry is checked by
    # its feature's own model (seamline.sources, seamline.alerts).
    sources: list[dict[str, Any]] = Field(default_factory=list, description="event tables read in place ([[sources]])")
    alerts: Annotated[list[_alerts.AlertRule], AfterValidator(_alerts.check_rules)] = Field(default_factory=list, description="alert rules ([[alerts]])")
    receivers: Annotated[list[_alerts.Receiver], AfterValidator(_alerts.check_receivers)] = Field(default_factory=list, validate_default=True, description="where alerts are sent ([[receivers]])")

    def __init__(self, **values: Any) -> None:
        # Every construction (CLI, app factory, scheduler, tests) gets the same
        # readable error; `from None` keeps pydantic's report out of tracebacks.
        try:
            super().__init__(**values)
        except ValidationError as e:
            raise ConfigError(explain(e, values)) from None
        except SettingsError as e:  # a table or list in an environment variable that is not JSON
            raise ConfigError(_explain_env_json() or str(e)) from None

    @field_validator("identity_blocked_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        import re

        for p in patterns:
            try:
                re.compile(p)
            except re.error as e:
                raise ValueError(f"{p!r} is not a regular expression: {e}") from None
        return patterns

    @field_validator("targets")
    @classmethod
    def _targets_on_kpi_scale(cls, targets: dict[str, float]) -> dict[str, float]:
        from seamline.kpis import kpi

        for key, value in targets.items():
            scale, lo, hi = KPI_TARGET_RANGES[kpi(key).unit]
            if not lo <= value <= hi:
                raise ValueError(f"{key} is {scale}: its target is between {lo:g} and {hi:g}, not {value:g}")
        return targets

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = toml_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path.is_file():
            read_toml(path)  # a syntax error as one line of ours, not tomllib's traceback
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # Derived values -----------------------------------------------------
    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def warehouse_dsn(self) -> str:
        return self.warehouse or f"chdb://{self.data_path / 'warehouse'}"

    @property
    def is_embedded(self) -> bool:
        return self.warehouse_dsn.startswith("chdb:")

    @property
    def metadata_dsn(self) -> str:
        return self.metadata_url or f"sqlite:///{self.data_path / 'metadata.db'}"

    def target_for(self, source: str) -> float:
        return float(self.freshness_targets.get(source, self.freshness_target_s))

    def active_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.enabled]


# Error messages -----------------------------------------------------------
_MISSING = object()


def _env_vars() -> dict[str, tuple[str, str]]:
    """Setting name -> (variable, raw value) of the SEAMLINE_* variables that set one
    (case-insensitive, as pydantic-settings reads them)."""
    present = {k.upper(): (k, v) for k, v in os.environ.items()}
    return {name: present[f"SEAMLINE_{name.upper()}"] for name in Settings.model_fields
            if f"SEAMLINE_{name.upper()}" in present}


def _is_structured(name: str) -> bool:
    """Tables and lists, which pydantic-settings reads from the environment as JSON."""
    ann = Settings.model_fields[name].annotation
    return get_origin(ann) in (list, dict) or (isinstance(ann, type) and issubclass(ann, BaseModel))


def _explain_env_json() -> str:
    lines = []
    for name, (var, raw) in _env_vars().items():
        if _is_structured(name):
            try:
                json.loads(raw)
            except ValueError as e:
                lines.append(f"environment variable {var}: {name} = {_short(raw)}: not JSON ({e})")
    return "\n".join(lines)


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return data


def _source_of(path: tuple, init: dict, env: dict[str, tuple[str, str]], toml: dict,
               toml_file: Path) -> tuple[str, Any]:
    """Where the value at ``path`` came from, in pydantic-settings' order of
    precedence, and that value; for a key left out (a default), the source of
    its table."""
    env_data = {}
    for name, (_, raw) in env.items():  # as pydantic-settings reads them: tables and lists as JSON
        try:
            env_data[name] = json.loads(raw) if _is_structured(name) else raw
        except ValueError:
            env_data[name] = raw
    sources = [("Settings() argument", init), (str(toml_file), toml)]
    if path[0] in env:
        sources.insert(1, (f"environment variable {env[path[0]][0]}", env_data))
    for n in range(len(path), 0, -1):
        for label, data in sources:
            if _get(data, path[:n]) is not _MISSING:
                return label, _get(data, path)
    return "default", _MISSING


def _model_at(path: tuple) -> Any:
    """The model (or type) at a location: ('rules', 2) -> Rule."""
    tp: Any = Settings
    for part in path:
        if isinstance(part, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
            tp = tp.model_fields[part].annotation
        while get_origin(tp) in (list, dict):  # step into the items
            tp = get_args(tp)[-1]
    return tp


def _key(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def _problem(err: dict, path: tuple) -> str:
    if err["type"] == "extra_forbidden":
        valid = list(_model_at(path[:-1]).model_fields)
        close = difflib.get_close_matches(str(path[-1]), valid, n=1)
        return f"unknown key; did you mean {close[0]!r}?" if close else f"unknown key; valid keys: {', '.join(valid)}"
    if err["type"] == "value_error":  # our validators' own words, without "Value error, "
        return str(err["ctx"]["error"])
    return err["msg"][0].lower() + err["msg"][1:]


def explain(error: ValidationError, init: dict[str, Any]) -> str:
    """Pydantic's errors as one line each: ``source: key = value: problem``."""
    path_file = toml_path()
    toml = read_toml(path_file) if path_file.is_file() else {}
    env = _env_vars()
    lines = []
    for err in error.errors():
        loc = tuple(err["loc"])
        is_key = loc[-1:] == ("[key]",)  # a dict key failed (schedules.<job>, targets.<kpi>)
        path = loc[:-1] if is_key else loc
        source, found = _source_of(path, init, env, toml, path_file)
        if err["type"] == "missing":
            value = "(missing)"
        else:  # for a key, the value it holds (the cron string), not the key again
            value = _short(found if is_key and found is not _MISSING else err["input"])
        line = f"{source}: {_key(path)} = {value}: {_problem(err, path)}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)
