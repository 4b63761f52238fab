-- An incremental run's incident rules read this staged copy of its
-- customers' messages and the rules' other event types ({types}): their
-- attrs, scattered over the timeline's granules, are read once, not by every
-- rule.  (A full run's rules read the timeline itself.)
DROP TABLE IF EXISTS _incidents_stage;

CREATE TABLE _incidents_stage ENGINE = MergeTree ORDER BY (customer, ms, event_id) AS
SELECT customer, ms, event_id, occurred_at, channel, direction, type, topic, case_id, attrs
FROM timeline
PREWHERE customer IN (SELECT key FROM {scope:Identifier}) AND type IN {types:Array(String)};
