"""``seamline sources check NAME``: what a source's mapping finds, on one
screen: its tables and columns, row counts, ten mapped rows, the event names
no ``types`` entry maps (with counts) and what is missing."""

from __future__ import annotations

from typing import Any

from seamline.sources.mapping import CANONICAL_TYPES, DEFAULT_TYPES, MappingError, plans
from seamline.sources.models import FIELDS, IDENTIFIERS, REQUIRED, Source
from seamline.sources.sync import newest
from seamline.warehouse import Warehouse

SAMPLE_ROWS = 10
UNMAPPED_SHOWN = 20


def check(wh: Warehouse, source: Source, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {"source": source.name, "kind": source.kind, "database": source.database,
                           "tables": [], "missing": [], "empty": {}, "sample": [], "unmapped_events": [], "error": None}
    try:
        table_plans = plans(wh, source, key)
    except MappingError as exc:
        out["error"] = str(exc)
        return out
    known = set(DEFAULT_TYPES[source.kind]) | set(source.types) | set(CANONICAL_TYPES)
    unmapped: dict[str, int] = {}
    for plan in table_plans:
        rows = int(wh.scalar(f"SELECT count() FROM {plan.from_sql} WHERE {plan.where}", plan.params) or 0)
        out["tables"].append({"table": f"{source.database}.{plan.table}", "rows": rows,
                              "columns": list(plan.columns), "insert_time": plan.insert_time,
                              "newest": newest(wh, plan)})
        out["missing"] += [f"{plan.table}: {m}" for m in plan.missing]
        # rows the load would quarantine for a required value the mapping leaves empty
        empties = ", ".join(f"countIf(ifNull(_sl_{f}, '') = '')" for f in REQUIRED) + ", countIf(" + \
            " AND ".join(f"ifNull(_sl_{f}, '') = ''" for f in IDENTIFIERS) + ")"
        for f, n in zip(REQUIRED + ("identifier",), wh.rows(f"SELECT {empties} FROM ({plan.select()})", plan.params)[0]):
            if n:
                out["empty"][f] = out["empty"].get(f, 0) + int(n)
        if len(out["sample"]) < SAMPLE_ROWS:
            cols = ", ".join(f"_sl_{f}" for f in FIELDS)
            for r in wh.rows(f"SELECT {cols} FROM ({plan.select()}) LIMIT {{n:UInt32}}",
                             plan.params | {"n": SAMPLE_ROWS - len(out["sample"])}):
                out["sample"].append(dict(zip(FIELDS, r)) | {"table": plan.table})
        for name, n in wh.rows(
                f"SELECT _sl_name, count() FROM (SELECT {plan.name_expr} AS _sl_name FROM {plan.from_sql} "
                f"WHERE {plan.where}) WHERE _sl_name NOT IN {{known:Array(String)}} GROUP BY _sl_name",
                plan.params | {"known": sorted(known)}):
            unmapped[str(name)] = unmapped.get(str(name), 0) + int(n)
    out["unmapped_events"] = [{"name": k, "count": v}
                              for k, v in sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0]))]
    return out


def render(report: dict[str, Any]) -> list[str]:
    """The check as lines for a terminal."""
    head = f"source {report['source']} (kind {report['kind']}, database {report['database']})"
    if report["error"]:
        return [head, f"cannot map: {report['error']}"]
    lines = [head, "tables:"]
    for t in report["tables"]:
        cols = ", ".join(t["columns"])
        lines.append(f"  {t['table']}: {t['rows']:,} row{'' if t['rows'] == 1 else 's'}, "
                     f"newest insert {t['newest'] or '-'}")
        lines.append(f"    columns: {cols if len(cols) <= 200 else cols[:199] + '…'}")
    lines.append("missing:" if report["missing"] else "missing: nothing")
    lines += [f"  {m}" for m in report["missing"]]
    if report["empty"]:
        total = sum(t["rows"] for t in report["tables"])
        lines.append("rows with no value for a required field (quarantined by a sync): "
                     + ", ".join(f"{f} {n:,} of {total:,}" for f, n in report["empty"].items()))
    lines.append(f"mapped rows (first {len(report['sample'])}):")
    shown = ("event_id", "occurred_at", "type", "source", "channel", "direction", "customer_id", "anonymous_id")
    for r in report["sample"]:
        lines.append("  " + "  ".join(f"{k}={r[k] if r[k] is not None else '-'}" for k in shown)
                     + (f"  attrs={r['attrs']}" if r["attrs"] not in (None, "{}") else ""))
    if report["unmapped_events"]:
        lines.append("event names with no mapping in `types` (kept as their own type):")
        for u in report["unmapped_events"][:UNMAPPED_SHOWN]:
            lines.append(f"  {u['name']:<40} {u['count']:>9,}")
        if len(report["unmapped_events"]) > UNMAPPED_SHOWN:
            lines.append(f"  … {len(report['unmapped_events']) - UNMAPPED_SHOWN} more (--json for all)")
    else:
        lines.append("event names with no mapping: none")
    return lines
