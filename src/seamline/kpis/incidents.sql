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
