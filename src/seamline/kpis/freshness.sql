-- Freshness KPIs of a period (SPEC §3): lag = ingested_at - occurred_at.
-- Rows come from the freshness_period views (migration 0012): whole days
-- from the daily rollups, partial days from the hourly one.

-- name: totals
SELECT sum(events), sum(skewed)
FROM freshness_period_total(start = {start:DateTime64(3, 'UTC')}, end = {end:DateTime64(3, 'UTC')},
                            full_from = {full_from:Date}, full_to = {full_to:Date});

-- name: quantiles_exact
-- exact quantiles from the stored lags (periods of up to EXACT_QUANTILE_MAX_EVENTS events)
SELECT quantilesExactInclusive(0.5, 0.95, 0.99)(lag)
FROM freshness_hourly ARRAY JOIN lags AS lag
WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')};

-- name: quantiles_sketch
-- merged DDSketch states (relative accuracy 0.5 %)
SELECT quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch)
FROM freshness_period_total(start = {start:DateTime64(3, 'UTC')}, end = {end:DateTime64(3, 'UTC')},
                            full_from = {full_from:Date}, full_to = {full_to:Date});

-- name: slo
-- source-hours whose p95 met the source's target ({t_sources}/{t_values}, else {t_default})
SELECT countIf(p95 <= if(has({t_sources:Array(String)}, source),
                         arrayElement({t_values:Array(Float64)}, indexOf({t_sources:Array(String)}, source)),
                         {t_default:Float64})),
       count()
FROM freshness_source_hourly
WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')};

-- name: daily
SELECT toDate(hour) AS day, sum(events), quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch)[2]
FROM freshness_period_total(start = {start:DateTime64(3, 'UTC')}, end = {end:DateTime64(3, 'UTC')},
                            full_from = {full_from:Date}, full_to = {full_to:Date})
GROUP BY day;

-- name: daily_slo
SELECT toDate(hour) AS day,
       countIf(p95 <= if(has({t_sources:Array(String)}, source),
                         arrayElement({t_values:Array(Float64)}, indexOf({t_sources:Array(String)}, source)),
                         {t_default:Float64})) / count()
FROM freshness_source_hourly
WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}
GROUP BY day;

-- name: by_source
-- the SLO per source (the freshness page's breakdown; {sources} empty = all)
SELECT source,
       any(if(has({t_sources:Array(String)}, source),
              arrayElement({t_values:Array(Float64)}, indexOf({t_sources:Array(String)}, source)),
              {t_default:Float64})) AS target,
       count(),
       countIf(p95 <= if(has({t_sources:Array(String)}, source),
                         arrayElement({t_values:Array(Float64)}, indexOf({t_sources:Array(String)}, source)),
                         {t_default:Float64})),
       sum(events), max(p95)
FROM freshness_source_hourly
WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}
  AND (length({sources:Array(String)}) = 0 OR source IN {sources:Array(String)})
GROUP BY source
ORDER BY source;

-- name: series_hours
-- per source and time bucket (bucket seconds: an hour or six), from the
-- hourly rollup: events and merged-sketch p50, p95, p99 (the freshness page;
-- sources and channels: an empty list = all)
SELECT toStartOfInterval(hour, toIntervalSecond({bucket:UInt32})) AS bucket, source, sum(events),
       quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch) AS q, q[1], q[2], q[3]
FROM freshness_hourly AS f
WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}
  AND (length({sources:Array(String)}) = 0 OR source IN {sources:Array(String)})
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
GROUP BY bucket, source
ORDER BY source, bucket
LIMIT 100000;

-- name: series_days
-- the same with day buckets: whole days come merged from the daily rollup
SELECT toStartOfInterval(hour, toIntervalSecond({bucket:UInt32})) AS bucket, source, sum(events),
       quantilesDDMerge(0.005, 0.5, 0.95, 0.99)(sketch) AS q, q[1], q[2], q[3]
FROM freshness_period(start = {start:DateTime64(3, 'UTC')}, end = {end:DateTime64(3, 'UTC')},
                      full_from = {full_from:Date}, full_to = {full_to:Date}) AS f
WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}
  AND (length({sources:Array(String)}) = 0 OR source IN {sources:Array(String)})
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
GROUP BY bucket, source
ORDER BY source, bucket
LIMIT 100000;
