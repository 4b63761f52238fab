-- The customer timeline: every event with its resolved customer key, stored
-- in (customer, time, event_id) order.  Owned by the `timeline` job (a
-- customer-scoped job like the others), it is the one place where events meet
-- the identity map: the metric jobs read it in key order, so their
-- per-customer window functions and aggregations need no join and no sort,
-- and an incremental run reads its customers by primary-key ranges.
CREATE TABLE IF NOT EXISTS timeline
(
    customer    String,
    ms          Int64,
    event_id    String,
    occurred_at DateTime64(3, 'UTC'),
    source      LowCardinality(String),
    channel     LowCardinality(String),
    direction   Enum8('inbound' = 1, 'outbound' = 2),
    type        LowCardinality(String),
    topic       LowCardinality(String),
    case_id     String,
    attrs       Map(LowCardinality(String), String)
)
ENGINE = MergeTree
ORDER BY (customer, ms, event_id);
