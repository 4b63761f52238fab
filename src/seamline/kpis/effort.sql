-- Customer effort score (SPEC §3): answers 1..7 in surveys (written by the
-- effort job, jobs/effort.sql); "easy" is an answer >= {easy}.

-- name: period
SELECT count(), avg(ces), countIf(ces >= {easy:UInt8}), sum(ces), sum(ces * ces)
FROM surveys
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')};

-- name: daily
SELECT toDate(at) AS day, count(), avg(ces)
FROM surveys
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
GROUP BY day;
