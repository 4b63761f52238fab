-- Retention cohorts (SPEC §3): per customer the first event, the landmark
-- ({landmark_days} days later), the first churn, and the first-30-day
-- friction segment: any non-frictionless transition, repeat contact or
-- repeat_info in [first_at, landmark_at).  Reads the continuity and silence
-- rollups, so those jobs run first.
INSERT INTO retention_customers
SELECT b.customer, b.first_at, b.landmark_at, b.churn_at,
       if(b.churn_at > b.landmark_at, b.churn_at, NULL) AS churn_after_at,
       (bad_t + rep_c + b.repeat_info_30d) > 0 AS frictioned,
       b.first_channel,
       arrayCount(x -> x.1 >= b.first_at AND x.1 < b.landmark_at, t.tr) AS n_t,
       arrayCount(x -> x.1 >= b.first_at AND x.1 < b.landmark_at AND x.2 = 0, t.tr) AS bad_t,
       arrayCount(x -> x >= b.first_at AND x < b.landmark_at, c.rc) AS rep_c,
       b.repeat_info_30d
FROM
(
    SELECT customer, first_at, landmark_at, churn_at, first_channel,
           arrayCount(x -> x >= first_at AND x < landmark_at, ri_times) AS repeat_info_30d
    FROM
    (
        SELECT e.customer AS customer,
               min(e.occurred_at) AS first_at,
               first_at + toIntervalDay({landmark_days:UInt32}) AS landmark_at,
               minIf(toNullable(e.occurred_at), e.type = 'churn') AS churn_at,
               argMin(e.channel, (e.occurred_at, e.event_id)) AS first_channel,
               groupArrayIf(e.occurred_at, e.type = 'repeat_info') AS ri_times
        FROM {timeline:Identifier} AS e
        GROUP BY customer
    )
) AS b
LEFT JOIN
(
    SELECT customer, groupArray((at, frictionless)) AS tr FROM {transitions:Identifier}
    GROUP BY customer
) AS t ON t.customer = b.customer
LEFT JOIN
(
    SELECT customer, groupArrayIf(at, is_repeat = 1) AS rc FROM {contacts:Identifier}
    GROUP BY customer
) AS c ON c.customer = b.customer;
