-- Silence / repeat contacts (SPEC §3).
-- A contact is a repeat contact when the same customer had a contact on the
-- same topic (missing topic = 'unknown') in the {repeat_ms} ms before it
-- (closed window; ties in time are ordered by event_id).
-- name: contacts
INSERT INTO contacts
SELECT customer, occurred_at, event_id, channel, topic,
       prev_ms IS NOT NULL AND ms - prev_ms <= {repeat_ms:Int64} AS is_repeat,
       if(is_repeat, prev_id, '') AS prev_event_id
FROM
(
    SELECT customer, occurred_at, event_id, channel, topic, ms,
           lagInFrame(toNullable(ms)) OVER w AS prev_ms,
           lagInFrame(event_id) OVER w AS prev_id
    FROM
    (
        SELECT e.customer AS customer,
               e.occurred_at AS occurred_at, e.event_id AS event_id, e.channel AS channel,
               if(e.topic = '', 'unknown', e.topic) AS topic, e.ms AS ms
        FROM {timeline:Identifier} AS e
        WHERE e.type = 'contact'
    )
    WINDOW w AS (PARTITION BY customer, topic ORDER BY ms, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
);

-- Per customer and UTC day: activity and friction counts.
INSERT INTO customer_days
SELECT a.customer, a.day, a.events, a.inbound, a.contacts, ifNull(r.repeats, 0), a.repeat_info, a.reauth, a.transfers
FROM
(
    SELECT e.customer AS customer,
           toDate(e.occurred_at) AS day,
           count() AS events,
           countIf(e.direction = 'inbound') AS inbound,
           countIf(e.type = 'contact') AS contacts,
           countIf(e.type = 'repeat_info') AS repeat_info,
           countIf(e.type = 'reauth') AS reauth,
           countIf(e.type = 'transfer') AS transfers
    FROM {timeline:Identifier} AS e
    GROUP BY customer, day
) AS a
LEFT JOIN
(
    SELECT customer, toDate(at) AS day, toUInt32(sum(is_repeat)) AS repeats
    FROM contacts
    GROUP BY customer, day
) AS r ON r.customer = a.customer AND r.day = a.day;

-- name: window
-- What an increment of silence recomputes (seamline.scopes.Window): per
-- customer of the run, its contacts and customer-days from the UTC day of its
-- earliest new event (first_ms in {news:Identifier}; 0: the whole history)
-- on, from its timeline rows of the {repeat_ms} ms before that day on.
--
-- A new event changes the counts of its own day, and a new contact the repeat
-- flag of the customer's next contact on its topic (a contact is a repeat when
-- the previous one on its topic is at most {repeat_ms} before it), which comes
-- later: everything before the day stays.  A contact of the day or later
-- finds its previous one in the {repeat_ms} ms it looks back over, or has none
-- there and is no repeat either way; the contacts and days of that look-back
-- are read, not written (the runner keeps only the rows from from_ms on).
INSERT INTO {window:Identifier}
SELECT customer,
       if(first_ms = 0, toInt64(0),
          toUnixTimestamp64Milli(toDateTime64(toDate(fromUnixTimestamp64Milli(first_ms, 'UTC')), 3, 'UTC'))) AS from_ms,
       if(from_ms = 0, toInt64(0), from_ms - {repeat_ms:Int64}) AS read_ms
FROM {news:Identifier};
