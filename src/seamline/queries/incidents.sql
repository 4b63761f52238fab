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

-- name: incident_groups
-- the incidents of the view (its channels and rule) per rule and day of the
-- display zone (tz), the biggest first: how many, their customers, channels,
-- first and last time, and the campaigns of their messages (from the
-- timeline, by its key: customer, then event)
WITH picked AS (
    SELECT rule, message_event_id, customer, at, channels
    FROM incidents FINAL
    WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
      AND (length({channels:Array(String)}) = 0 OR hasAny(channels, {channels:Array(String)}))
      AND (length({rules:Array(String)}) = 0 OR rule IN {rules:Array(String)})
)
SELECT i.rule AS rule, toDate(i.at, {tz:String}) AS day, count() AS incidents, uniqExact(i.customer) AS customers,
       arraySort(groupUniqArrayIf(c.campaign, c.campaign != '')) AS campaigns,
       arraySort(groupUniqArrayArray(i.channels)) AS channels, min(i.at) AS first_at, max(i.at) AS last_at
FROM picked AS i
LEFT JOIN (
    SELECT customer, event_id, any(attrs['campaign']) AS campaign
    FROM timeline
    WHERE (customer, event_id) IN (SELECT customer, message_event_id FROM picked)
    GROUP BY customer, event_id
) AS c ON c.customer = i.customer AND c.event_id = i.message_event_id
GROUP BY rule, day
ORDER BY incidents DESC, day DESC, rule
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
