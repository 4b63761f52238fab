-- The incidents page's own reads (its breakdowns are in
-- seamline/kpis/incidents.sql).  Channels and rules: an empty list = all.

-- name: incident_rows
-- the newest incidents touching one of the view's channels and of its rules
SELECT rule, message_event_id, customer, at, channels, event_ids
FROM incidents FINAL
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR hasAny(channels, {channels:Array(String)}))
  AND (length({rules:Array(String)}) = 0 OR rule IN {rules:Array(String)})
ORDER BY at DESC, rule, message_event_id
LIMIT {limit:UInt32};

-- name: incident
-- one incident by its key (rule, message event)
SELECT rule, message_event_id, customer, at, channels, event_ids
FROM incidents FINAL
WHERE rule = {rule:String} AND message_event_id = {m:String}
LIMIT 1;

-- name: customer_timeline
-- every event of a customer (its identifiers, and its own id c:customer
-- before the identity map has it) between a and b, marking the incident's
-- own events (ids); raw events, loaded or not yet in a rollup
SELECT event_id, occurred_at, channel, toString(direction), type, source, topic, attrs['kind'],
       attrs['campaign'], attrs['product'], attrs['subject'], attrs['status'], has({ids:Array(String)}, event_id)
FROM events
WHERE ident IN (SELECT ident FROM identity_map WHERE customer = {customer:String}
                UNION ALL SELECT concat('c:', {customer:String}))
  AND occurred_at >= {a:DateTime64(3, 'UTC')} AND occurred_at <= {b:DateTime64(3, 'UTC')}
ORDER BY occurred_at, event_id
LIMIT {limit:UInt32};
