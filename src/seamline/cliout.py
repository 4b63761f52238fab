"""What every ``seamline`` command shares for its output and arguments: JSON
as SPEC §5 prints it, tables for people, dates and file arguments."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime, timezone
from typing import Any, Callable


def _json_default(value: Any) -> Any:
    from seamline.timefmt import iso_utc

    if isinstance(value, (datetime, date)):
        return iso_utc(value)
    if isinstance(value, set):
        return sorted(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(obj: Any) -> Any:
    """NaN / infinity are not JSON: they become null (no value), recursively."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # numpy scalars
        return _finite(obj.item())
    return obj


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(_finite(obj), default=_json_default, indent=2, allow_nan=False) + "\n")


def parse_date(text: str) -> datetime:
    """A date (``2026-03-01``) or an RFC 3339 time; returned as aware UTC."""
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or RFC 3339 time: {text!r}") from None


class InputPath(str):
    """An absolute path that remembers how the user wrote it (``given``)."""

    given: str


def input_path(text: str) -> str:
    """A file argument: relative to the client's directory when the running
    server executes the command for it (``seamline.capture``), else as given."""
    from seamline.capture import request_cwd

    base = request_cwd()
    if not base:
        return text
    path = InputPath(os.path.normpath(os.path.join(base, text)))
    path.given = text
    return path


def _as_given(paths: list[str]) -> Callable[[str], str]:
    """Show the paths in a message as the user wrote them (a command the server runs sees absolute ones)."""
    pairs = [(str(p), p.given) for p in paths if isinstance(p, InputPath) and p.given != str(p)]
    pairs.sort(key=lambda pair: -len(pair[0]))

    def shown(text: str) -> str:
        for full, given in pairs:
            text = text.replace(full, given)
        return text
    return shown


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, (list, tuple)):
            return ",".join(map(str, v))
        if isinstance(v, datetime):
            return _json_default(v)
        return str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
