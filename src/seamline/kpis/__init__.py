"""The KPI registry: one module per KPI family declares its KPIs and how they
are computed, and everything that shows or checks a KPI iterates over it —
``metrics --json``, the overview's tiles, sparklines and period comparison,
the page headlines, the golden tests and the alerts (which name a KPI by its
key).

A family module (``continuity.py``) holds a ``FAMILY``: its KPIs, the
function computing the family's part of ``metrics --json`` for a period, and
its per-day frame; its SQL is in the ``.sql`` file of the same name, one
``-- name:`` statement per query (``seamline.sqlfile``).  The rollups it reads
are written by the job of the same name (``jobs/continuity.sql``).

Adding a KPI of an existing shape: a ``Kpi`` line in its family module, its
SQL there, and its golden expectation in ``tests/golden/<family>.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from seamline.config import Settings
    from seamline.warehouse import Warehouse

UNITS = ("pct", "seconds", "score", "count", "number")


@dataclass(frozen=True)
class Kpi:
    key: str                  # its path in ``metrics --json`` (alerts and targets name it so)
    name: str                 # short id: the overview's tile, the per-day column, the target's old name
    label: str
    unit: str                 # pct | seconds | score (CES, 1..7) | count | number
    higher_is_better: bool
    # the target shown when seamline.toml sets none (a number, or read from the settings)
    default_target: float | Callable[["Settings"], float] | None = None
    # (successes, trials) keys in the family's output: a rate's Wilson
    # interval and two-proportion test; trials is its volume
    counts: tuple[str, str] | None = None
    # the key of its volume (the denominator an alert's min_volume counts) when not counts[1]
    volume: str | None = None
    # the test of a change between two periods when not the rate test:
    # (family output now, before) -> p-value or None
    compare: Callable[[Mapping[str, Any], Mapping[str, Any]], float | None] | None = None
    # its value when not the number at ``key`` (e.g. over retention's segments)
    value: Callable[[Mapping[str, Any]], float | None] | None = None
    # a caveat on its value, for people (family output -> text or None), e.g.
    # a survival carried forward past the longest follow-up
    caveat: Callable[[Mapping[str, Any]], str | None] | None = None
    # what it measures, for people (the tiles' and the CLI's definitions);
    # {w.<window>} and {s.<setting>} are filled from the settings
    definition: str = ""
    tile: bool = False        # on the overview (tiles, comparison table), in registry order
    daily: bool = False       # a column ``name`` of the family's per-day frame

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"KPI {self.key}: unit {self.unit!r} is not one of {UNITS}")

    @property
    def family(self) -> str:
        return self.key.split(".", 1)[0]

    def of(self, metrics: Mapping[str, Any]) -> float | None:
        """This KPI's value in a ``metrics --json`` object (None: no data)."""
        if self.value is not None:
            return self.value(metrics.get(self.family) or {})
        node: Any = metrics
        for part in self.key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
            if node is None:
                return None
        return float(node)

    def volume_of(self, metrics: Mapping[str, Any]) -> int | None:
        """How many observations its value rests on (None when it has no volume)."""
        key = self.volume or (self.counts[1] if self.counts else None)
        if key is None:
            return None
        return _total(metrics.get(self.family) or {}, key.split("."))

    def target(self, settings: "Settings") -> float | None:
        targets = settings.targets or {}
        for k in (self.key, self.name):
            if k in targets:
                return float(targets[k])
        t = self.default_target
        return float(t(settings)) if callable(t) else t

    def caveat_of(self, metrics: Mapping[str, Any]) -> str | None:
        return None if self.caveat is None else self.caveat(metrics.get(self.family) or {})

    def describe(self, settings: "Settings") -> str:
        """Its definition with the configured windows and targets filled in."""
        return self.definition.format(w=settings.windows, s=settings)

    def p_value(self, cur: Mapping[str, Any], prev: Mapping[str, Any]) -> float | None:
        """The p-value of the change from ``prev`` to ``cur`` (None: no test)."""
        a, b = cur.get(self.family) or {}, prev.get(self.family) or {}
        if self.compare is not None:
            return self.compare(a, b)
        if self.counts is None:
            return None
        from seamline.stats.intervals import two_proportions

        s, n = self.counts
        return two_proportions(int(a.get(s) or 0), int(a.get(n) or 0), int(b.get(s) or 0), int(b.get(n) or 0)).p_value


def _total(node: Any, path: list[str]) -> int | None:
    """The number at ``path`` in ``node``; a ``*`` step sums over every child."""
    for i, part in enumerate(path):
        if not isinstance(node, Mapping):
            return None
        if part == "*":
            parts = [_total(child, path[i + 1:]) for child in node.values()]
            return sum(p for p in parts if p is not None) if any(p is not None for p in parts) else None
        node = node.get(part)
    return None if node is None else int(node)


@dataclass(frozen=True)
class Family:
    name: str
    kpis: tuple[Kpi, ...]
    # (wh, settings, Period) -> the family's part of ``metrics --json``
    period: Callable[["Warehouse", "Settings", "Period"], dict[str, Any]]
    # intervals beyond the Wilson ones of its rates (added to the output in place)
    intervals: Callable[[dict[str, Any]], None] | None = None
    # (wh, settings, Period) -> one row per UTC day with ``day`` and its KPIs' ``name`` columns
    daily: Callable[["Warehouse", "Settings", "Period"], "pd.DataFrame"] | None = None
    daily_volume: str | None = None   # the per-day column that says whether a day has data
    costly: bool = False              # computed first when families run concurrently

    def __post_init__(self) -> None:
        wrong = [k.key for k in self.kpis if k.family != self.name]
        if wrong:
            raise ValueError(f"family {self.name}: KPI keys {wrong} do not start with '{self.name}.'")


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC, and the bound parameters of a period's SQL."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: date | datetime, end: date | datetime) -> "Period":
        return cls(as_utc(start), as_utc(end))

    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "start_day": self.start.date(), "end_day": self.end.date()}

    def full_days(self) -> dict[str, Any]:
        """The whole UTC days inside the period as ``full_from`` <= day <
        ``full_to`` (equal when there are none)."""
        s, e = self.start, self.end
        first = s.date() if s == datetime.combine(s.date(), time(0), s.tzinfo) else s.date() + timedelta(days=1)
        return {"full_from": first, "full_to": max(first, e.date())}


def as_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.combine(value, time(0), tzinfo=timezone.utc)


def rate(num: float | None, den: float | None) -> float | None:
    return None if not den else float(num or 0) / float(den)


def sql(family: str, name: str) -> str:
    """A named statement of ``seamline/kpis/<family>.sql``."""
    from seamline.sqlfile import statement

    return statement("seamline.kpis", family, name)


def frame(wh: "Warehouse", text: str, params: Mapping[str, Any], columns: list[str]) -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame([list(r) for r in wh.rows(text, dict(params))], columns=columns)


def families() -> tuple[Family, ...]:
    """Every KPI family, in the order of ``metrics --json``."""
    from seamline.kpis import continuity, effort, freshness, incidents, retention, silence

    return tuple(m.FAMILY for m in (freshness, continuity, silence, effort, retention, incidents))


def all_kpis() -> tuple[Kpi, ...]:
    return tuple(k for f in families() for k in f.kpis)


def tiles() -> tuple[Kpi, ...]:
    """The KPIs of the overview (its tiles and its period comparison)."""
    return tuple(k for k in all_kpis() if k.tile)


def kpi(key: str) -> Kpi:
    """The KPI named ``key`` (its ``metrics --json`` key, or its short name)."""
    for k in all_kpis():
        if key in (k.key, k.name):
            return k
    raise KeyError(key)


def known_names() -> list[str]:
    return [n for k in all_kpis() for n in (k.key, k.name)]
