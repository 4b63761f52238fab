-- Cross-channel continuity (SPEC §3): the share of transitions (a journey's
-- consecutive touches on different channels, at the second touch) with no
-- friction in the window after them.  transitions is written by the
-- continuity job (jobs/continuity.sql).

-- name: period
SELECT count(), sum(frictionless)
FROM transitions
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')};

-- name: daily
SELECT toDate(at) AS day, count(), avg(frictionless)
FROM transitions
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
GROUP BY day;

-- name: daily_in_channels
-- the journeys page's trend: transitions from or to one of the view's
-- channels (an empty list = every channel), per day of the display zone (tz)
SELECT toDate(at, {tz:String}) AS day, count(), sum(frictionless)
FROM transitions
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR from_channel IN {channels:Array(String)}
       OR to_channel IN {channels:Array(String)})
GROUP BY day
ORDER BY day;

-- name: by_pair
-- continuity per channel pair, with the friction behind it (the journeys page)
SELECT from_channel, to_channel, count(), sum(frictionless), sum(repeat_info), sum(reauth), sum(transfers),
       countIf(frictionless = 0)
FROM transitions
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({channels:Array(String)}) = 0 OR from_channel IN {channels:Array(String)}
       OR to_channel IN {channels:Array(String)})
GROUP BY from_channel, to_channel
ORDER BY count() DESC
LIMIT 1000;
