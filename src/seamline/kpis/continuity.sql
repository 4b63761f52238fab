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
