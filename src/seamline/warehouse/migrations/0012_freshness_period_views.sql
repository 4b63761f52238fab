-- The freshness rollup rows of a period [start, end): its whole UTC days
-- ([full_from, full_to), seamline.kpis.Period.full_days) from a daily table
-- (hour = the day's midnight), the hours of its partial days from
-- freshness_hourly.  Sums and sketch merges over it equal those over
-- freshness_hourly alone, and read one row per day for the whole days.
-- Parameterized views, so that the KPIs and the pages select from the one
-- definition: SELECT … FROM freshness_period(start = …, end = …, full_from = …, full_to = …).

-- per source and channel
CREATE VIEW IF NOT EXISTS freshness_period AS
SELECT toDateTime(day, 'UTC') AS hour, source, channel, events, skewed, sketch
FROM freshness_daily
WHERE day >= {full_from:Date} AND day < {full_to:Date}
UNION ALL
SELECT hour, source, channel, events, skewed, sketch
FROM freshness_hourly
WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}
  AND (hour < toDateTime({full_from:Date}, 'UTC') OR hour >= toDateTime({full_to:Date}, 'UTC'));

-- over every source and channel (one sketch per whole day): only sums and
-- merges over all its rows are meaningful
CREATE VIEW IF NOT EXISTS freshness_period_total AS
SELECT toDateTime(day, 'UTC') AS hour, events, skewed, sketch
FROM freshness_daily_total
WHERE day >= {full_from:Date} AND day < {full_to:Date}
UNION ALL
SELECT hour, events, skewed, sketch
FROM freshness_hourly
WHERE hour >= {start:DateTime64(3, 'UTC')} AND hour < {end:DateTime64(3, 'UTC')}
  AND (hour < toDateTime({full_from:Date}, 'UTC') OR hour >= toDateTime({full_to:Date}, 'UTC'));
