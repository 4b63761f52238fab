-- Reads of the alert rules (SPEC §7), as of an evaluation time {at}: only
-- events that had occurred and been ingested before it.  Windows end at
-- {end} (the evaluation time less the rule's delay).

-- name: burn_rate
-- per source: events and bad events (lag > the source's target, negative lags
-- count as 0) in each trailing window [end - w, end), w in {windows_ms}
SELECT source,
       sumForEach(arrayMap(w -> toUInt64(t_ms >= {end_ms:Int64} - w), {windows_ms:Array(Int64)})) AS total,
       sumForEach(arrayMap(w -> toUInt64(t_ms >= {end_ms:Int64} - w AND lag_ms > target_ms),
                           {windows_ms:Array(Int64)})) AS bad
FROM
(
    SELECT source, toUnixTimestamp64Milli(occurred_at) AS t_ms,
           toUnixTimestamp64Milli(ingested_at) - t_ms AS lag_ms,
           toInt64(1000 * if(has({t_sources:Array(String)}, source),
                             arrayElement({t_values:Array(Float64)}, indexOf({t_sources:Array(String)}, source)),
                             {t_default:Float64})) AS target_ms
    FROM events
    WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
      AND ingested_at < {at:DateTime64(3, 'UTC')}
      AND (length({sources:Array(String)}) = 0 OR source IN {sources:Array(String)})
)
GROUP BY source
ORDER BY source;

-- name: hourly_lags
-- per source and whole hour in [start, end): events and exact p95 lag (as the
-- freshness rollup computes it), from the events ingested before {at}
SELECT source, toStartOfHour(occurred_at) AS hour, count() AS events,
       quantileExactInclusive(0.95)(greatest(toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(occurred_at), 0) / 1000) AS p95
FROM events
WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
  AND ingested_at < {at:DateTime64(3, 'UTC')}
  AND (length({sources:Array(String)}) = 0 OR source IN {sources:Array(String)})
GROUP BY source, hour
ORDER BY source, hour;

-- name: incidents
-- incidents in [start, end) whose offending message had been ingested before {at}
SELECT count()
FROM incidents FINAL
WHERE at >= {start:DateTime64(3, 'UTC')} AND at < {end:DateTime64(3, 'UTC')}
  AND (length({rules:Array(String)}) = 0 OR rule IN {rules:Array(String)})
  AND message_event_id IN (SELECT event_id FROM events
                           WHERE occurred_at >= {start:DateTime64(3, 'UTC')} AND occurred_at < {end:DateTime64(3, 'UTC')}
                             AND ingested_at < {at:DateTime64(3, 'UTC')});

-- name: last_event
-- per source: the last time an event of it arrived before {at}
SELECT source, max(ingested_at)
FROM events
WHERE ingested_at < {at:DateTime64(3, 'UTC')} AND occurred_at < {at:DateTime64(3, 'UTC')}
GROUP BY source
ORDER BY source;
