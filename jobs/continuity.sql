-- Journeys and continuity (SPEC §3).
-- A customer's events in time order form journeys split by gaps > {gap_ms};
-- a touch is an inbound event other than repeat_info / reauth; a transition
-- is two consecutive touches of one journey on different channels; it is
-- frictionless when no repeat_info / reauth / transfer event of the customer
-- falls in [second touch, second touch + {friction_ms}] (closed).
-- Scope: the scoped_events view (the run's customers, or all when {full:UInt8} = 1).
INSERT INTO transitions
SELECT customer, at, prev_at, from_channel, to_channel, event_id, prev_event_id, journey_start,
       (repeat_info + reauth + transfers) = 0 AS frictionless, repeat_info, reauth, transfers
FROM
(
    SELECT customer, occurred_at AS at, event_id, channel AS to_channel, journey,
           fromUnixTimestamp64Milli(journey_start_ms, 'UTC') AS journey_start,
           n_repeat_info AS repeat_info, n_reauth AS reauth, n_transfer AS transfers,
           lagInFrame(toNullable(channel)) OVER w AS from_channel_n,
           lagInFrame(journey) OVER w AS prev_journey,
           lagInFrame(occurred_at) OVER w AS prev_at,
           lagInFrame(event_id) OVER w AS prev_event_id,
           assumeNotNull(from_channel_n) AS from_channel
    FROM
    (
        SELECT *,
               sum(is_new) OVER s AS journey,
               max(if(is_new, ms, 0)) OVER s AS journey_start_ms
        FROM
        (
            SELECT customer, event_id, occurred_at, ms, channel, type, direction,
                   (ms - lagInFrame(toNullable(ms)) OVER s) AS gap_ms,
                   gap_ms IS NULL OR gap_ms > {gap_ms:Int64} AS is_new,
                   countIf(type = 'repeat_info') OVER f AS n_repeat_info,
                   countIf(type = 'reauth') OVER f AS n_reauth,
                   countIf(type = 'transfer') OVER f AS n_transfer
            FROM
            (
                SELECT e.customer AS customer,
                       e.event_id AS event_id, e.occurred_at AS occurred_at,
                       toUnixTimestamp64Milli(e.occurred_at) AS ms,
                       e.channel AS channel, e.type AS type, e.direction AS direction
                FROM scoped_events(full = {full:UInt8}, job = {job:String}) AS e
            )
            WINDOW f AS (PARTITION BY customer ORDER BY ms RANGE BETWEEN CURRENT ROW AND {friction_ms:UInt64} FOLLOWING),
                   s AS (PARTITION BY customer ORDER BY ms, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )
        WINDOW s AS (PARTITION BY customer ORDER BY ms, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
    WHERE direction = 'inbound' AND type NOT IN ('repeat_info', 'reauth')
    WINDOW w AS (PARTITION BY customer ORDER BY ms, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
WHERE from_channel_n IS NOT NULL AND prev_journey = journey AND from_channel != to_channel;

-- One row per journey, for journey length and the friction mix.
INSERT INTO journeys
SELECT j.customer, j.start_at, j.end_at, j.events, j.touches,
       countIf(t.event_id != '') AS transitions, countIf(t.event_id != '' AND t.frictionless = 0) AS frictioned,
       any(j.channels)
FROM
(
    SELECT customer, journey, min(occurred_at) AS start_at, max(occurred_at) AS end_at, count() AS events,
           countIf(direction = 'inbound' AND type NOT IN ('repeat_info', 'reauth')) AS touches,
           arraySort(groupUniqArray(channel)) AS channels
    FROM
    (
        SELECT *, sum(gap_ms IS NULL OR gap_ms > {gap_ms:Int64}) OVER (PARTITION BY customer ORDER BY ms, event_id
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS journey
        FROM
        (
            SELECT customer, event_id, occurred_at, ms, channel, type, direction,
                   ms - lagInFrame(toNullable(ms)) OVER (PARTITION BY customer ORDER BY ms, event_id
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS gap_ms
            FROM
            (
                SELECT e.customer AS customer,
                       e.event_id AS event_id, e.occurred_at AS occurred_at,
                       toUnixTimestamp64Milli(e.occurred_at) AS ms,
                       e.channel AS channel, e.type AS type, e.direction AS direction
                FROM scoped_events(full = {full:UInt8}, job = {job:String}) AS e
            )
        )
    )
    GROUP BY customer, journey
) AS j
LEFT JOIN
(
    SELECT customer, journey_start, event_id, frictionless FROM transitions
    WHERE {full:UInt8} = 1 OR customer IN (SELECT key FROM {scope:Identifier})
) AS t ON t.customer = j.customer AND t.journey_start = j.start_at
GROUP BY j.customer, j.start_at, j.end_at, j.events, j.touches;
