-- The freshness page's own reads (its KPI breakdowns, the series and the SLO
-- per source, are in seamline/kpis/freshness.sql).  Sources and channels:
-- an empty list = all.

-- name: lag_histogram
-- the lags of one source in log bins (k bins per decade), the week before a
-- regression's onset vs the week after
SELECT if(hour < {onset:DateTime64(3, 'UTC')}, 'before', 'after') AS phase,
       floor(log10(greatest(lag, 0.1)) * {k:UInt32}) AS b,
       count()
FROM freshness_hourly ARRAY JOIN lags AS lag
WHERE source = {source:String} AND hour >= {b0:DateTime64(3, 'UTC')} AND hour < {a1:DateTime64(3, 'UTC')}
GROUP BY phase, b
ORDER BY phase, b
LIMIT 10000;

-- name: slowest_bound
-- the slowest-events table, step 1: the n largest per-row maxima of the
-- hourly rollup; with n rows, their minimum bounds the n-th largest lag
-- from below (those rows hold n distinct events at least that slow)
SELECT count(), min(m)
FROM (
    SELECT lag_max AS m
    FROM freshness_hourly
    WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}
      AND (length({sources:Array(String)}) = 0 OR source IN {sources:Array(String)})
      AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
    ORDER BY m DESC
    LIMIT {n:UInt64}
);

-- name: slowest_bound_few
-- with fewer than n rows: the n-th largest lag itself, from the rows' sorted lags
SELECT min(l)
FROM (
    SELECT arrayJoin(arraySlice(arrayReverse(lags), 1, {n:UInt64})) AS l
    FROM freshness_hourly
    WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}
      AND (length({sources:Array(String)}) = 0 OR source IN {sources:Array(String)})
      AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
    ORDER BY l DESC
    LIMIT {n:UInt64}
);

-- name: slowest_events
-- step 2: the n slowest events of the period, scanning only rows at or above
-- the bound (t_ms, in milliseconds)
SELECT event_id, source, channel, type, occurred_at, ingested_at,
       (toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(occurred_at)) / 1000 AS lag_s
FROM events
WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(occurred_at) >= {t_ms:Float64}
  AND (length({sources:Array(String)}) = 0 OR source IN {sources:Array(String)})
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
ORDER BY lag_s DESC, event_id
LIMIT {n:UInt64};
