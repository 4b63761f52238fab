-- The timeline stores each event's time once: occurred_at becomes an ALIAS
-- of ms (the same instant in milliseconds, the sort key), computed on read.
-- The stored copy was a fifth of the table (233 MiB of 960 MiB at 50 M
-- events); without it the full run's insert went from 24 s to 19.5 s, and a
-- per-customer pass that reads occurred_at from 13-18 s to 10.5-15 s.
-- IF EXISTS / IF NOT EXISTS: a migration stopped between the two statements
-- completes when it runs again.
ALTER TABLE timeline DROP COLUMN IF EXISTS occurred_at;
ALTER TABLE timeline ADD COLUMN IF NOT EXISTS occurred_at DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(ms, 'UTC') AFTER event_id;
