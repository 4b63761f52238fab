-- Journeys and continuity (SPEC §3), in one ordered pass over the timeline.
-- A customer's events in time order (ties by event_id) form journeys split by
-- gaps > {gap_ms}; a touch is an inbound event other than repeat_info /
-- reauth; a transition is two consecutive touches of one journey on
-- different channels; it is frictionless when no repeat_info / reauth /
-- transfer event of the customer falls in [second touch, second touch +
-- {friction_ms}] (closed).
--
-- Per customer of {timeline} (the runner cuts it to the run's customers) the
-- events become sorted arrays; everything below is linear array arithmetic, with no
-- window sort and no self-join:
-- * journeys: is_new marks a gap, arrayCumSum numbers the journeys and
--   arrayFill carries each journey's start forward;
-- * friction after a touch: the three friction types are packed into one
--   weight (repeat_info 1, reauth 2^20, transfer 2^40), so one cumulative sum
--   counts all three.  The weight before the touch's time is the running sum
--   at the start of its run of equal times; the weight up to time + window
--   comes from merging the query times (t + window, tag 1) into the events
--   (t, tag 0) - tag 1 sorts after an event at exactly t + window, so the
--   window is closed;
-- * the previous touch: each touch attribute is masked to touches and carried
--   forward with arrayFill, then shifted by one.
-- The per-customer result is staged once and unrolled into both tables.
-- name: journeys
DROP TABLE IF EXISTS _continuity_stage;

CREATE TABLE _continuity_stage ENGINE = MergeTree ORDER BY customer AS
SELECT customer,
       arrayFilter((x, f) -> f, arrayZip(occ, p_occ, p_ch, chs, ids, p_id, js, fc), is_tr) AS trs,
       arrayZip(arrayMap(x -> x[1], j_occ), arrayMap(x -> x[-1], j_occ), arrayMap(x -> toUInt32(length(x)), j_occ),
                arrayMap(x -> toUInt32(arraySum(x)), arraySplit((x, n) -> n, touch, is_new)),
                arrayMap(x -> toUInt32(arraySum(x)), arraySplit((x, n) -> n, is_tr, is_new)),
                arrayMap(x -> toUInt32(arraySum(x)),
                         arraySplit((x, n) -> n, arrayMap((a, b) -> a AND b != 0, is_tr, fc), is_new)),
                arrayMap(x -> arraySort(arrayDistinct(x)), arraySplit((x, n) -> n, chs, is_new))) AS jns
FROM
(
    SELECT customer,
           arraySort(groupArray((ms, event_id, channel, is_touch, weight, occurred_at))) AS ev,
           tupleElement(ev, 1) AS t,
           tupleElement(ev, 2) AS ids,
           tupleElement(ev, 3) AS chs,
           tupleElement(ev, 4) AS touch,
           tupleElement(ev, 5) AS w,
           tupleElement(ev, 6) AS occ,
           arrayMap((d, i) -> i = 1 OR d > {gap_ms:Int64}, arrayDifference(t), arrayEnumerate(t)) AS is_new,
           arrayCumSum(is_new) AS jn,
           arrayFill((x, n) -> n, t, is_new) AS js,
           arrayCumSum(w) AS cw,
           arrayMap((d, i) -> i = 1 OR d != 0, arrayDifference(t), arrayEnumerate(t)) AS run_start,
           arrayFill((x, s) -> s, arrayMap((c, x) -> c - x, cw, w), run_start) AS before_w,
           arraySort(arrayConcat(arrayMap((x, y) -> (x, 0, y), t, w),
                                 arrayMap(x -> (x + {friction_ms:Int64}, 1, toUInt64(0)), t))) AS merged,
           arrayFilter((c, tag) -> tag = 1, arrayCumSum(tupleElement(merged, 3)), tupleElement(merged, 2)) AS upto_w,
           arrayMap((h, l) -> toUInt64(h - l), upto_w, before_w) AS fc,
           -- last touch at or before each position (0 / '' / epoch: none yet)
           arrayFill((x, m) -> m, arrayMap((x, m) -> if(m, x, toUInt64(0)), jn, touch), touch) AS lt_jn,
           arrayFill((x, m) -> m, arrayMap((x, m) -> if(m, x, ''), chs, touch), touch) AS lt_ch,
           arrayFill((x, m) -> m, arrayMap((x, m) -> if(m, x, ''), ids, touch), touch) AS lt_id,
           arrayFill((x, m) -> m, occ, touch) AS lt_occ,
           arrayPopBack(arrayPushFront(lt_jn, toUInt64(0))) AS p_jn,
           arrayPopBack(arrayPushFront(lt_ch, '')) AS p_ch,
           arrayPopBack(arrayPushFront(lt_id, '')) AS p_id,
           arrayPopBack(arrayPushFront(lt_occ, occ[1])) AS p_occ,
           arrayMap((m, pj, j, pc, c) -> m AND pj = j AND pj != 0 AND pc != c, touch, p_jn, jn, p_ch, chs) AS is_tr,
           arraySplit((x, n) -> n, occ, is_new) AS j_occ
    FROM
    (
        SELECT e.customer AS customer, e.ms AS ms, e.event_id AS event_id, e.channel AS channel,
               e.occurred_at AS occurred_at,
               e.direction = 'inbound' AND e.type NOT IN ('repeat_info', 'reauth') AS is_touch,
               multiIf(e.type = 'repeat_info', toUInt64(1), e.type = 'reauth', toUInt64(1048576),
                       e.type = 'transfer', toUInt64(1099511627776), toUInt64(0)) AS weight
        FROM {timeline:Identifier} AS e
    )
    GROUP BY customer
)
-- Customers stream in key order, 2 k per block, and the stage is written in
-- parts of at most 16 k customers, so the per-customer arrays above never sit
-- in memory all at once (the statement's peak then no longer grows with the
-- number of customers).
SETTINGS optimize_aggregation_in_order = 1, max_block_size = 2048, max_insert_block_size = 16384,
         min_insert_block_size_rows = 16384, min_insert_block_size_bytes = 16777216;

INSERT INTO transitions
SELECT customer, tupleElement(x, 1), tupleElement(x, 2), tupleElement(x, 3), tupleElement(x, 4),
       tupleElement(x, 5), tupleElement(x, 6), fromUnixTimestamp64Milli(tupleElement(x, 7), 'UTC'),
       tupleElement(x, 8) = 0, bitAnd(tupleElement(x, 8), 1048575),
       bitAnd(bitShiftRight(tupleElement(x, 8), 20), 1048575), bitShiftRight(tupleElement(x, 8), 40)
FROM _continuity_stage ARRAY JOIN trs AS x;

INSERT INTO journeys
SELECT customer, tupleElement(x, 1), tupleElement(x, 2), tupleElement(x, 3), tupleElement(x, 4),
       tupleElement(x, 5), tupleElement(x, 6), tupleElement(x, 7)
FROM _continuity_stage ARRAY JOIN jns AS x;

DROP TABLE IF EXISTS _continuity_stage;

-- name: window
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
