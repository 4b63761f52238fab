-- The timeline stores each event's time once: occurred_at becomes an ALIAS
-- of ms (the same instant in milliseconds, the sort key), computed on read.
-- A stored copy would repeat what ms already holds, in a large share of the
-- table, and every full run would write and read it.
-- IF EXISTS / IF NOT EXISTS: a migration stopped between the two statements
-- completes when it runs again.
ALTER TABLE timeline DROP COLUMN IF EXISTS occurred_at;
ALTER TABLE timeline ADD COLUMN IF NOT EXISTS occurred_at DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(ms, 'UTC') AFTER event_id;
