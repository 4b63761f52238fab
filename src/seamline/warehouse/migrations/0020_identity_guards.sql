-- Identity guards (SPEC §2): identifier values that identify no one.  The
-- defaults are in sql/load_parse.sql; the configured ones
-- (identity_blocked_values / identity_blocked_patterns) are copied here from
-- the settings by the identity job and the governance commands
-- (seamline.governance.guards.sync_blocklist), so that the load reads them:
-- kind 'value' (a lower-cased value), 'pattern' (an RE2 expression matched
-- against the normalised value) and 'node' (an identity node: the blocked
-- values as ids and as hashed emails and phones).
CREATE TABLE IF NOT EXISTS identity_blocklist
(
    kind  LowCardinality(String),
    value String
)
ENGINE = ReplacingMergeTree
ORDER BY (kind, value);

-- The identity job never joins customers through a blocked identifier, also
-- on edges loaded before it was blocked (migration 0013's view, guarded).
CREATE OR REPLACE VIEW identity_edges_committed AS
SELECT a, b FROM identity_edges
WHERE (load_id = '' OR load_id IN (SELECT batch FROM event_batches))
  AND a NOT IN (SELECT value FROM identity_blocklist WHERE kind = 'node')
  AND b NOT IN (SELECT value FROM identity_blocklist WHERE kind = 'node')
  AND NOT arrayExists(x -> substring(x, 1, 2) IN ('c:', 'a:')
                           AND (lower(substring(x, 3)) IN (SELECT value FROM identity_blocklist WHERE kind = 'value')
                                OR arrayExists(p -> match(substring(x, 3), p),
                                               (SELECT groupArray(value) FROM identity_blocklist WHERE kind = 'pattern'))),
                      [a, b]);
