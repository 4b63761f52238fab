-- What an increment of continuity recomputes (seamline.scopes.Window): per
-- customer of the run, its rows at or after from_ms, from its timeline rows
-- at or after read_ms (the same point here).  {news:Identifier} holds each
-- customer's earliest new event (first_ms; 0: recompute the whole history),
-- {timeline:Identifier} the customers' timeline rows.
--
-- A new event can only change the journey it joins or starts and the ones
-- after it.  A journey that ended more than {gap_ms} ms before the
-- customer's earliest new event keeps its events and its gaps, and its
-- touches' friction windows (shorter than the gap) hold the same events: it
-- and every earlier journey are unchanged.  So the customer is recomputed
-- from the start of the journey of its last event before the new one, when
-- the new one is at most {gap_ms} after it (it joins that journey), else
-- from the new event itself; a late event in the middle of a history goes
-- back only as far as the journey it lands in.
--
-- The journeys are found from the timeline, not read from the journeys
-- table: a run killed between its deletes and its attaches leaves that
-- table without its newest journeys, and the retry must still go back far
-- enough.
INSERT INTO {window:Identifier}
SELECT n.customer,
       if(n.first_ms = 0, toInt64(0),
          if(empty(b.before) OR n.first_ms - b.before[-1] > {gap_ms:Int64}, n.first_ms,
             arrayFilter((x, i) -> i = 1 OR x - b.before[i - 1] > {gap_ms:Int64}, b.before, arrayEnumerate(b.before))[-1]))
           AS from_ms,
       from_ms AS read_ms
FROM {news:Identifier} AS n
LEFT JOIN
(
    -- each customer's event times before its earliest new event, in order
    SELECT t.customer AS customer, arraySort(groupArrayIf(t.ms, t.ms < f.first_ms)) AS before
    FROM {timeline:Identifier} AS t
    INNER JOIN (SELECT customer, first_ms FROM {news:Identifier} WHERE first_ms > 0) AS f ON f.customer = t.customer
    GROUP BY t.customer
) AS b ON b.customer = n.customer;
