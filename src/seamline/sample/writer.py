"""Output files by suffix (.jsonl, .jsonl.gz, .csv, .csv.gz, .parquet)."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from seamline.sample.arrays import obj
from seamline.sample.catalog import COLUMNS
from seamline.sample.rows import jsonl_lines


class Writer:
    def __init__(self, path: Path, compresslevel: int):
        name = path.name.lower()
        if name.endswith(".jsonl.gz") or name.endswith(".json.gz"):
            self.fmt = "jsonl"
            self._raw = open(path, "wb")
            self.fh = gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", compresslevel=compresslevel,
                                    mtime=0)
        elif name.endswith(".jsonl") or name.endswith(".json"):
            self.fmt = "jsonl"
            self._raw = None
            self.fh = open(path, "wb")
        elif name.endswith(".csv") or name.endswith(".csv.gz"):
            self.fmt = "csv"
            self._raw = open(path, "wb")
            self.fh = (gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", compresslevel=compresslevel,
                                     mtime=0) if name.endswith(".gz") else self._raw)
            self.header = True
        elif name.endswith(".parquet"):
            self.fmt = "parquet"
            self.path = path
            self.pq = None
        else:
            raise ValueError(f"unsupported output format: {path.name} (use .jsonl, .jsonl.gz, .csv, .parquet)")

    @property
    def table(self) -> bool:
        return self.fmt != "jsonl"

    def write(self, cols: dict, order: np.ndarray, bad: list[tuple[int, dict | None, str | None]]) -> int:
        if self.fmt == "jsonl":
            lines = jsonl_lines(cols)[order]
            if bad:
                pos = np.array([b[0] for b in bad])
                lines = np.insert(lines, pos, obj([b[2] for b in bad]))
            self.fh.write(("\n".join(lines.tolist()) + "\n").encode("utf-8"))
            return lines.size
        out = {k: v[order] for k, v in cols.items()}
        if bad:
            pos = np.array([b[0] for b in bad])
            out = {k: np.insert(v, pos, obj([b[1][k] for b in bad])) for k, v in out.items()}
        n = out["event_id"].size
        if self.fmt == "csv":
            import pandas as pd
            df = pd.DataFrame({k: out[k] for k in COLUMNS})
            self.fh.write(df.to_csv(index=False, header=self.header, lineterminator="\n").encode("utf-8"))
            self.header = False
            return n
        import pyarrow as pa
        import pyarrow.parquet as pq
        tbl = pa.table({k: pa.array(out[k].tolist(), type=pa.string()) for k in COLUMNS})
        if self.pq is None:
            self.pq = pq.ParquetWriter(self.path, tbl.schema, compression="zstd")
        self.pq.write_table(tbl)
        return n

    def close(self, empty_cols: dict | None = None):
        if self.fmt == "parquet":
            if self.pq is None:
                import pyarrow as pa
                import pyarrow.parquet as pq
                pq.write_table(pa.table({k: pa.array([], type=pa.string()) for k in COLUMNS}), self.path)
            else:
                self.pq.close()
            return
        if self.fh is not self._raw:
            self.fh.close()
        if self._raw is not None:
            self._raw.close()


def planted_file(path: Path) -> Path:
    name = path.name
    for ext in (".jsonl.gz", ".json.gz", ".csv.gz", ".jsonl", ".json", ".csv", ".parquet"):
        if name.lower().endswith(ext):
            return path.with_name(name[: -len(ext)] + ".planted.json")
    return path.with_name(name + ".planted.json")
