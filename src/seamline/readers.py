"""Readers of event files (SPEC §1): JSON Lines, CSV and Parquet, optionally
gzipped, as (line number, JSON document, original text) rows for the loader.

A reader never validates a row: it hands the loader every non-blank line with
its physical line number; ClickHouse decides what is valid
(``sql/load_parse.sql``).  A row the reader itself cannot turn into a JSON
document arrives as ``["reason"]`` with its original text (never empty), and
is quarantined with that reason.

A reader never raises part-way through a file either: when the file is
damaged (a truncated or corrupt gzip, an unreadable Parquet page) it yields
the rows before the damage, then one last row ``["file damaged at line N:
…"]`` with an empty original text (``damage_of``), and stops.  So the damage
is a quarantined row, the load's counts still add up, and the loader reports
the file as damaged, naming the line.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator

from seamline.timefmt import iso_utc


class LoadError(Exception):
    """A file-level problem (missing, unreadable, empty): one line for the user."""


Row = tuple[int, str, str]  # (line number, JSON document, original text or '' when the same)

# What can stop a reader part-way through a file.  The readers catch these
# themselves (the rows before it still load, the damage becomes the last row);
# kept as a name for callers that guard a read of their own.
READ_ERRORS = (OSError, EOFError, gzip.BadGzipFile, zlib.error, csv.Error, UnicodeError)

# A CSV field may be this long (Python's default, 128 KiB, stopped the whole
# file at the first long value; a JSON Lines row has no limit).  A longer
# field is one quarantined row, and the rows after it still load.
CSV_FIELD_LIMIT = 64 * 1024 * 1024

# Bytes that are not UTF-8, as Python's "surrogateescape" decoding keeps them.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
DAMAGE_PREFIX = "file damaged at line "


class _BadRow(Exception):
    """A row the reader cannot turn into a document; its message is the reason."""


def _reason_row(line: int, reason: str, original: str) -> Row:
    import orjson

    return line, orjson.dumps([reason]).decode(), original or f"(row not kept: {reason})"


def _damaged(path: Path, line: int, exc: BaseException, rows_before: int, warn: Callable[[str], None]) -> Row:
    """The last row of a damaged file, and a warning naming the file and line."""
    if isinstance(exc, EOFError):
        what = "truncated (the compressed data ends before its end marker)"
    elif isinstance(exc, (zlib.error, gzip.BadGzipFile)):
        what = f"corrupt compressed data ({exc})"
    elif isinstance(exc, OSError) and exc.strerror:
        what = f"read error ({exc.strerror})"
    else:
        what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    what = " ".join(what.split())[:200]  # one line
    return line, _reason_row(line, f"{DAMAGE_PREFIX}{line}: {what}", "")[1], ""


def damage_of(row: Row) -> str | None:
    """What damaged the file, when ``row`` is the last row of a damaged file."""
    import orjson

    if not row[1].startswith('["' + DAMAGE_PREFIX):
        return None
    return orjson.loads(row[1])[0].split(": ", 1)[-1]


def _as_utf8(text: str) -> str:
    """Text decoded with surrogateescape, with the bytes that were not UTF-8 as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# Readers ---------------------------------------------------------------------
def _open_binary(path: Path):
    f = open(path, "rb")
    head = f.read(2)
    f.seek(0)
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f)
    return f


def detect_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    return "jsonl"


def _utf8_reason(text: str) -> str:
    """The reason for a JSON Lines row that is not UTF-8 (``text`` has U+FFFD for
    the bad bytes): the first top-level field, in document order, whose name or
    value holds a U+FFFD, else the line.  load_parse.sql says the same of the
    rows the engine reads itself; test_poison checks the two agree."""
    import orjson

    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict):
        for key, value in doc.items():
            if "\ufffd" in key or "\ufffd" in orjson.dumps(value).decode():
                return f"invalid UTF-8 in field {key[:40]}"
    return "invalid UTF-8 in line"


def _jsonl_rows(path: Path, tick: Callable[[int], None], warn: Callable[[str], None]) -> Iterator[Row]:
    # Lines end at LF (a CRLF's CR is dropped), as JSON Lines defines them and
    # as the engine reads the file itself (load_stage_file.sql): a lone CR is
    # JSON whitespace, not a line end.  Blank means only spaces, tabs and CRs,
    # the engine's rule too.
    n = rows = 0
    with _open_binary(path) as fh:
        raw_file = fh.fileobj if isinstance(fh, gzip.GzipFile) else fh
        lines = iter(fh)
        while True:
            try:
                data = next(lines)
            except StopIteration:
                break
            except READ_ERRORS as exc:
                yield _damaged(path, n + 1, exc, rows, warn)
                return
            n += 1
            try:
                text, bad = data.decode("utf-8"), False
            except UnicodeDecodeError:
                text, bad = data.decode("utf-8", errors="replace"), True
            text = text.rstrip("\r\n")
            if n == 1:
                text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark is not part of the row
            if n % 50_000 == 0:
                tick(raw_file.tell())
            if text.strip(" \t\r"):
                rows += 1
                yield _reason_row(n, _utf8_reason(text), text) if bad else (n, text, "")
        tick(raw_file.tell())


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return iso_utc(value)
    return value


def _scalar(key: str, value):
    """A top-level value of a CSV cell or Parquet column, for the document."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise _BadRow(f"invalid UTF-8 in field {key}") from None
    return _jsonable(value)


def _attrs_text(value) -> str | None:
    """The ``attrs`` of a CSV/Parquet row as JSON object text, kept as written
    where it is text, so the engine parses it exactly as a JSON Lines row's
    (numbers, booleans, arrays and objects in it are kept as their JSON text)."""
    import orjson

    if isinstance(value, bytes):
        value = _scalar("attrs", value)
    if isinstance(value, str):
        text = value.strip()
        if not text or text == "null":
            return None
        if not text.startswith("{"):  # a JSON array, number, word: not an object
            raise _BadRow("attrs must be a flat object of strings")
        try:
            orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise _BadRow(f"attrs is not a valid JSON object ({str(exc).split(':')[0]})") from None
        return text
    if isinstance(value, dict):  # a Parquet struct
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(t, tuple) and len(t) == 2 for t in value):
        pairs = value  # a Parquet map arrives as [(key, value), ...]
    else:  # a list (CSV "[1]" never gets here: it is text), a number, a boolean
        raise _BadRow("attrs must be a flat object of strings")
    keys = [str(k) for k, _ in pairs]
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            raise _BadRow(f"duplicate key in attrs: {k[:40]}")
        seen.add(k)
    return orjson.dumps({k: _jsonable(v) for k, (_, v) in zip(keys, pairs)}, default=str).decode()


def _row_document(record: dict) -> str:
    """Build a JSON document from a flat record (CSV / Parquet): ``attrs`` (a JSON
    object, a map or a struct) and ``attrs.KEY`` columns fold into one object;
    a key given by both is a duplicate key of that object (quarantined).
    Raises _BadRow for a row that cannot be a document."""
    import orjson

    doc: dict = {}
    attrs: str | None = None
    attr_cols: dict = {}
    for key, value in record.items():
        if key is None or value is None or (isinstance(value, str) and value == ""):
            continue
        if key == "attrs":
            attrs = _attrs_text(value)
        elif key.startswith("attrs."):
            attr_cols[key[6:]] = _scalar(key, value)
        else:
            doc[key] = _scalar(key, value)
    if attr_cols:
        members = orjson.dumps(attr_cols, default=str).decode()[1:-1]
        if attrs is None:
            attrs = "{" + members + "}"
        else:  # splice the columns into the object's text, before its closing brace
            inner = attrs[:-1].rstrip()
            attrs = inner + ("" if inner.endswith("{") else ",") + members + "}"
    text = orjson.dumps(doc, default=str).decode()
    if attrs is not None:
        text = text[:-1] + ("," if len(text) > 2 else "") + '"attrs":' + attrs + "}"
    return text


def _document_row(line: int, record: dict, original: str) -> Row:
    """One record's row: its document, or its reason when it cannot be one."""
    try:
        return line, _row_document(record), original
    except _BadRow as exc:
        return _reason_row(line, str(exc), original)
    except Exception as exc:  # e.g. a value nested too deep to serialise: the row, not the file
        return _reason_row(line, f"unreadable row: {type(exc).__name__}: {str(exc)[:120]}", original)


REQUIRED = ("event_id", "occurred_at", "source", "channel", "direction", "type")


def _csv_rows(path: Path, tick: Callable[[int], None], warn: Callable[[str], None]) -> Iterator[Row]:
    # Line ends: LF, CRLF, or a lone CR (an old Mac / Excel export), each one
    # physical line, as text editors number them; inside a quoted field they
    # are part of the value.  A row's line is the line it starts on.
    # Bytes that are not UTF-8 are kept (surrogateescape) so the row can be
    # quarantined naming its field, instead of loading U+FFFD silently.
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    rows = 0
    with _open_binary(path) as fh:
        raw_file = fh.fileobj if isinstance(fh, gzip.GzipFile) else fh
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")
        delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader, None)
        except READ_ERRORS as exc:
            yield _damaged(path, 1, exc, 0, warn)
            return
        if header is None:
            return
        header = [_as_utf8(h).strip() for h in header]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            warn(f"{path}: header has no column {', '.join(missing)}; its rows are quarantined")
        named = [h for h in header if h]
        twice = sorted({h for h in named if named.count(h) > 1})
        header_reason = f"duplicate column in header: {', '.join(twice)}" if twice else ""
        if twice:
            warn(f"{path}: {header_reason}; its rows are quarantined")
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="")
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # e.g. a field over the limit: that row only
                rows += 1
                yield _reason_row(start, f"unreadable CSV row: {exc}", "")
                continue
            except READ_ERRORS as exc:
                yield _damaged(path, reader.line_num + 1, exc, rows, warn)
                return
            if not any(v.strip() for v in values):
                continue
            rows += 1
            out.seek(0)
            out.truncate()
            writer.writerow(values)
            original = out.getvalue()
            if _NOT_UTF8.search(original):
                col = next(i for i, v in enumerate(values) if _NOT_UTF8.search(v))
                name = header[col] if col < len(header) and header[col] else f"column {col + 1}"
                yield _reason_row(start, f"invalid UTF-8 in field {name}", _as_utf8(original))
            elif header_reason:
                yield _reason_row(start, header_reason, original)
            elif len(values) != len(header):
                yield _reason_row(start, "wrong number of columns", original)
            else:
                yield _document_row(start, dict(zip(header, values)), original)
            if rows % 50_000 == 0:
                tick(raw_file.tell())
        tick(raw_file.tell())


def _parquet_records(batch) -> Iterator[dict | str]:
    """A batch's records; a record with a value Python cannot hold (e.g. a
    timestamp past year 9999) is the reason instead."""
    try:
        yield from batch.to_pylist()
        return
    except Exception:
        pass
    names = batch.schema.names
    for i in range(batch.num_rows):
        record: dict = {}
        for name, column in zip(names, batch.columns):
            try:
                record[name] = column[i].as_py()
            except Exception as exc:
                record = f"unreadable value in field {name}: {str(exc)[:120]}"  # type: ignore[assignment]
                break
        yield record


def _parquet_rows(path: Path, tick: Callable[[int], None], warn: Callable[[str], None]) -> Iterator[Row]:
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise LoadError(f"{path}: not a readable Parquet file ({exc})") from None
    total = max(pf.metadata.num_rows, 1)
    size = path.stat().st_size
    n = 0
    batches = pf.iter_batches(batch_size=50_000)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            break
        except (*READ_ERRORS, pa.ArrowException, ValueError) as exc:  # a damaged page: the rows before it load
            yield _damaged(path, n + 1, exc, n, warn)
            return
        for record in _parquet_records(batch):
            n += 1
            if isinstance(record, str):
                yield _reason_row(n, record, "")
                continue
            row = _document_row(n, record, "")
            if row[1].startswith("["):  # a reason row: keep the record as its original text
                try:
                    original = orjson.dumps(record, default=str).decode()
                except Exception:
                    original = repr(record)
                row = (n, row[1], original)
            yield row
        tick(int(size * n / total))


def iter_rows(path: Path, tick: Callable[[int], None] = lambda _: None,
              warn: Callable[[str], None] = lambda _: None) -> Iterator[Row]:
    fmt = detect_format(path)
    if fmt == "parquet":
        return _parquet_rows(path, tick, warn)
    if fmt == "csv":
        return _csv_rows(path, tick, warn)
    return _jsonl_rows(path, tick, warn)
