"""The ``[[alerts]]`` rules and ``[[receivers]]`` of seamline.toml (SPEC §7),
checked when the settings are built: a bad duration, an unknown KPI or kind,
a rule naming a receiver that is not declared, each is one line naming the
key (``alerts[1].window = '2x': not a duration ...``).

Imported by ``seamline.config``: nothing here imports the config (or anything
heavy) at module level.
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from typing import Annotated, Any, Iterable, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)

KINDS = ("burn_rate", "regression", "kpi", "incidents", "stale")
RECEIVER_KINDS = ("webhook", "slack", "email", "apprise")
MAX_DURATION = timedelta(days=3650)

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> timedelta:
    """``"5m"``, ``"1h"``, ``"24h"``, ``"3d"``, ``"1h30m"`` (units s, m, h, d, w) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("not a duration: give a string with a unit, e.g. '5m', '1h', '24h', '3d'")
    text = value.strip().lower()
    parts = _PART.findall(text)
    if not text or "".join(f"{n}{u}" for n, u in parts) != text.replace(" ", ""):
        raise ValueError("not a duration: a number and a unit s, m, h, d or w, e.g. '5m', '1h', '24h', '3d'")
    out = timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))
    if out > MAX_DURATION:
        raise ValueError("a duration of at most ten years")
    return out


def format_duration(value: timedelta) -> str:
    """The short form of a duration (``timedelta(hours=6)`` -> ``6h``)."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _one_of(value: str, names: Iterable[str], what: str) -> str:
    names = list(names)
    if value not in names:
        close = difflib.get_close_matches(value, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(names)}"
        raise ValueError(f"unknown {what}; {hint}")
    return value


class Tier(BaseModel):
    """A burn-rate tier: it fires when the burn rate over both windows exceeds ``rate``."""

    model_config = STRICT

    long: Duration
    short: Duration
    rate: float = Field(gt=0, le=10_000)
    severity: str = "page"

    @model_validator(mode="after")
    def _short_is_shorter(self) -> "Tier":
        if self.short >= self.long:
            raise ValueError(f"short window {format_duration(self.short)} must be shorter than "
                             f"long window {format_duration(self.long)}")
        return self


# The SRE workbook's multiwindow, multi-burn-rate alerts (chapter 5, table 5-8).
SRE_TIERS = (
    Tier(long="1h", short="5m", rate=14.4, severity="page"),
    Tier(long="6h", short="30m", rate=6, severity="page"),
    Tier(long="1d", short="2h", rate=3, severity="ticket"),
    Tier(long="3d", short="6h", rate=1, severity="ticket"),
)

# What each kind reads (a key a kind does not use is an error, not ignored).
_USES = {
    "burn_rate": {"objective", "tiers", "sources", "min_volume"},
    "regression": {"sources", "window"},
    "kpi": {"kpi", "below", "above", "window", "min_volume"},
    "incidents": {"above", "window", "rules"},
    "stale": {"of", "names", "after"},
}
_COMMON = {"name", "kind", "receivers", "severity", "for_", "keep_firing_for", "repeat", "delay", "summary"}


class AlertRule(BaseModel):
    """One ``[[alerts]]`` entry (SPEC §7); see docs/alerts.md for every key."""

    model_config = STRICT

    name: str = Field(min_length=1, max_length=128)
    kind: str
    receivers: list[str] = Field(default_factory=list)
    severity: str = "warning"
    # how long the condition must hold before the alert fires (pending until then)
    for_: Duration = Field(default=timedelta(0), alias="for")
    # a firing alert whose condition clears stays firing this long (no flapping)
    keep_firing_for: Duration = timedelta(0)
    # a reminder while it fires
    repeat: Duration = timedelta(hours=4)
    # the evaluation delay: windows end this long before the evaluation time,
    # so that data still arriving (and an incomplete bucket) is never judged
    delay: Duration = timedelta(minutes=5)
    summary: str = ""
    # burn_rate
    objective: float | None = Field(default=None, gt=0, lt=1)
    tiers: list[Tier] = Field(default_factory=lambda: list(SRE_TIERS))
    sources: list[str] = Field(default_factory=list)
    # kpi / incidents
    kpi: str | None = None
    below: float | None = None
    above: float | None = None
    window: Duration | None = None
    min_volume: int = Field(default=0, ge=0)
    rules: list[str] = Field(default_factory=list)
    # stale
    of: Literal["jobs", "sources"] = "jobs"
    names: list[str] = Field(default_factory=list)
    after: Duration | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        return _one_of(value, KINDS, "alert kind")

    @field_validator("kpi")
    @classmethod
    def _known_kpi(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from seamline.kpis import known_names, kpi

        _one_of(value, known_names(), "KPI (a key of `metrics --json`)")
        return kpi(value).key

    @field_validator("window", "after", "for_", "repeat", "delay")
    @classmethod
    def _not_zero(cls, value: timedelta | None, info: ValidationInfo) -> timedelta | None:
        if value is not None and value <= timedelta(0) and info.field_name in ("window", "after", "repeat"):
            raise ValueError("must be longer than 0")
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> "AlertRule":
        given = {k for k in self.model_fields_set}
        unused = sorted(given - _COMMON - _USES[self.kind])
        if unused:
            raise ValueError(f"a {self.kind} rule does not use {', '.join(unused)}"
                             f" (it uses {', '.join(sorted(_USES[self.kind]))})")
        if self.kind == "burn_rate" and self.objective is None:
            raise ValueError("a burn_rate rule needs objective (e.g. 0.99: the share of events within target)")
        if self.kind == "burn_rate" and not self.tiers:
            raise ValueError("a burn_rate rule needs at least one tier")
        if self.kind == "kpi":
            if self.kpi is None:
                raise ValueError("a kpi rule needs kpi (a key of `metrics --json`, e.g. 'continuity.rate')")
            if (self.below is None) == (self.above is None):
                raise ValueError("a kpi rule needs exactly one of below or above")
        if self.kind == "kpi":
            from seamline.kpis import kpi

            bound = self.below if self.below is not None else self.above
            if kpi(self.kpi).unit == "pct" and not 0 <= bound <= 1:
                raise ValueError(f"{self.kpi} is a rate: its bound is between 0 and 1, not {bound:g}")
        if self.kind == "stale" and self.of == "jobs":
            from seamline.jobs import JOBS

            for name in self.names:
                _one_of(name, JOBS, "job")
        if self.kind == "incidents" and self.above is None:
            raise ValueError("an incidents rule needs above (alert when more incidents than this in window)")
        if self.kind in ("kpi", "incidents") and self.window is None:
            self.window = timedelta(hours=24)
        if self.kind == "regression" and self.window is None:
            self.window = timedelta(days=14)
        return self

    @property
    def effective_for(self) -> timedelta:
        return self.for_


class Receiver(BaseModel):
    """One ``[[receivers]]`` entry: where and how notifications are sent."""

    model_config = STRICT

    name: str = Field(min_length=1, max_length=128)
    kind: str
    url: str = ""                               # webhook, slack
    headers: dict[str, str] = Field(default_factory=dict)  # webhook (e.g. Authorization)
    timeout: float = Field(default=10.0, gt=0, le=300)    # seconds per delivery attempt
    max_attempts: int = Field(default=8, ge=1, le=100)
    # the dashboard's address, for the links in messages
    external_url: str = "http://127.0.0.1:8050"
    # email
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    starttls: bool = False
    ssl: bool = False
    sender: str = Field(default="seamline@localhost", alias="from")
    to: list[str] = Field(default_factory=list)
    # apprise: its notification URLs (tgram://, msteams://, pover://, ntfy://, json://, ...)
    urls: list[str] = Field(default_factory=list)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        return _one_of(value, RECEIVER_KINDS, "receiver kind")

    @model_validator(mode="after")
    def _fits_kind(self) -> "Receiver":
        if self.kind in ("webhook", "slack") and not re.match(r"^https?://[^/\s]+", self.url):
            raise ValueError(f"a {self.kind} receiver needs url = 'http(s)://…'")
        if self.kind == "email" and not self.to:
            raise ValueError("an email receiver needs to = ['someone@example.com', …]")
        if self.kind == "apprise":
            if not self.urls:
                raise ValueError("an apprise receiver needs urls = ['tgram://…', …] (see apprise's list of services)")
            try:
                import apprise
            except ImportError:
                raise ValueError("an apprise receiver needs the apprise package: pip install 'seamline[apprise]'") from None
            for url in self.urls:
                if apprise.Apprise.instantiate(url) is None:
                    raise ValueError(f"not a notification URL apprise knows: {url.split('://')[0]}://…")
        return self


def check_rules(rules: list[AlertRule]) -> list[AlertRule]:
    """Rule names are unique (an instance's fingerprint starts with its rule's name)."""
    seen: dict[str, int] = {}
    for i, r in enumerate(rules):
        if r.name in seen:
            raise ValueError(f"alerts[{i}].name {r.name!r} is also the name of alerts[{seen[r.name]}]")
        seen[r.name] = i
    return rules


def check_receivers(receivers: list[Receiver], info: ValidationInfo) -> list[Receiver]:
    """Receiver names are unique and every rule's receivers are declared."""
    names: dict[str, int] = {}
    for i, r in enumerate(receivers):
        if r.name in names:
            raise ValueError(f"receivers[{i}].name {r.name!r} is also the name of receivers[{names[r.name]}]")
        names[r.name] = i
    for i, rule in enumerate(info.data.get("alerts") or []):
        for j, name in enumerate(rule.receivers):
            if name not in names:
                close = difflib.get_close_matches(name, list(names), n=1)
                hint = (f"did you mean {close[0]!r}?" if close else
                        f"declared: {', '.join(names)}" if names else "no [[receivers]] are declared")
                raise ValueError(f"alerts[{i}].receivers[{j}] = {name!r} ({rule.name}): unknown receiver; {hint}")
    return receivers

