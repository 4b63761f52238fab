"""Readers of event files (SPEC §1): JSON Lines, CSV and Parquet, optionally
gzipped, as (line number, JSON document, original text) rows for the loader.

A reader never validates a row: it hands the loader every non-blank line with
its physical line number; ClickHouse decides what is valid
(``sql/load_parse.sql``).  A row the reader itself cannot turn into a JSON
document arrives as ``["reason"]`` with its original text, and is quarantined
with that reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator

from seamline.timefmt import iso_utc


class LoadError(Exception):
    """A file-level problem (missing, unreadable, empty): one line for the user."""


Row = tuple[int, str, str]  # (line number, JSON document, original text or '' when the same)


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


def _jsonl_rows(path: Path, tick: Callable[[int], None]) -> Iterator[Row]:
    with _open_binary(path) as fh:
        raw_file = fh.fileobj if isinstance(fh, gzip.GzipFile) else fh
        for n, data in enumerate(fh, start=1):
            text = data.decode("utf-8", errors="replace").rstrip("\r\n")
            if n == 1:
                text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark is not part of the row
            if n % 50_000 == 0:
                tick(raw_file.tell())
            if text.strip():
                yield n, text, ""
        tick(raw_file.tell())


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return iso_utc(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _row_document(record: dict) -> str:
    """Build a JSON document from a flat record (CSV / Parquet), folding attrs."""
    import orjson

    doc: dict = {}
    attrs: dict = {}
    for key, value in record.items():
        if key is None or value is None or value == "":
            continue
        value = _jsonable(value)
        if key == "attrs":
            if isinstance(value, str):
                try:
                    value = orjson.loads(value)
                except orjson.JSONDecodeError:
                    pass  # stays a string: quarantined as "attrs must be a flat object"
            if isinstance(value, list):  # Arrow map type arrives as [(k, v), ...]
                value = {str(k): v for k, v in value}
            if isinstance(value, dict):
                attrs.update({str(k): _jsonable(v) for k, v in value.items() if v is not None})
            else:
                doc["attrs"] = value
        elif key.startswith("attrs."):
            attrs[key[6:]] = value
        else:
            doc[key] = value
    if attrs and "attrs" not in doc:
        doc["attrs"] = attrs
    return orjson.dumps(doc, default=str).decode()


REQUIRED = ("event_id", "occurred_at", "source", "channel", "direction", "type")


def _csv_rows(path: Path, tick: Callable[[int], None], warn: Callable[[str], None]) -> Iterator[Row]:
    with _open_binary(path) as fh:
        raw_file = fh.fileobj if isinstance(fh, gzip.GzipFile) else fh
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
        delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
        reader = csv.reader(text, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            warn(f"{path}: header has no column {', '.join(missing)}; its rows are quarantined")
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="")
        for i, values in enumerate(reader, start=1):
            if not any(v.strip() for v in values):
                continue
            out.seek(0)
            out.truncate()
            writer.writerow(values)
            original = out.getvalue()
            if len(values) != len(header):
                yield reader.line_num, '["wrong number of columns"]', original
                continue
            yield reader.line_num, _row_document(dict(zip(header, values))), original
            if i % 50_000 == 0:
                tick(raw_file.tell())
        tick(raw_file.tell())


def _parquet_rows(path: Path, tick: Callable[[int], None]) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise LoadError(f"{path}: not a readable Parquet file ({exc})") from None
    total = max(pf.metadata.num_rows, 1)
    size = path.stat().st_size
    n = 0
    for batch in pf.iter_batches(batch_size=50_000):
        for record in batch.to_pylist():
            n += 1
            yield n, _row_document(record), ""
        tick(int(size * n / total))


# What can stop a reader part-way through a file: the rows before it still load.
READ_ERRORS = (OSError, EOFError, gzip.BadGzipFile, zlib.error, csv.Error, UnicodeError)


def iter_rows(path: Path, tick: Callable[[int], None] = lambda _: None,
              warn: Callable[[str], None] = lambda _: None) -> Iterator[Row]:
    fmt = detect_format(path)
    if fmt == "parquet":
        return _parquet_rows(path, tick)
    if fmt == "csv":
        return _csv_rows(path, tick, warn)
    return _jsonl_rows(path, tick)


