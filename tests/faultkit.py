"""Child-process side of the fault-injection tests: prints, as JSON, what a
run left in the warehouse and the metadata database.

``python tests/faultkit.py FROM TO`` (settings from SEAMLINE_* variables):
- ``tables``: per table, its row count and an order-free digest of its rows
  (every column but those a rerun legitimately changes: load ids, load and
  run times, sketch states);
- ``metrics``: ``seamline metrics`` for [FROM, TO);
- ``leftovers``: leases, runs still ``running``, loads still ``running``, and
  work tables (load staging, shared scopes, full-run copies, increments'
  stages, identity work tables) left behind.
Run in a child because the embedded engine allows one data directory per
process.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

# columns a clean rerun writes differently: ids and times of loads and runs
VOLATILE = {"load_id", "loaded_at", "quarantined_at", "processed_at", "changed_at", "committed_at",
            "heartbeat_at", "started_at", "finished_at", "applied_at", "computed_at", "detected_at"}
# the identity job's work tables (seamline.identity.resolve)
IDENTITY_WORK = ("identity_nodes_next", "identity_map_next", "identity_sub", "identity_old", "identity_moved",
                 "identity_map_add")
TABLES = ("events", "event_keys", "quarantine", "identity_edges", "identity_map", "case_resolutions",
          "event_batches")


def snapshot(start: datetime, end: datetime) -> dict:
    from sqlalchemy import text

    from seamline.config import Settings
    from seamline.metadata import Metadata
    from seamline.metrics import period_metrics
    from seamline.runner import registry
    from seamline.warehouse import Warehouse, quote_ident

    settings = Settings()
    wh = Warehouse.from_settings(settings)
    md = Metadata(settings.metadata_dsn)
    tables = list(TABLES) + sorted({t for j in registry().values() for t in j.outputs + j.extra_outputs
                                    if t != "identity_changes"})
    out: dict = {"tables": {}}
    for table in tables:
        cols = [name for name, typ in wh.rows(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
            "AND default_kind NOT IN ('ALIAS') ORDER BY position", {"t": table})
            if name not in VOLATILE and "AggregateFunction" not in typ]
        if table == "event_batches":  # its batch ids are per load: only how many
            cols = []
        digest = ("sum(cityHash64(" + ", ".join(quote_ident(c) for c in cols) + "))") if cols else "0"
        # a replacing table is read as its merge will leave it
        final = "FINAL" if "Replacing" in (wh.scalar(
            "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
            {"t": table}) or "") else ""
        n, h = wh.rows(f"SELECT count(), {digest} FROM {quote_ident(table)} {final}")[0]
        out["tables"][table] = [int(n), str(h)]
    out["metrics"] = period_metrics(wh, settings, start, end)
    with md.engine.connect() as cx:
        leases = cx.execute(text("SELECT count(*) FROM leases")).scalar()
        running = cx.execute(text("SELECT count(*) FROM job_runs WHERE status = 'running'")).scalar()
        failed = cx.execute(text("SELECT count(*) FROM job_runs WHERE status = 'failed'")).scalar()
    work = [r[0] for r in wh.rows(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND "
        "(startsWith(name, '_load_') OR startsWith(name, '_scope_shared_') OR startsWith(name, '_full_') "
        "OR startsWith(name, '_next_') OR name IN {identity:Array(String)})", {"identity": list(IDENTITY_WORK)})]
    loads_running = wh.scalar("SELECT count() FROM (SELECT load_id FROM load_intents GROUP BY load_id "
                              "HAVING argMax(state, heartbeat_at) = 'running')")
    out["leftovers"] = {"leases": int(leases), "runs_running": int(running), "loads_running": int(loads_running),
                        "work_tables": work}
    out["failed_runs"] = int(failed)
    return out


def main() -> None:
    start, end = (datetime.fromisoformat(a).replace(tzinfo=timezone.utc) for a in sys.argv[1:3])
    print(json.dumps(snapshot(start, end), default=str, sort_keys=True))


if __name__ == "__main__":
    main()
