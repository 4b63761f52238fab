-- The customer timeline (migration 0005): every event with its customer key,
-- stored in (customer, ms, event_id) order for the metric jobs to read in
-- order.  The timeline job only sees load batches the identity job has
-- processed, so every event's identifier is in identity_map.
--
-- The runner cuts what it reads (seamline.scopes.EventLogCut):
-- {events:Identifier} holds the events whose customers the run writes whole
-- (a full run's range of identifiers, an increment's customers whose key
-- changed: the runner replaces their rows), {new_events:Identifier} the new
-- events it appends for the other customers, and {identity_map:Identifier}
-- the keys of their identifiers.  A full run's range reads its events and
-- identity_map rows by primary key, so the join's hash table holds only that
-- range's identifiers (at 50 M events all 3 M of them took 1.3 GB).
--
-- occurred_at is not written: in the timeline it is an ALIAS of ms
-- (migration 0010).
INSERT INTO timeline (customer, ms, event_id, source, channel, direction, type, topic, case_id, attrs)
SELECT m.customer, toUnixTimestamp64Milli(e.occurred_at), e.event_id, e.source, e.channel,
       e.direction, e.type, e.topic, e.case_id, e.attrs
FROM
(
    SELECT ident, event_id, occurred_at, source, channel, direction, type, topic, case_id, attrs
    FROM {events:Identifier}
    UNION ALL
    SELECT ident, event_id, occurred_at, source, channel, direction, type, topic, case_id, attrs
    FROM {new_events:Identifier}
) AS e
INNER JOIN (SELECT ident, customer FROM {identity_map:Identifier}) AS m ON e.ident = m.ident
-- One thread, and parts of at most 256 k rows: with two threads the insert
-- sorts two 256 MB blocks at once, which doubles its peak memory for little
-- time gained (benchmarks/README.md has the figures).
SETTINGS max_threads = 1, max_insert_block_size = 262144, min_insert_block_size_rows = 262144,
         min_insert_block_size_bytes = 67108864;
