-- The customer timeline (migration 0005): every event with its customer key,
-- stored in (customer, ms, event_id) order for the metric jobs to read in
-- order.  The timeline job only sees load batches the identity job has
-- processed, so every event's identifier is in identity_map.
--
-- A full run inserts every event, one range of identifiers [{lo}, {hi}) per
-- statement (the runner cuts them at quantiles of the events' primary index).
-- A range reads its events and identity_map rows by primary key, so the
-- join's hash table holds only that range's identifiers (at 50 M events all
-- 3 M of them took 1.3 GB).
--
-- An incremental run inserts every event of the customers whose key changed
-- (their identifiers are in job_scope_idents; the runner replaces their
-- rows), and appends the new events (the run's batches, read through the
-- load_id index) of the others.  An event already in the timeline as readers
-- see it ({published_timeline}: a retry after a crash) is not appended
-- again.  The {full} = 0 guards keep a full run from building the
-- incremental sets.
--
-- occurred_at is not written: in the timeline it is an ALIAS of ms
-- (migration 0010).
INSERT INTO timeline (customer, ms, event_id, source, channel, direction, type, topic, case_id, attrs)
SELECT m.customer, toUnixTimestamp64Milli(e.occurred_at), e.event_id, e.source, e.channel,
       e.direction, e.type, e.topic, e.case_id, e.attrs
FROM
(
    SELECT ident, event_id, occurred_at, source, channel, direction, type, topic, case_id, attrs
    FROM events
    PREWHERE ({full:UInt8} = 1 AND ident >= {lo:String} AND ({hi:String} = '' OR ident < {hi:String}))
          OR ident IN (SELECT ident FROM job_scope_idents WHERE job = {job:String})
    UNION ALL
    SELECT ident, event_id, occurred_at, source, channel, direction, type, topic, case_id, attrs
    FROM events
    PREWHERE {full:UInt8} = 0 AND load_id IN (SELECT batch FROM {batches:Identifier})
    WHERE loaded_at > {since:DateTime64(3, 'UTC')}
      AND ident NOT IN (SELECT ident FROM job_scope_idents WHERE job = {job:String})
      AND event_id NOT IN (
          SELECT event_id FROM {published_timeline:Identifier}
          PREWHERE customer IN (SELECT key FROM {scope:Identifier})
          WHERE ms >= (SELECT min(toUnixTimestamp64Milli(occurred_at)) FROM events
                       PREWHERE {full:UInt8} = 0 AND load_id IN (SELECT batch FROM {batches:Identifier})))
) AS e
INNER JOIN
(
    SELECT ident, customer FROM identity_map
    PREWHERE ({full:UInt8} = 1 AND ident >= {lo:String} AND ({hi:String} = '' OR ident < {hi:String}))
          OR ident IN (SELECT ident FROM job_scope_idents WHERE job = {job:String})
          OR ident IN (SELECT ident FROM events
                       PREWHERE {full:UInt8} = 0 AND load_id IN (SELECT batch FROM {batches:Identifier}))
) AS m ON e.ident = m.ident
-- One thread, and parts of at most 256 k rows: with two threads the insert
-- sorts two 256 MB blocks at once, which doubles its peak memory for little
-- time gained (benchmarks/README.md has the figures).
SETTINGS max_threads = 1, max_insert_block_size = 262144, min_insert_block_size_rows = 262144,
         min_insert_block_size_bytes = 67108864;
