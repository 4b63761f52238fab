-- Freshness: lag = ingested_at - occurred_at in seconds; negative lags count
-- as 0 and are reported as skewed.  {events:Identifier} holds the events of
-- the run's hours (the runner cuts it: seamline.scopes.HourCut), and
-- freshness_hourly read below holds the run's new rows of those hours.
INSERT INTO freshness_hourly
SELECT hour, source, channel, n, skewed, lag_sum, lag_max,
       -- quantileExactInclusive (linear interpolation at (n - 1) * level) read
       -- off the sorted lags, so the group is sorted once
       s[toUInt64(floor((n - 1) * 0.5)) + 1] + ((n - 1) * 0.5 - floor((n - 1) * 0.5)) * (s[least(toUInt64(floor((n - 1) * 0.5)) + 2, n)] - s[toUInt64(floor((n - 1) * 0.5)) + 1]),
       s[toUInt64(floor((n - 1) * 0.95)) + 1] + ((n - 1) * 0.95 - floor((n - 1) * 0.95)) * (s[least(toUInt64(floor((n - 1) * 0.95)) + 2, n)] - s[toUInt64(floor((n - 1) * 0.95)) + 1]),
       s[toUInt64(floor((n - 1) * 0.99)) + 1] + ((n - 1) * 0.99 - floor((n - 1) * 0.99)) * (s[least(toUInt64(floor((n - 1) * 0.99)) + 2, n)] - s[toUInt64(floor((n - 1) * 0.99)) + 1]),
       sketch, s
FROM
(
    SELECT hour, source, channel, count() AS n, countIf(lag < 0) AS skewed,
           sum(lag0_ms) / 1000 AS lag_sum, max(lag0) AS lag_max,
           quantilesDDState(0.005, 0.5, 0.95, 0.99)(lag0) AS sketch,
           arraySort(groupArray(lag0)) AS s
    FROM
    (
        SELECT toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour, source, channel,
               toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(occurred_at) AS lag_ms,
               lag_ms / 1000 AS lag,
               greatest(lag_ms, 0) AS lag0_ms,
               lag0_ms / 1000 AS lag0
        FROM {events:Identifier}
    )
    GROUP BY hour, source, channel
);

-- Per source-hour (all channels): merged from the rows just written.
INSERT INTO freshness_source_hourly
SELECT hour, source, n, skewed,
       s[toUInt64(floor((n - 1) * 0.5)) + 1] + ((n - 1) * 0.5 - floor((n - 1) * 0.5)) * (s[least(toUInt64(floor((n - 1) * 0.5)) + 2, n)] - s[toUInt64(floor((n - 1) * 0.5)) + 1]),
       s[toUInt64(floor((n - 1) * 0.95)) + 1] + ((n - 1) * 0.95 - floor((n - 1) * 0.95)) * (s[least(toUInt64(floor((n - 1) * 0.95)) + 2, n)] - s[toUInt64(floor((n - 1) * 0.95)) + 1]),
       s[toUInt64(floor((n - 1) * 0.99)) + 1] + ((n - 1) * 0.99 - floor((n - 1) * 0.99)) * (s[least(toUInt64(floor((n - 1) * 0.99)) + 2, n)] - s[toUInt64(floor((n - 1) * 0.99)) + 1]),
       lag_max
FROM
(
    SELECT hour, source, sum(events) AS n, sum(skewed) AS skewed, max(lag_max) AS lag_max,
           arraySort(arrayFlatten(groupArray(lags))) AS s
    FROM freshness_hourly
    GROUP BY hour, source
);
