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

-- name: by_answer
-- answers per score in the view's channels and topics (an empty list = all;
-- the effort page)
SELECT ces, count()
FROM surveys
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
  AND (length({topics:Array(String)}) = 0 OR topic IN {topics:Array(String)})
GROUP BY ces
ORDER BY ces;

-- name: by_channel
-- count, moments and easy answers per channel (the mean's t interval and the
-- easy rate's Wilson interval come from them)
SELECT channel, count(), sum(ces), sum(ces * ces), countIf(ces >= {easy:UInt8})
FROM surveys
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
  AND (length({topics:Array(String)}) = 0 OR topic IN {topics:Array(String)})
GROUP BY channel
ORDER BY channel;

-- name: by_topic
SELECT topic, count(), sum(ces), sum(ces * ces), countIf(ces >= {easy:UInt8})
FROM surveys
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
  AND (length({topics:Array(String)}) = 0 OR topic IN {topics:Array(String)})
GROUP BY topic
ORDER BY topic;

-- name: trend_daily
-- days of the display zone (tz)
SELECT toDate(at, {tz:String}) AS period, count(), sum(ces), sum(ces * ces)
FROM surveys
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
  AND (length({topics:Array(String)}) = 0 OR topic IN {topics:Array(String)})
GROUP BY period
ORDER BY period;

-- name: trend_weekly
-- weeks starting on Monday (periods longer than three weeks)
SELECT toMonday(at, {tz:String}) AS period, count(), sum(ces), sum(ces * ces)
FROM surveys
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR channel IN {channels:Array(String)})
  AND (length({topics:Array(String)}) = 0 OR topic IN {topics:Array(String)})
GROUP BY period
ORDER BY period;
