-- Which load batches (events.load_id) each job has processed: an incremental
-- run takes the batches loaded within its look-back that it has not seen.
CREATE TABLE IF NOT EXISTS job_batches
(
    job          LowCardinality(String),
    batch        String,
    processed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (job, batch)
TTL toDateTime(processed_at) + INTERVAL 30 DAY;
