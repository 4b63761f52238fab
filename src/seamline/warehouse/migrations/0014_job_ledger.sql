-- One ledger of what each job has processed (issue 21): (job, batch), where a
-- batch is a load batch (event_batches) or a batch of identity changes
-- (identity_changes.batch: the changes one identity run made).  A job's work
-- is the batches it has not processed that every job it depends on has; a
-- customer job's scope is the customers of its load batches' events and
-- those its change batches re-keyed.  Nothing expires and nothing depends on
-- a clock: this replaces the metadata watermark, its look-back, job_batches
-- (whose 30-day TTL the runner had to stay inside) and the count of identity
-- changes since a watermark.
CREATE TABLE IF NOT EXISTS job_ledger
(
    job          LowCardinality(String),
    batch        String,
    processed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (job, batch);

-- job_batches is where the ledger starts.  Run again (stopped part-way),
-- the same rows are written again and replaced; after its DROP below, an
-- empty job_batches stands in for it.
CREATE TABLE IF NOT EXISTS job_batches
(
    job          LowCardinality(String),
    batch        String,
    processed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(processed_at)
ORDER BY (job, batch);

INSERT INTO job_ledger SELECT job, batch, processed_at FROM job_batches;

-- Changes logged before the ledger are one batch that no job has processed:
-- each customer job's next run recomputes those customers once, as a job
-- cannot tell here which of them it had seen.
ALTER TABLE identity_changes ADD COLUMN IF NOT EXISTS batch String DEFAULT 'before-ledger';

DROP TABLE IF EXISTS job_batches;
