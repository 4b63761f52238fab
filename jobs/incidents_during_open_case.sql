-- Rule template `during_open_case`: an outbound message whose attrs match
-- {msg_keys}/{msg_values} while the customer has a case on {case_topic},
-- opened by a `contact` with that case_id at or before the message, and with
-- no `resolution` of that case_id at or before the message.
INSERT INTO incidents
SELECT {rule:String}, mid, mcustomer, mat,
       arrayDistinct(arrayConcat(arrayMap(x -> x.3, cs), [mchannel])),
       arrayConcat(arrayMap(x -> x.2, cs), [mid]),
       now64(3)
FROM
(
    SELECT m.event_id AS mid, m.customer AS mcustomer, m.occurred_at AS mat, m.channel AS mchannel,
           arraySort(groupArray((c.opened_at, c.open_event_id, c.channel))) AS cs
    FROM
    (
        SELECT e.customer AS customer,
               e.event_id, e.occurred_at, e.channel
        FROM {timeline:Identifier} AS e
        WHERE e.type = 'message'
          AND e.direction = 'outbound'
          AND arrayMap(k -> e.attrs[k], {msg_keys:Array(String)}) = {msg_values:Array(String)}
    ) AS m
    INNER JOIN
    (
        SELECT o.customer, o.case_id, o.opened_at, o.open_event_id, o.channel,
               r.resolved_times
        FROM
        (
            SELECT e.customer AS customer, e.case_id AS case_id,
                   min(e.occurred_at) AS opened_at,
                   argMin(e.event_id, (e.occurred_at, e.event_id)) AS open_event_id,
                   argMin(e.channel, (e.occurred_at, e.event_id)) AS channel
            FROM {timeline:Identifier} AS e
            WHERE e.type = 'contact'
              AND e.case_id != '' AND e.topic = {case_topic:String}
            GROUP BY customer, case_id
        ) AS o
        LEFT JOIN
        (
            SELECT case_id, groupArray(occurred_at) AS resolved_times
            FROM case_resolutions
            WHERE case_id IN (SELECT case_id FROM {timeline:Identifier} WHERE type = 'contact' AND case_id != '')
            GROUP BY case_id
        ) AS r ON r.case_id = o.case_id
    ) AS c ON c.customer = m.customer
    WHERE c.opened_at <= m.occurred_at
      AND NOT arrayExists(x -> x >= c.opened_at AND x <= m.occurred_at, c.resolved_times)
    GROUP BY mid, mcustomer, mat, mchannel
);
