-- freshness per source x channel x UTC day: the hourly sketches merged, so a
-- period's quantiles read its whole days here (24x fewer sketches) and only
-- its partial days from freshness_hourly.  Written by the freshness job for
-- the days its scope touches (DDSketch merges are exact: same buckets).
CREATE TABLE IF NOT EXISTS freshness_daily
(
    day      Date,
    source   LowCardinality(String),
    channel  LowCardinality(String),
    events   UInt64,
    skewed   UInt64,
    sketch   AggregateFunction(quantilesDD(0.005, 0.5, 0.95, 0.99), Float64)
)
ENGINE = MergeTree
ORDER BY (day, source, channel);

INSERT INTO freshness_daily
SELECT toDate(hour) AS day, source, channel, sum(events), sum(skewed),
       quantilesDDMergeState(0.005, 0.5, 0.95, 0.99)(sketch)
FROM freshness_hourly
WHERE toDate(hour) NOT IN (SELECT day FROM freshness_daily)
GROUP BY day, source, channel;
