-- Retention by connection quality (SPEC §3): customers who reach the landmark
-- (first event + landmark days) without churning form the cohort; frictioned
-- = friction before the landmark; survival from the landmark to churn (or to
-- the end of data, censored).  retention_customers is written by the
-- retention job (jobs/retention.sql), data_bounds by retention_bounds.sql.
-- A cohort is every customer ({has_period} = 0) or those whose first event is
-- in [start, end), and with {channels} those whose first event came on one.

-- name: end_of_data
SELECT last_at, events FROM data_bounds FINAL;

-- name: cohort
-- numbers only, sorted, so the estimator's stable sorts have little left to do
SELECT frictioned,
       (toUnixTimestamp64Milli(ifNull(churn_after_at, {eod:DateTime64(3, 'UTC')}))
        - toUnixTimestamp64Milli(landmark_at)) / 86400000 AS duration_days,
       churn_after_at IS NOT NULL AS churned
FROM retention_customers
WHERE landmark_at <= {eod:DateTime64(3, 'UTC')}
  AND (churn_at IS NULL OR churn_at > landmark_at)
  AND ({has_period:UInt8} = 0 OR (first_at >= {start:DateTime64(3, 'UTC')} AND first_at < {end:DateTime64(3, 'UTC')}))
  AND (length({channels:Array(String)}) = 0 OR first_channel IN {channels:Array(String)})
ORDER BY duration_days;

-- name: curve
-- the cohort grouped by segment and duration rounded up to 0.1 day: the
-- curves' points for drawing, without raw rows (the numbers at the landmark
-- days come from the exact durations, statement cohort)
SELECT if(frictioned, 'frictioned', 'seamless') AS segment,
       ceil((toUnixTimestamp64Milli(ifNull(churn_after_at, {eod:DateTime64(3, 'UTC')}))
             - toUnixTimestamp64Milli(landmark_at)) / 8640000) / 10 AS d,
       churn_after_at IS NOT NULL AS churned,
       count()
FROM retention_customers
WHERE landmark_at <= {eod:DateTime64(3, 'UTC')}
  AND (churn_at IS NULL OR churn_at > landmark_at)
  AND ({has_period:UInt8} = 0 OR (first_at >= {start:DateTime64(3, 'UTC')} AND first_at < {end:DateTime64(3, 'UTC')}))
  AND (length({channels:Array(String)}) = 0 OR first_channel IN {channels:Array(String)})
GROUP BY segment, d, churned
ORDER BY segment, d;

-- name: by_cohort_month
-- per month of first event: customers, those who reached the landmark by the
-- end of data, the frictioned among them, and those who churned after it
SELECT formatDateTime(first_at, '%Y-%m') AS cohort, count(),
       countIf(landmark_at <= {eod:DateTime64(3, 'UTC')} AND (churn_at IS NULL OR churn_at > landmark_at)) AS reached,
       countIf(frictioned = 1 AND landmark_at <= {eod:DateTime64(3, 'UTC')}
               AND (churn_at IS NULL OR churn_at > landmark_at)) AS fr,
       countIf(churn_after_at IS NOT NULL) AS churned
FROM retention_customers
WHERE (length({channels:Array(String)}) = 0 OR first_channel IN {channels:Array(String)})
GROUP BY cohort
ORDER BY cohort;
