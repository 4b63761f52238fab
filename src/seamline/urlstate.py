"""The view state every dashboard page shares — period, comparison, filters,
display time zone, identifier masking — parsed from an untrusted URL query
string with every value validated or clamped, and serialised back so a view
can be shared as a link.  Known filter values come from the rollups.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import urlencode

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings
    from seamline.warehouse import Warehouse

PRESETS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PRESET = "30d"
MAX_SPAN_DAYS = 3 * 366
MIN_YEAR, MAX_YEAR = 1900, 2200
MAX_VALUE_LEN = 256
MAX_LIST = 50
TIMEZONES = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago",
             "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"1", "true", "yes", "on"}
FAR_PAST = datetime(1970, 1, 2, tzinfo=timezone.utc)
log = logging.getLogger("seamline.dashboard")


# --------------------------------------------------------------------------
# Known values (filters must be among them)
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Known:
    channels: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    first_at: datetime | None = None
    end_of_data: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.end_of_data is None


_known_cache: dict[tuple[str, str], tuple[float, Known]] = {}
_known_lock = threading.Lock()
KNOWN_TTL_S = 30.0


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return None


def known_values(wh: "Warehouse", settings: "Settings", fresh: bool = False) -> Known:
    """Channels, sources, topics and rules present in the rollups (cached briefly)."""
    key = (wh.dsn, wh.database)
    now = time.monotonic()
    with _known_lock:
        hit = _known_cache.get(key)
    if hit and not fresh and now - hit[0] < KNOWN_TTL_S:
        return hit[1]
    bounds = wh.rows("SELECT first_at, last_at, events FROM data_bounds FINAL")
    first_at = eod = None
    if bounds and bounds[0][2]:
        first_at, eod = _utc(bounds[0][0]), _utc(bounds[0][1])
    failed: list[str] = []

    def values(sql: str, what: str) -> list[str]:
        # a filter's choices are a convenience: a rollup that cannot be read
        # leaves its filter empty (its cards say what failed), not the page
        try:
            return [r[0] for r in wh.rows(sql)]
        except Exception:
            log.exception("known %s unavailable", what)
            failed.append(what)
            return []

    channels = values(
        "SELECT DISTINCT channel FROM freshness_hourly UNION DISTINCT SELECT DISTINCT from_channel FROM transitions "
        "UNION DISTINCT SELECT DISTINCT to_channel FROM transitions", "channels")
    sources = values("SELECT DISTINCT source FROM freshness_source_hourly", "sources")
    topics = values("SELECT DISTINCT topic FROM contacts UNION DISTINCT SELECT DISTINCT topic FROM surveys", "topics")
    rules = {r.name for r in settings.active_rules()} | set(values("SELECT DISTINCT rule FROM incidents", "rules"))
    known = Known(tuple(sorted(c for c in channels if c)), tuple(sorted(s for s in sources if s)),
                  tuple(sorted(t for t in topics if t)), tuple(sorted(rules)), _clamp(first_at), _clamp(eod))
    if not failed:  # a partial answer is not kept: the next view asks again
        with _known_lock:
            _known_cache[key] = (now, known)
    return known


# the last instant whose following day is still a date (9999-12-31 + 1 day overflows)
LATEST = datetime(MAX_YEAR, 12, 30, tzinfo=timezone.utc)


def _clamp(value: datetime | None) -> datetime | None:
    """A data bound the period arithmetic can use: at most ``LATEST``."""
    return None if value is None else min(value, LATEST)


def clear_known() -> None:
    with _known_lock:
        _known_cache.clear()


# --------------------------------------------------------------------------
# View state from / to the URL
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class State:
    preset: str
    start: datetime          # UTC, inclusive: the first day's midnight in the zone ``tz``
    end: datetime            # UTC, exclusive: the midnight after the last day in ``tz``
    compare: bool = False
    channels: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    tz: str = "UTC"
    show_ids: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)
    # what the URL asked for that could not be shown, for people ("from=2026-13-45
    # is not a date: ..."); the view falls back to the defaults
    notices: tuple[str, ...] = ()

    @property
    def span(self) -> timedelta:
        """Whole days (a period over a daylight-saving change is still N days)."""
        return timedelta(days=(self.date_to - self.date_from).days + 1)

    @property
    def prev_start(self) -> datetime:
        return zone_midnight(self.date_from - self.span, self.tz)

    @property
    def prev_end(self) -> datetime:
        return self.start

    @property
    def date_from(self) -> date:
        """The first day, in the display zone (``start`` is its midnight there)."""
        return _local_day(self.start, self.tz)

    @property
    def date_to(self) -> date:
        """Inclusive last day (the URL and date picker speak inclusive days)."""
        return _local_day(self.end, self.tz) - timedelta(days=1)

    def previous(self) -> "State":
        return replace(self, start=self.prev_start, end=self.prev_end, preset="custom")

    def params(self) -> dict[str, Any]:
        """Bound parameters shared by most queries."""
        return {"start": self.start, "end": self.end, "start_day": self.date_from,
                "end_day": self.date_to + timedelta(days=1), "tz": self.tz,
                "channels": list(self.channels), "sources": list(self.sources), "topics": list(self.topics)}


def _local_day(instant: datetime, tz: str) -> date:
    from zoneinfo import ZoneInfo

    return instant.astimezone(ZoneInfo(tz)).date()


def zone_midnight(day: date, tz: str) -> datetime:
    """The UTC instant a day of the display zone starts (a period's days are
    the zone's days: the labels and the day buckets follow the zone)."""
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def _one(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if isinstance(v, str)), None)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:MAX_VALUE_LEN] if value else None


def _many(params: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    value = params.get(key)
    items: list[str] = []
    for v in (value if isinstance(value, (list, tuple)) else [value]):
        if isinstance(v, str):
            items.extend(p.strip() for p in v[:MAX_VALUE_LEN * 8].split(","))
    allowed_set = set(allowed)
    out: list[str] = []
    for item in items:
        if item in allowed_set and item not in out:
            out.append(item)
        if len(out) >= MAX_LIST:
            break
    return tuple(out)


def parse_date(value: str | None) -> date | None:
    if not value or not _DATE_RE.match(value[:10]) or len(value) > 10:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        return None
    return d if MIN_YEAR <= d.year <= MAX_YEAR else None


def valid_timezone(name: str | None, default: str = "UTC") -> str:
    if not name or len(name) > 64 or not re.match(r"^[A-Za-z0-9_+\-/]+$", name):
        return default
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(name)
    except Exception:
        return default
    return name


def anchor_day(known: Known, tz: str = "UTC") -> date:
    """The day after the end of data in the zone ``tz`` (presets count back
    from it); today when empty."""
    eod = _clamp(known.end_of_data) or datetime.now(timezone.utc)
    return _local_day(eod, tz) + timedelta(days=1)


def parse_state(params: Mapping[str, Any], known: Known, default_tz: str = "UTC",
                page_params: Mapping[str, Callable[[str | None], str | None]] | None = None) -> State:
    """A valid State from untrusted query parameters: unknown or malformed
    values fall back to defaults; inverted dates are swapped; spans clamped."""
    params = params if isinstance(params, Mapping) else {}
    default_tz = valid_timezone(default_tz, "UTC")
    tz = valid_timezone(_one(params, "tz"), default_tz)
    end_day = anchor_day(known, tz)
    preset = _one(params, "period")
    d_from, d_to = parse_date(_one(params, "from")), parse_date(_one(params, "to"))
    notices = [f"{key}={clip_text(_one(params, key))} is not a date (YYYY-MM-DD)" for key, d in (("from", d_from), ("to", d_to))
               if d is None and _one(params, key)]
    if preset is not None and preset not in PRESETS and preset != "custom":
        notices.append(f"period={clip_text(preset)} is not one of {', '.join(PRESETS)}, custom")
    if _one(params, "tz") and valid_timezone(_one(params, "tz"), "") != _one(params, "tz"):
        notices.append(f"tz={clip_text(_one(params, 'tz'))} is not a time zone: showing {tz}")
    if preset not in PRESETS and preset != "custom":
        preset = "custom" if (d_from or d_to) and preset is None else DEFAULT_PRESET
    if preset == "custom":
        if d_from and d_to and d_from > d_to:
            d_from, d_to = d_to, d_from
        if d_from is None and d_to is None:
            preset = DEFAULT_PRESET
        else:
            if d_to is None:
                d_to = min(d_from + timedelta(days=PRESETS[DEFAULT_PRESET] - 1), end_day - timedelta(days=1))
                d_to = max(d_to, d_from)
            if d_from is None:
                d_from = d_to - timedelta(days=PRESETS[DEFAULT_PRESET] - 1)
            if known.first_at is not None:  # clamp into the data's range
                lo, hi = _local_day(known.first_at, tz), end_day - timedelta(days=1)
                d_from, d_to = min(max(d_from, lo), hi), min(max(d_to, lo), hi)
            if (d_to - d_from).days + 1 > MAX_SPAN_DAYS:
                d_from = d_to - timedelta(days=MAX_SPAN_DAYS - 1)
    if preset != "custom":
        d_to = end_day - timedelta(days=1)
        d_from = end_day - timedelta(days=PRESETS[preset])
    start, end = zone_midnight(d_from, tz), zone_midnight(d_to + timedelta(days=1), tz)
    extra: dict[str, str] = {}
    for name, check in (page_params or {}).items():
        value = check(_one(params, name))
        if value is not None:
            extra[name] = value
    return State(
        preset=preset, start=start, end=end,
        compare=(_one(params, "compare") or "").lower() in _TRUE,
        channels=_many(params, "channel", known.channels),
        sources=_many(params, "source", known.sources),
        topics=_many(params, "topic", known.topics),
        tz=tz,
        show_ids=(_one(params, "ids") or "").lower() in _TRUE,
        extra=extra,
        notices=tuple(notices) + ((f"showing {d_from:%Y-%m-%d} – {d_to:%Y-%m-%d}",) if notices and preset != "custom"
                                  else ()),
    )


def clip_text(value: str | None, n: int = 40) -> str:
    value = value or ""
    return value if len(value) <= n else value[:n - 1] + "…"


def to_query(state: State, default_tz: str = "UTC") -> dict[str, str]:
    q: dict[str, str] = {"period": state.preset}
    if state.preset == "custom":
        q["from"], q["to"] = state.date_from.isoformat(), state.date_to.isoformat()
    if state.compare:
        q["compare"] = "1"
    for key, values in (("channel", state.channels), ("source", state.sources), ("topic", state.topics)):
        if values:
            q[key] = ",".join(values)
    if state.tz != default_tz:
        q["tz"] = state.tz
    if state.show_ids:
        q["ids"] = "1"
    for k, v in state.extra.items():
        if v:
            q[k] = v
    return q


def to_search(state: State, default_tz: str = "UTC") -> str:
    return "?" + urlencode(to_query(state, default_tz), safe=",:/@")


def parse_search(search: str | None) -> dict[str, Any]:
    """Parse ``?a=b`` the way Dash pages hands query params to layouts."""
    from urllib.parse import parse_qs

    if not search or not isinstance(search, str) or not search.startswith("?"):
        return {}
    parsed = parse_qs(search[1:4097], keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


# Page parameter checkers -------------------------------------------------------
def one_of(*allowed: str) -> Callable[[str | None], str | None]:
    return lambda v: v if v in allowed else None


def member_of(values: tuple[str, ...]) -> Callable[[str | None], str | None]:
    s = set(values)
    return lambda v: v if v in s else None


def token(max_len: int = 200) -> Callable[[str | None], str | None]:
    pattern = re.compile(r"^[A-Za-z0-9_.:@|+\-]{1,%d}$" % max_len)
    return lambda v: v if v and pattern.match(v) else None


def text(max_len: int = MAX_VALUE_LEN) -> Callable[[str | None], str | None]:
    """Printable text: a key made of event values (a source name, an event
    id), which may hold any character.  What it names is checked where it is
    looked up (among the listed keys, or through bound parameters)."""
    return lambda v: v if v and len(v) <= max_len and v.isprintable() else None


