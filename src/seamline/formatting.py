"""Values as the dashboard shows them: missing values, masked customer
identifiers, times in the display zone, durations, percentages, numbers and
p-values.  Pure functions, no pandas at import time."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def is_missing(value: Any) -> bool:
    if value is None or type(value).__name__ == "NaTType":  # NaT: a missing time in a datetime column
        return True
    try:
        return isinstance(value, float) and math.isnan(value)
    except TypeError:
        return False


def mask_id(value: Any, show: bool = False) -> str:
    """Customer identifiers: first 3 characters + '…' unless shown."""
    text = "" if value is None else str(value)
    if show or len(text) <= 3:
        return text if show else (text[:1] + "…" if text else "")
    return text[:3] + "…"


def to_local(value: Any, tz: str) -> datetime | None:
    """A UTC (naive = UTC) timestamp as a naive datetime in the display zone."""
    from zoneinfo import ZoneInfo

    if is_missing(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    return None


def fmt_time(value: Any, tz: str) -> str:
    local = to_local(value, tz)
    return "" if local is None else local.strftime("%Y-%m-%d %H:%M:%S")


def local_series(values: "pd.Series", tz: str) -> "pd.Series":
    import pandas as pd

    s = pd.to_datetime(values, utc=True)
    return s.dt.tz_convert(tz).dt.tz_localize(None)


def fmt_duration(seconds: Any) -> str:
    if is_missing(seconds):
        return "–"
    s = float(seconds)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def fmt_pct(value: Any, digits: int = 1) -> str:
    return "–" if is_missing(value) else f"{100 * float(value):.{digits}f} %"


def fmt_num(value: Any, digits: int = 2) -> str:
    if is_missing(value):
        return "–"
    v = float(value)
    return f"{v:,.0f}" if v == int(v) and abs(v) >= 1 and digits == 0 else f"{v:,.{digits}f}"


def fmt_p(p: Any) -> str:
    if is_missing(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_text(p: Any) -> str:
    """A p-value in a sentence: "p < 0.001", "p = 0.034"."""
    if is_missing(p):
        return "p: no test"
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"
