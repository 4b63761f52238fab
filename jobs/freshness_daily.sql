-- Freshness per day, merged from freshness_hourly (freshness.sql) for the
-- days the scope touches ({scope:Identifier}), or all when {full:UInt8} = 1.
-- Per source x channel x day: every day the scope touches, merged again from
-- all of that day's hours (the runner truncates the table in a full run).
DELETE FROM freshness_daily
WHERE {full:UInt8} = 0 AND day IN (SELECT DISTINCT toDate(key) FROM {scope:Identifier});

INSERT INTO freshness_daily
SELECT toDate(hour) AS day, source, channel, sum(events), sum(skewed),
       quantilesDDMergeState(0.005, 0.5, 0.95, 0.99)(sketch)
FROM freshness_hourly
WHERE {full:UInt8} = 1 OR toDate(hour) IN (SELECT DISTINCT toDate(key) FROM {scope:Identifier})
GROUP BY day, source, channel;

-- Per UTC day over all sources and channels: merged from the rows just
-- written (the runner truncates the table in a full run).
DELETE FROM freshness_daily_total
WHERE {full:UInt8} = 0 AND day IN (SELECT DISTINCT toDate(key) FROM {scope:Identifier});

INSERT INTO freshness_daily_total
SELECT day, sum(events), sum(skewed), quantilesDDMergeState(0.005, 0.5, 0.95, 0.99)(sketch)
FROM freshness_daily
WHERE {full:UInt8} = 1 OR day IN (SELECT DISTINCT toDate(key) FROM {scope:Identifier})
GROUP BY day;
