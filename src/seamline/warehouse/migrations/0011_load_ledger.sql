-- Crash-safe loads (SPEC §1): a load is undone as a whole unless it committed.
--
-- Writing a batch touches several tables (events, then the materialized
-- views' event_keys, identity_edges, case_resolutions; the quarantine), and
-- ClickHouse commits each part on its own: a load killed in between left
-- events without their dedup keys, so loading the file again stored them
-- twice.  Now every row a load writes carries its batch id (load_id
-- '<load>-<n>'), a load records its intent before writing (load_intents) and
-- commits by writing its batches to event_batches, which is what the jobs
-- read.  A load whose process is gone and that did not commit is rolled back
-- (sql/load_rollback.sql) on the next start.
--
-- IF EXISTS / IF NOT EXISTS throughout: a migration stopped part-way
-- completes when it runs again.

ALTER TABLE event_keys ADD COLUMN IF NOT EXISTS load_id String DEFAULT '';

DROP VIEW IF EXISTS event_keys_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_keys_mv TO event_keys AS
SELECT event_id, load_id FROM events;

-- The batches are committed by the loader, no longer by a view on insert:
-- a job must not see a batch of a load that may still be rolled back.
-- committed_at is when the batch became visible; the jobs' look-back runs on
-- it, as a long load's first batch is written minutes before it commits.
DROP VIEW IF EXISTS event_batches_mv;

ALTER TABLE event_batches ADD COLUMN IF NOT EXISTS committed_at DateTime64(3, 'UTC') DEFAULT loaded_at;

CREATE TABLE IF NOT EXISTS load_intents
(
    load_id      String,
    file         String,
    owner        String,
    started_at   DateTime64(3, 'UTC'),
    heartbeat_at DateTime64(3, 'UTC'),
    state        Enum8('running' = 1, 'committed' = 2, 'rolled_back' = 3)
)
ENGINE = ReplacingMergeTree(heartbeat_at)
ORDER BY load_id
TTL toDateTime(heartbeat_at) + INTERVAL 30 DAY;
