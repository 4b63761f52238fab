-- The events the incident rules read - messages and the rules' other event
-- types ({types}) - of the run's customers (all when {full:UInt8} = 1),
-- staged once: the rules then join this small table instead of each reading
-- the timeline's attrs again.
DROP TABLE IF EXISTS _incidents_stage;

CREATE TABLE _incidents_stage ENGINE = MergeTree ORDER BY (customer, ms, event_id) AS
SELECT customer, ms, event_id, occurred_at, channel, direction, type, topic, case_id, attrs
FROM timeline
PREWHERE ({full:UInt8} = 1 OR customer IN (SELECT key FROM {scope:Identifier})) AND type IN {types:Array(String)};
