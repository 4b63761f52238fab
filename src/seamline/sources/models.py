"""The ``[[sources]]`` of seamline.toml (SPEC §6), checked by their own model.

``Settings.sources`` holds the raw tables; ``parse_sources(settings)`` turns
them into ``Source`` objects or raises ``ConfigError`` with one line per
problem naming the key (``sources[0].kind = 'postgres': unknown kind; ...``).
Nothing here imports the config or anything heavy at module level.
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from typing import Annotated

KINDS = ("posthog", "rudderstack", "snowplow", "otel_logs", "table")
# canonical fields a mapping gives (SPEC §1), in the order of a mapped row
FIELDS = ("event_id", "occurred_at", "ingested_at", "source", "channel", "direction", "type", "customer_id",
          "anonymous_id", "email", "phone", "topic", "case_id", "attrs")
REQUIRED = ("event_id", "occurred_at", "source", "channel", "direction", "type")
IDENTIFIERS = ("customer_id", "anonymous_id", "email", "phone")
DEFAULT_TABLE = {"snowplow": "events", "otel_logs": "otel_logs"}
DEFAULT_SCHEDULE = "*/5 * * * *"
DEFAULT_LOOKBACK = "10m"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# an operator's expression may not end the statement, comment out the rest or
# bring a query of its own (string literals are blanked out before the check)
_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'")
_FORBIDDEN = re.compile(r";|--|/\*|\*/|#|\b(select|from|union|settings|into|with|join)\b", re.IGNORECASE)


def check_expression(expr: Any) -> str:
    """A ClickHouse expression from config, checked as text: one expression,
    no statement end, comment or subquery.  (``seamline.sources.mapping``
    also has ClickHouse parse it before it runs.)"""
    if not isinstance(expr, str) or not expr.strip():
        raise ValueError("an expression must be a non-empty string of ClickHouse SQL")
    if len(expr) > 2000:
        raise ValueError("an expression of at most 2,000 characters")
    bare = _STRING.sub("''", expr)
    if bare.count("'") % 2:
        raise ValueError("not a single expression: unterminated string literal")
    m = _FORBIDDEN.search(bare)
    if m:
        raise ValueError(f"not a single expression: {m.group(0)!r} is not allowed (one expression over the "
                         "source table's columns: no ';', comments or subqueries)")
    return expr


def _known_field(key: str) -> str:
    if key not in FIELDS:
        close = difflib.get_close_matches(key, FIELDS, n=1)
        raise ValueError(f"not a canonical field; {'did you mean ' + repr(close[0]) + '?' if close else 'use one of ' + ', '.join(FIELDS)}")
    return key


FieldName = Annotated[str, AfterValidator(_known_field)]
Expression = Annotated[str, AfterValidator(check_expression)]


def parse_duration(value: Any) -> timedelta:
    from seamline.alerts.models import parse_duration as parse  # the shared '10m' / '1h' form

    return parse(value)


class Source(BaseModel):
    """One ``[[sources]]`` entry."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(description="source name; also the default `source` value of its events")
    kind: str = Field(description="posthog | rudderstack | snowplow | otel_logs | table")
    database: str = Field(description="a database on the warehouse's server")
    table: str = Field(default="", description="the events table (snowplow, otel_logs, table)")
    types: dict[str, str] = Field(default_factory=dict, description="event name -> canonical type")
    fields: dict[FieldName, Expression] = Field(default_factory=dict, description="ClickHouse expression per canonical field")
    insert_time: str = Field(default="", description="expression of the row's insert time (incremental sync)")
    lookback: str = Field(default=DEFAULT_LOOKBACK, description="how far before the watermark a sync reads again")
    schedule: str = Field(default=DEFAULT_SCHEDULE, description="cron schedule of the sync job")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("a lowercase token: letters, digits, '_', '.', '-' (at most 64)")
        return v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in KINDS:
            close = difflib.get_close_matches(v, KINDS, n=1)
            raise ValueError(f"unknown kind; {'did you mean ' + repr(close[0]) + '?' if close else 'use one of ' + ', '.join(KINDS)}")
        return v

    @field_validator("database", "table")
    @classmethod
    def _ident(cls, v: str) -> str:
        if v and not _IDENT.match(v):
            raise ValueError("not a plain identifier (letters, digits and '_')")
        return v

    @field_validator("insert_time")
    @classmethod
    def _insert_time(cls, v: str) -> str:
        return check_expression(v) if v else v

    @field_validator("types")
    @classmethod
    def _types(cls, v: dict[str, str]) -> dict[str, str]:
        for name, typ in v.items():
            if not re.match(r"^[a-z][a-z0-9_]*$", typ):
                raise ValueError(f"types[{name!r}] = {typ!r}: a canonical type is a lowercase token (e.g. 'contact')")
        return v

    @field_validator("lookback")
    @classmethod
    def _lookback(cls, v: str) -> str:
        parse_duration(v)
        return v

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(v, timezone="UTC")
        except ValueError as e:
            raise ValueError(f"not a cron expression (minute hour day month weekday): {e}") from None
        return v

    @model_validator(mode="after")
    def _table_needs(self) -> "Source":
        if self.kind == "table":
            if not self.table:
                raise ValueError("kind 'table' needs `table` (the events table)")
        elif self.kind in ("posthog", "rudderstack") and self.table:
            raise ValueError(f"kind {self.kind!r} reads its own tables: leave out `table`")
        return self

    # Derived ---------------------------------------------------------------
    @property
    def lookback_delta(self) -> timedelta:
        return parse_duration(self.lookback)

    @property
    def events_table(self) -> str:
        return self.table or DEFAULT_TABLE.get(self.kind, "events")

    @property
    def file_key(self) -> str:
        """What the quarantine and the load log name this source by."""
        return f"source:{self.name}"


def _line(i: int, err: dict, raw: list[Any]) -> str:
    is_key = err["loc"][-1:] == ("[key]",)
    loc = [p for p in err["loc"] if p != "[key]"]
    key = f"sources[{i}]" + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in loc)
    value: Any = raw[i] if isinstance(raw[i], dict) else raw[i]
    for p in loc:
        value = value.get(p, "(missing)") if isinstance(value, dict) else value
    if err["type"] == "missing":
        value = "(missing)"
    if is_key:
        value = loc[-1]
    msg = str(err["ctx"]["error"]) if err["type"] == "value_error" else err["msg"][0].lower() + err["msg"][1:]
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), list(Source.model_fields), n=1)
        msg = f"unknown key; did you mean {close[0]!r}?" if close else \
            f"unknown key; valid keys: {', '.join(Source.model_fields)}"
    shown = repr(value) if not isinstance(value, str) or value != "(missing)" else value
    if isinstance(value, dict) and len(shown) > 60:
        shown = shown[:59] + "…"
    return f"{key} = {shown}: {msg}"


def parse_sources(raw: list[dict[str, Any]]) -> list[Source]:
    """The configured sources, checked; ``ConfigError`` (one line per problem) otherwise."""
    from seamline.config import ConfigError

    out, lines = [], []
    for i, entry in enumerate(raw or []):
        if not isinstance(entry, dict):
            lines.append(f"sources[{i}] = {entry!r}: a table ([[sources]]) with name, kind and database")
            continue
        try:
            out.append(Source.model_validate(entry))
        except ValidationError as e:
            lines.extend(_line(i, err, raw) for err in e.errors())
    seen: dict[str, int] = {}
    for i, s in enumerate(out):
        if s.name in seen:
            lines.append(f"sources[{i}].name = {s.name!r}: declared twice (also sources[{seen[s.name]}])")
        seen.setdefault(s.name, i)
    if lines:
        where = _where_from(raw)
        raise ConfigError("\n".join(f"{where}: {line}" if where else line for line in lines))
    return out


def _where_from(raw: list[Any]) -> str:
    """Where the sources came from, as the config's errors name it (environment variable, seamline.toml)."""
    import os

    from seamline.config import read_toml, toml_path

    if os.environ.get("SEAMLINE_SOURCES"):
        return "environment variable SEAMLINE_SOURCES"
    path = toml_path()
    try:
        if path.is_file() and read_toml(path).get("sources") == raw:
            return str(path)
    except Exception:
        pass
    return ""


Kind = Literal["posthog", "rudderstack", "snowplow", "otel_logs", "table"]
