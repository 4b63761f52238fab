-- freshness per UTC day over every source and channel: freshness_daily's
-- sketches merged again, so a period's KPI quantiles read one sketch per
-- whole day (90 for 90 days, not 90 x sources x channels) and the hourly
-- ones of its partial days.  Written by the freshness job for the days its
-- scope touches (DDSketch merges are exact: same buckets, summed counts).
CREATE TABLE IF NOT EXISTS freshness_daily_total
(
    day      Date,
    events   UInt64,
    skewed   UInt64,
    sketch   AggregateFunction(quantilesDD(0.005, 0.5, 0.95, 0.99), Float64)
)
ENGINE = MergeTree
ORDER BY day
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

INSERT INTO freshness_daily_total
SELECT day, sum(events), sum(skewed), quantilesDDMergeState(0.005, 0.5, 0.95, 0.99)(sketch)
FROM freshness_daily
WHERE day NOT IN (SELECT day FROM freshness_daily_total)
GROUP BY day;
