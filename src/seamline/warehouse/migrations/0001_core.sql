-- Core tables: raw events, dedup keys, identity, quarantine, load log.
-- `ident` is the event's primary identifier node ('c:' customer_id, else 'a:'
-- anonymous_id, else 'e:' email hash, else 'p:' phone hash); the customer key
-- comes from identity_map, so a later merge re-keys earlier events without
-- rewriting them.
CREATE TABLE IF NOT EXISTS events
(
    event_id     String,
    occurred_at  DateTime64(3, 'UTC'),
    ingested_at  DateTime64(3, 'UTC'),
    source       LowCardinality(String),
    channel      LowCardinality(String),
    direction    Enum8('inbound' = 1, 'outbound' = 2),
    type         LowCardinality(String),
    ident        String,
    customer_id  String,
    anonymous_id String,
    email_hash   String,
    phone_hash   String,
    topic        LowCardinality(String),
    case_id      String,
    attrs        Map(LowCardinality(String), String),
    load_id      String,
    loaded_at    DateTime64(3, 'UTC'),
    INDEX idx_loaded_at loaded_at TYPE minmax GRANULARITY 1,
    INDEX idx_case_id case_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (ident, occurred_at, event_id);

CREATE TABLE IF NOT EXISTS event_keys
(
    event_id String
)
ENGINE = ReplacingMergeTree
ORDER BY event_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_keys_mv TO event_keys AS
SELECT event_id FROM events;

CREATE TABLE IF NOT EXISTS identity_edges
(
    a String,
    b String
)
ENGINE = ReplacingMergeTree
ORDER BY (a, b);

CREATE MATERIALIZED VIEW IF NOT EXISTS identity_edges_mv TO identity_edges AS
SELECT DISTINCT ident AS a, arrayJoin(arrayDistinct(arrayFilter(x -> x != '', [
    ident,
    if(customer_id = '', '', concat('c:', customer_id)),
    if(anonymous_id = '', '', concat('a:', anonymous_id)),
    if(email_hash = '', '', concat('e:', email_hash)),
    if(phone_hash = '', '', concat('p:', phone_hash))]))) AS b
FROM events;

CREATE TABLE IF NOT EXISTS identity_map
(
    ident    String,
    customer String
)
ENGINE = MergeTree
ORDER BY ident;

CREATE TABLE IF NOT EXISTS quarantine
(
    load_id        String,
    file           String,
    line           UInt64,
    raw            String,
    reason         String,
    quarantined_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(quarantined_at)
ORDER BY (file, line, cityHash64(raw), reason);

CREATE TABLE IF NOT EXISTS loads
(
    load_id     String,
    file        String,
    started_at  DateTime64(3, 'UTC'),
    finished_at DateTime64(3, 'UTC'),
    read        UInt64,
    loaded      UInt64,
    duplicates  UInt64,
    quarantined UInt64
)
ENGINE = MergeTree
ORDER BY (started_at, load_id);

CREATE TABLE IF NOT EXISTS identity_changes
(
    changed_at DateTime64(3, 'UTC'),
    customer   String
)
ENGINE = MergeTree
ORDER BY changed_at;

-- Events with their resolved customer key.  An identifier not yet in
-- identity_map (identity not re-run since its load) is its own customer.
CREATE VIEW IF NOT EXISTS customer_events AS
SELECT e.*, if(m.customer = '', substring(e.ident, 3), m.customer) AS customer
FROM events AS e
LEFT JOIN identity_map AS m ON e.ident = m.ident;
