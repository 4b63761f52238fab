-- The load batches (events.load_id) with their load time, kept by a
-- materialized view so that a job finds its unseen batches in this small
-- table instead of scanning events; and a bloom-filter index on load_id so
-- that reading one batch's events skips the granules of the others.
CREATE TABLE IF NOT EXISTS event_batches
(
    batch     String,
    loaded_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY batch;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_batches_mv TO event_batches AS
SELECT load_id AS batch, max(loaded_at) AS loaded_at FROM events GROUP BY load_id;

INSERT INTO event_batches SELECT load_id, max(loaded_at) FROM events
WHERE load_id NOT IN (SELECT batch FROM event_batches) GROUP BY load_id;

-- Case resolutions by case_id, kept by a materialized view: the open-case
-- incident rule looks up its cases' resolutions here instead of scanning
-- every event's type.
CREATE TABLE IF NOT EXISTS case_resolutions
(
    case_id     String,
    occurred_at DateTime64(3, 'UTC'),
    event_id    String
)
ENGINE = ReplacingMergeTree
ORDER BY (case_id, occurred_at, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS case_resolutions_mv TO case_resolutions AS
SELECT case_id, occurred_at, event_id FROM events WHERE type = 'resolution' AND case_id != '';

INSERT INTO case_resolutions SELECT case_id, occurred_at, event_id FROM events
WHERE type = 'resolution' AND case_id != '' AND event_id NOT IN (SELECT event_id FROM case_resolutions);

ALTER TABLE events ADD INDEX IF NOT EXISTS idx_load_id load_id TYPE bloom_filter(0.01) GRANULARITY 1;

ALTER TABLE events MATERIALIZE INDEX idx_load_id;

-- The timeline job reads events by identifier itself (a PREWHERE on the sort
-- key), so the view migration 0004 made for it is gone.
DROP VIEW IF EXISTS scoped_events;
