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
-- per day of the period: that day's counts, and the period's counts from its
-- first day through that day (the tile's definitions: a customer is active
-- from their first day with an inbound event, and no longer silent from the
-- first day they repeated a contact or information, on any day); the last
-- day's "to date" counts are the period's (statement period)
SELECT day, active, contacts, repeats,
       sum(new_active) OVER to_date, sum(new_noisy) OVER to_date, sum(contacts) OVER to_date,
       sum(repeats) OVER to_date
FROM (
    SELECT d.day AS day, d.active AS active, d.contacts AS contacts, d.repeats AS repeats,
           ifNull(f.new_active, 0) AS new_active, ifNull(f.new_noisy, 0) AS new_noisy
    FROM (
        SELECT day, countIf(inbound > 0) AS active, sum(contacts) AS contacts, sum(repeat_contacts) AS repeats
        FROM customer_days
        WHERE day >= {start_day:Date} AND day < {end_day:Date}
        GROUP BY day
    ) AS d
    LEFT JOIN (
        -- each customer counts once: on the day it became active, and on the
        -- day it stopped being silent (not before it was active)
        SELECT t.1 AS day, sum(t.2) AS new_active, sum(t.3) AS new_noisy
        FROM (
            SELECT arrayJoin(if(noisy_days > 0, [(first_active, 1, 0), (greatest(first_active, first_noisy), 0, 1)],
                                [(first_active, 1, 0)])) AS t
            FROM (
                SELECT minIf(day, inbound > 0) AS first_active, countIf(inbound > 0) AS active_days,
                       minIf(day, repeat_contacts > 0 OR repeat_info > 0) AS first_noisy,
                       countIf(repeat_contacts > 0 OR repeat_info > 0) AS noisy_days
                FROM customer_days
                WHERE day >= {start_day:Date} AND day < {end_day:Date}
                GROUP BY customer
                HAVING active_days > 0
            )
        )
        GROUP BY day
    ) AS f ON f.day = d.day
)
WINDOW to_date AS (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
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
