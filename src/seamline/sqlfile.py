"""Named statements in packaged .sql files.

A read-side .sql file holds several statements, each introduced by a line
``-- name: <name>`` (the convention of yesql/aiosql); the text up to the next
such line is the statement, plain ClickHouse SQL with ``{name:Type}``
placeholders, so it can be pasted into ``clickhouse-client`` with
``--param_<name>=…``.  (aiosql itself rewrites ``:name`` placeholders for
DB-API drivers, which would clash with ClickHouse's ``{name:Type}``; the
parsing is all that is needed here.)
"""

from __future__ import annotations

import functools
import re
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$", re.MULTILINE)


class SqlFileError(LookupError):
    """A statement or file that is not there (a packaging or naming mistake)."""


@functools.cache
def statements(package: str, file: str) -> dict[str, str]:
    """The named statements of ``<package>/<file>.sql``, in file order."""
    text = resources.files(package).joinpath(f"{file}.sql").read_text(encoding="utf-8")
    marks = list(_NAME.finditer(text))
    out: dict[str, str] = {}
    for i, m in enumerate(marks):
        body = text[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)].strip()
        body = body[:-1].rstrip() if body.endswith(";") else body
        if m.group(1) in out:
            raise SqlFileError(f"{package}/{file}.sql: statement {m.group(1)!r} is named twice")
        out[m.group(1)] = body
    return out


def statement(package: str, file: str, name: str) -> str:
    """One named statement, e.g. ``statement('seamline.kpis', 'continuity', 'period')``."""
    found = statements(package, file)
    if name not in found:
        raise SqlFileError(f"{package}/{file}.sql has no statement named {name!r} (it has: {', '.join(found)})")
    return found[name]
