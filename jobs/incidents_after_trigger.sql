-- Rule template `after_trigger`: an outbound message whose attrs match
-- {msg_keys}/{msg_values} within {window_ms} ms (closed) after the same
-- customer's {trigger_type} event whose attrs {match_keys} are equal (and set).
-- The match values are part of the join key, so a customer's purchases of one
-- product never meet promos for another.
-- One incident per offending message; event_ids = triggers (by time) + message.
INSERT INTO incidents
SELECT {rule:String}, mid, mcustomer, mat,
       arrayDistinct(arrayConcat(arrayMap(x -> x.3, tr), [mchannel])),
       arrayConcat(arrayMap(x -> x.2, tr), [mid]),
       now64(3)
FROM
(
    SELECT m.event_id AS mid, m.customer AS mcustomer, m.occurred_at AS mat, m.channel AS mchannel,
           arraySort(groupArray((t.occurred_at, t.event_id, t.channel))) AS tr
    FROM
    (
        SELECT e.customer AS customer,
               e.event_id, e.occurred_at, e.channel,
               arrayMap(k -> e.attrs[k], {match_keys:Array(String)}) AS match_values
        FROM {timeline:Identifier} AS e
        WHERE e.type = 'message'
          AND e.direction = 'outbound'
          AND arrayMap(k -> e.attrs[k], {msg_keys:Array(String)}) = {msg_values:Array(String)}
          AND NOT has(match_values, '')
    ) AS m
    INNER JOIN
    (
        SELECT e.customer AS customer,
               e.event_id, e.occurred_at, e.channel,
               arrayMap(k -> e.attrs[k], {match_keys:Array(String)}) AS match_values
        FROM {timeline:Identifier} AS e
        WHERE e.type = {trigger_type:String}
    ) AS t ON t.customer = m.customer AND t.match_values = m.match_values
    WHERE t.occurred_at <= m.occurred_at
      AND t.event_id != m.event_id
      AND toUnixTimestamp64Milli(m.occurred_at) - toUnixTimestamp64Milli(t.occurred_at) <= {window_ms:Int64}
    GROUP BY mid, mcustomer, mat, mchannel
);
