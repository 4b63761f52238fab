-- Rule template `contradiction`: two outbound messages to the same customer on
-- different channels within {window_ms} ms (closed) with the same attr {same}
-- and a different attr {differ}.  The offending message is the later one
-- (ties in time ordered by event_id); event_ids = earlier ones + it.
INSERT INTO incidents
SELECT {rule:String}, mid, mcustomer, mat,
       arrayDistinct(arrayConcat(arrayMap(x -> x.3, prior), [mchannel])),
       arrayConcat(arrayMap(x -> x.2, prior), [mid]),
       now64(3)
FROM
(
    SELECT b.event_id AS mid, b.customer AS mcustomer, b.occurred_at AS mat, b.channel AS mchannel,
           arraySort(groupArray((a.occurred_at, a.event_id, a.channel))) AS prior
    FROM
    (
        SELECT e.customer AS customer,
               e.event_id, e.occurred_at, e.channel, e.attrs[{same:String}] AS same_v, e.attrs[{differ:String}] AS differ_v
        FROM {timeline:Identifier} AS e
        WHERE e.type = 'message'
          AND e.direction = 'outbound'
          AND e.attrs[{same:String}] != '' AND e.attrs[{differ:String}] != ''
    ) AS b
    INNER JOIN
    (
        SELECT e.customer AS customer,
               e.event_id, e.occurred_at, e.channel, e.attrs[{same:String}] AS same_v, e.attrs[{differ:String}] AS differ_v
        FROM {timeline:Identifier} AS e
        WHERE e.type = 'message'
          AND e.direction = 'outbound'
          AND e.attrs[{same:String}] != '' AND e.attrs[{differ:String}] != ''
    ) AS a ON a.customer = b.customer AND a.same_v = b.same_v
    WHERE (a.occurred_at, a.event_id) < (b.occurred_at, b.event_id)
      AND toUnixTimestamp64Milli(b.occurred_at) - toUnixTimestamp64Milli(a.occurred_at) <= {window_ms:Int64}
      AND a.channel != b.channel
      AND a.differ_v != b.differ_v
    GROUP BY mid, mcustomer, mat, mchannel
);
