-- The customer timeline (migration 0005): the run's events with their
-- resolved customer key (scope: the scoped_events view), stored in
-- (customer, ms, event_id) order for the metric jobs to read in order.
INSERT INTO timeline
SELECT e.customer, toUnixTimestamp64Milli(e.occurred_at), e.event_id, e.occurred_at, e.source, e.channel,
       e.direction, e.type, e.topic, e.case_id, e.attrs
FROM scoped_events(full = {full:UInt8}, job = {job:String}) AS e;
