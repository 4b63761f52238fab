-- Freshness per day, merged from the hourly rows, for the days the run's
-- hours touch.  A day's hours are the run's new hourly rows (freshness_hourly
-- as freshness.sql just wrote it: the run's copy) and the day's other hours
-- as readers see them ({published_freshness_hourly:Identifier}, cut by the
-- runner to those hours).  The runner replaces the touched days' rows.
-- Per source x channel x day:
INSERT INTO freshness_daily
SELECT toDate(hour) AS day, source, channel, sum(events), sum(skewed),
       quantilesDDMergeState(0.005, 0.5, 0.95, 0.99)(sketch)
FROM
(
    SELECT hour, source, channel, events, skewed, sketch FROM freshness_hourly
    UNION ALL
    SELECT hour, source, channel, events, skewed, sketch FROM {published_freshness_hourly:Identifier}
)
GROUP BY day, source, channel;

-- Per UTC day over all sources and channels: merged from the rows just
-- written (the touched days, whole).
INSERT INTO freshness_daily_total
SELECT day, sum(events), sum(skewed), quantilesDDMergeState(0.005, 0.5, 0.95, 0.99)(sketch)
FROM freshness_daily
GROUP BY day;
