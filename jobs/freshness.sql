-- Freshness: lag = ingested_at - occurred_at in seconds; negative lags count
-- as 0 and are reported as skewed.  Scope: hours in {scope:Identifier}
-- (column `key`, the hour), or all when {full:UInt8} = 1.
INSERT INTO freshness_hourly
SELECT hour, source, channel, count() AS events, countIf(lag < 0) AS skewed,
       sum(lag0_ms) / 1000, max(lag0),
       quantilesExactInclusive(0.5, 0.95, 0.99)(lag0)[1],
       quantilesExactInclusive(0.5, 0.95, 0.99)(lag0)[2],
       quantilesExactInclusive(0.5, 0.95, 0.99)(lag0)[3],
       quantilesDDState(0.005, 0.5, 0.95, 0.99)(lag0),
       arraySort(groupArray(lag0))
FROM
(
    SELECT toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour, source, channel,
           toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(occurred_at) AS lag_ms,
           lag_ms / 1000 AS lag,
           greatest(lag_ms, 0) AS lag0_ms,
           lag0_ms / 1000 AS lag0
    FROM events
    WHERE {full:UInt8} = 1 OR toDateTime(toStartOfHour(occurred_at), 'UTC') IN (SELECT key FROM {scope:Identifier})
)
GROUP BY hour, source, channel;

INSERT INTO freshness_source_hourly
SELECT hour, source, count(), countIf(lag < 0),
       quantilesExactInclusive(0.5, 0.95, 0.99)(lag0)[1],
       quantilesExactInclusive(0.5, 0.95, 0.99)(lag0)[2],
       quantilesExactInclusive(0.5, 0.95, 0.99)(lag0)[3],
       max(lag0)
FROM
(
    SELECT toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour, source,
           (toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(occurred_at)) / 1000 AS lag,
           greatest(lag, 0) AS lag0
    FROM events
    WHERE {full:UInt8} = 1 OR toDateTime(toStartOfHour(occurred_at), 'UTC') IN (SELECT key FROM {scope:Identifier})
)
GROUP BY hour, source;
