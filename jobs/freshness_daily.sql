-- Freshness per day, merged from the hourly rows, for the days the scope
-- ({scope:Identifier}) touches, or every day when {full:UInt8} = 1.  A day's
-- hours are the run's new hourly rows (freshness_hourly as freshness.sql just
-- wrote it: the run's copy) and, in an increment, the day's other hours as
-- readers see them ({published_freshness_hourly:Identifier}).  The runner
-- replaces the touched days' rows.
-- Per source x channel x day:
INSERT INTO freshness_daily
SELECT toDate(hour) AS day, source, channel, sum(events), sum(skewed),
       quantilesDDMergeState(0.005, 0.5, 0.95, 0.99)(sketch)
FROM
(
    SELECT hour, source, channel, events, skewed, sketch FROM freshness_hourly
    UNION ALL
    SELECT hour, source, channel, events, skewed, sketch FROM {published_freshness_hourly:Identifier}
    WHERE {full:UInt8} = 0 AND toDate(hour) IN (SELECT DISTINCT toDate(key) FROM {scope:Identifier})
      AND hour NOT IN (SELECT key FROM {scope:Identifier})
)
GROUP BY day, source, channel;

-- Per UTC day over all sources and channels: merged from the rows just
-- written (the touched days, whole).
INSERT INTO freshness_daily_total
SELECT day, sum(events), sum(skewed), quantilesDDMergeState(0.005, 0.5, 0.95, 0.99)(sketch)
FROM freshness_daily
GROUP BY day;
