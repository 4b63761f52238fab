-- Statements of the retention limits (seamline.governance.retention).  A TTL
-- is ClickHouse's own: rows past it are dropped when it is set (the
-- statement materialises it) and then by the merges.

-- name: engine
SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}

-- name: events_ttl
ALTER TABLE events MODIFY TTL toDateTime(occurred_at) + INTERVAL {days:UInt32} DAY SETTINGS mutations_sync = 2

-- name: quarantine_ttl
ALTER TABLE quarantine MODIFY TTL toDateTime(quarantined_at) + INTERVAL {days:UInt32} DAY SETTINGS mutations_sync = 2

-- name: remove_ttl
ALTER TABLE {t:Identifier} REMOVE TTL
