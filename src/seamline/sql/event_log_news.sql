-- The event log's appended events in an increment (seamline.scopes.EventLogCut).

-- name: create
-- the columns of events the timeline job reads
CREATE TABLE {news:Identifier} ENGINE = Memory AS
SELECT ident, event_id, occurred_at, source, channel, direction, type, topic, case_id, attrs
FROM events
LIMIT 0;

-- name: fill
-- The run's new events ({batches}, loaded after {since}: read through the
-- load_id index) of the customers whose key did not change (the re-keyed
-- ones' identifiers, {idents}, are rewritten whole), without the events the
-- log as readers see it ({published}) already holds: a retry after a crash
-- must not append them again.  Only the scope's customers' rows from the new
-- events' earliest time on can hold them.
INSERT INTO {news:Identifier}
SELECT ident, event_id, occurred_at, source, channel, direction, type, topic, case_id, attrs
FROM events
PREWHERE load_id IN (SELECT batch FROM {batches:Identifier})
WHERE loaded_at > {since:DateTime64(3, 'UTC')}
  AND ident NOT IN (SELECT ident FROM {idents:Identifier})
  AND event_id NOT IN (
      SELECT event_id FROM {published:Identifier}
      PREWHERE customer IN (SELECT key FROM {scope:Identifier})
      WHERE ms >= (SELECT min(toUnixTimestamp64Milli(occurred_at)) FROM events
                   PREWHERE load_id IN (SELECT batch FROM {batches:Identifier})));
