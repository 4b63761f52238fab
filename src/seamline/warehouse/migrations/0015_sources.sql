-- Sources in place (SPEC §6): one row per sync of a source (seamline.sources).
-- A sync that committed its load writes its row after the commit, with the
-- insert-time watermark of each table it read (the next sync reads from the
-- watermark minus the source's look-back); a failed sync writes its error and
-- keeps the watermarks it started from.  A sync killed after its commit and
-- before this row reads the same rows again next time, and they are
-- duplicates (events deduplicate by event_id): no number changes.
CREATE TABLE IF NOT EXISTS source_syncs
(
    source        String,
    load_id       String,
    started_at    DateTime64(3, 'UTC'),
    finished_at   DateTime64(3, 'UTC'),
    full          UInt8,
    status        LowCardinality(String),
    watermarks    Map(String, DateTime64(3, 'UTC')),
    latest        Nullable(DateTime64(3, 'UTC')),
    read          UInt64,
    loaded        UInt64,
    duplicates    UInt64,
    quarantined   UInt64,
    edges         UInt64,
    error         String
)
ENGINE = MergeTree
ORDER BY (source, finished_at);
