-- Repeat contact and "silence" (SPEC §3), from customer_days (written by the
-- silence job, jobs/silence.sql): one row per customer and UTC day.

-- name: period
-- per customer over the period, then counted
SELECT countIf(inbound > 0), countIf(inbound > 0 AND contacts = 0),
       countIf(inbound > 0 AND repeat_contacts = 0 AND repeat_info = 0), sum(contacts), sum(repeat_contacts)
FROM (
    SELECT customer, sum(inbound) AS inbound, sum(contacts) AS contacts,
           sum(repeat_contacts) AS repeat_contacts, sum(repeat_info) AS repeat_info
    FROM customer_days
    WHERE day >= {start_day:Date} AND day < {end_day:Date}
    GROUP BY customer
);

-- name: daily
-- per day: a customer is active, silent, … on that day
SELECT day, countIf(inbound > 0), sum(contacts), sum(repeat_contacts),
       countIf(inbound > 0 AND repeat_contacts = 0 AND repeat_info = 0)
FROM customer_days
WHERE day >= {start_day:Date} AND day < {end_day:Date}
GROUP BY day
ORDER BY day;

-- name: repeat_by_topic
-- contacts and repeat contacts per topic in the view's channels and topics
-- (an empty list = all; the effort page)
SELECT topic, count(), sum(is_repeat)
FROM contacts
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
  AND (length({topics:Array(String)}) = 0 OR topic IN {topics:Array(String)})
GROUP BY topic
ORDER BY topic;
