"""Sources in place (SPEC §6): event tables users already have in ClickHouse
(PostHog, RudderStack, Snowplow, OpenTelemetry logs, any table), read where
they are and synced into ``events`` inside ClickHouse.

- ``models``: the ``[[sources]]`` entries, checked (``parse_sources``);
- ``mapping``: each kind's default mapping, built from ``system.columns``;
- ``sync``: the sync through the load's pipeline, watermarks in ``source_syncs``;
- ``check``: what a mapping finds; ``cli``: the ``seamline sources`` commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from seamline.config import Settings


def configured(settings: "Settings") -> list[tuple[str, Any]]:
    """(key, Source) of each configured source; key names it in errors (``sources[0]``)."""
    from seamline.sources.models import parse_sources

    return [(f"sources[{i}]", s) for i, s in enumerate(parse_sources(settings.sources))]


def scheduled_entries(settings: "Settings") -> list[tuple[str, str, str, str, tuple[Any, ...]]]:
    """The scheduler's entries for the configured sources: (id, name, cron,
    ``module:function`` called with (settings, *args), args)."""
    return [(f"source:{s.name}", f"source {s.name}", s.schedule, "seamline.sources:run_scheduled", (s.name,))
            for _, s in configured(settings)]


def run_scheduled(settings: "Settings", name: str) -> None:
    """The scheduled sync of one source (a failure is recorded in source_syncs and logged)."""
    import logging

    from seamline.metadata import Metadata
    from seamline.sources.sync import sync_source
    from seamline.warehouse import Warehouse
    from seamline.warehouse.schema import migrate

    wh = Warehouse.from_settings(settings)
    migrate(wh)
    md = Metadata(settings.metadata_dsn)
    for key, source in configured(settings):
        if source.name == name:
            try:
                sync_source(wh, source, settings.hash_salt, key, batch_rows=settings.load_batch_rows, md=md)
            except Exception as exc:
                logging.getLogger("seamline.sources").warning("sync of source %s failed: %s", name, exc)


def status(wh, md, settings: "Settings") -> list[dict[str, Any]]:
    """Per configured source, for the dashboard: ``name``, ``kind``,
    ``database``, ``last_sync`` (finish time of the last sync, any outcome),
    ``last_success``, ``status`` ('ok' / 'failed' / 'never'; 'invalid' for every entry when the
    ``[[sources]]`` configuration is not valid, its error in ``last_error``), ``rows_synced``
    (events loaded by every sync), ``last_read`` / ``last_loaded`` (the last
    successful sync's counts), ``quarantined`` (by every sync), ``lag_s``
    (seconds the synced watermark is behind the source's newest insert time;
    None before a first sync or when unknown), ``source_newest`` and
    ``last_error`` ('' when the last sync succeeded).  ``md`` is unused (the
    state lives in the warehouse)."""
    from seamline.sources.mapping import MappingError
    from seamline.sources.sync import lag, last_sync

    from seamline.config import ConfigError

    try:
        sources = configured(settings)
    except ConfigError as exc:  # shown on the page rather than breaking it
        return [{"name": str(raw.get("name", f"sources[{i}]")) if isinstance(raw, dict) else f"sources[{i}]",
                 "kind": raw.get("kind") if isinstance(raw, dict) else None,
                 "database": raw.get("database") if isinstance(raw, dict) else None,
                 "last_sync": None, "last_success": None, "status": "invalid", "rows_synced": 0, "last_read": 0,
                 "last_loaded": 0, "quarantined": 0, "lag_s": None, "source_newest": None,
                 "last_error": str(exc)} for i, raw in enumerate(settings.sources)]
    totals = {r[0]: (int(r[1]), int(r[2])) for r in wh.rows(
        "SELECT source, sum(loaded), sum(quarantined) FROM source_syncs WHERE status = 'ok' GROUP BY source")}
    out = []
    for key, s in sources:
        last, ok = last_sync(wh, s.name, ok_only=False), last_sync(wh, s.name)
        try:
            behind, newest = lag(wh, s, key)
            error = last["error"] if last and last["status"] != "ok" else ""
        except MappingError as exc:
            behind, newest, error = None, None, str(exc)
        out.append({
            "name": s.name, "kind": s.kind, "database": s.database,
            "last_sync": last["finished_at"] if last else None,
            "last_success": ok["finished_at"] if ok else None,
            "status": last["status"] if last else "never",
            "rows_synced": totals.get(s.name, (0, 0))[0],
            "last_read": ok["read"] if ok else 0,
            "last_loaded": ok["loaded"] if ok else 0,
            "quarantined": totals.get(s.name, (0, 0))[1],
            "lag_s": behind,
            "source_newest": newest,
            "last_error": error,
        })
    return out
