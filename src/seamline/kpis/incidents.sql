-- Conflicting-message incidents (SPEC §3), written by the incidents job
-- (jobs/incidents_*.sql), one row per incident.

-- name: period
SELECT rule, count()
FROM incidents FINAL
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
GROUP BY rule;

-- name: daily
SELECT toDate(at) AS day, count()
FROM incidents FINAL
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
GROUP BY day;

-- name: daily_by_rule
-- per day and rule, for incidents touching one of the view's channels and of
-- its rules (an empty list = all), per day of the display zone (tz)
SELECT toDate(at, {tz:String}) AS day, rule, count() AS incidents
FROM incidents FINAL
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR hasAny(channels, {channels:Array(String)}))
  AND (length({rules:Array(String)}) = 0 OR rule IN {rules:Array(String)})
GROUP BY day, rule
ORDER BY day, rule;

-- name: by_channel
-- per channel involved and rule (an incident counts once for each of its channels)
SELECT ch AS channel, rule, count()
FROM incidents FINAL ARRAY JOIN channels AS ch
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR hasAny(channels, {channels:Array(String)}))
  AND (length({rules:Array(String)}) = 0 OR rule IN {rules:Array(String)})
GROUP BY channel, rule
ORDER BY channel, rule;
