-- The customer timeline (migration 0005): the run's events with their
-- resolved customer key, stored in (customer, ms, event_id) order for the
-- metric jobs to read in order.  The run's events are every event when
-- {full} = 1, else those of the identifiers in job_scope_idents (filled by
-- the runner); the scope filter is a PREWHERE on the events' sort key, so
-- only the scope's rows are read in full.  An identifier not yet in
-- identity_map is its own customer.
INSERT INTO timeline
SELECT if(m.customer = '', substring(e.ident, 3), m.customer), toUnixTimestamp64Milli(e.occurred_at), e.event_id,
       e.occurred_at, e.source, e.channel, e.direction, e.type, e.topic, e.case_id, e.attrs
FROM
(
    SELECT ident, event_id, occurred_at, source, channel, direction, type, topic, case_id, attrs
    FROM events
    PREWHERE {full:UInt8} = 1 OR ident IN (SELECT ident FROM job_scope_idents WHERE job = {job:String})
) AS e
LEFT JOIN
(
    SELECT ident, customer FROM identity_map
    PREWHERE {full:UInt8} = 1 OR ident IN (SELECT ident FROM job_scope_idents WHERE job = {job:String})
) AS m ON e.ident = m.ident;
