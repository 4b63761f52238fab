-- Identity edges carry the load batch that wrote them (load_id, as events and
-- event_keys do): a load's edges are written with its events, before it
-- commits, and the identity job must not merge customers on the edges of a
-- load that may still be rolled back.  So the job reads identity_edges_committed:
-- the edges of committed batches (event_batches).
--
-- Each load's edges are a partition of their own (the load id without the
-- batch number), so a rollback drops its partition, and an edge that another
-- load also wrote stays.  A committed load folds its edges into the untagged
-- partition ('': one row per edge, whichever loads wrote it) and drops its
-- own (sql/load_fold_edges.sql), so the table holds each edge once plus the
-- edges of the loads in flight.
--
-- The table is rebuilt from events, tagging the edges of batches that did not
-- commit: every statement can run again (the rebuild is always whole), so a
-- migration stopped part-way completes when it runs again.  The edge
-- expression is migration 0001's.
DROP VIEW IF EXISTS identity_edges_mv;

DROP TABLE IF EXISTS identity_edges;

CREATE TABLE IF NOT EXISTS identity_edges
(
    a       String,
    b       String,
    load_id String
)
ENGINE = ReplacingMergeTree
PARTITION BY splitByChar('-', load_id)[1]
ORDER BY (a, b);

CREATE MATERIALIZED VIEW IF NOT EXISTS identity_edges_mv TO identity_edges AS
SELECT DISTINCT ident AS a, arrayJoin(arrayDistinct(arrayFilter(x -> x != '', [
    ident,
    if(customer_id = '', '', concat('c:', customer_id)),
    if(anonymous_id = '', '', concat('a:', anonymous_id)),
    if(email_hash = '', '', concat('e:', email_hash)),
    if(phone_hash = '', '', concat('p:', phone_hash))]))) AS b, load_id
FROM events;

INSERT INTO identity_edges
SELECT DISTINCT ident AS a, arrayJoin(arrayDistinct(arrayFilter(x -> x != '', [
    ident,
    if(customer_id = '', '', concat('c:', customer_id)),
    if(anonymous_id = '', '', concat('a:', anonymous_id)),
    if(email_hash = '', '', concat('e:', email_hash)),
    if(phone_hash = '', '', concat('p:', phone_hash))]))) AS b,
    if(load_id IN (SELECT batch FROM event_batches), '', load_id) AS load_id
FROM events;

-- What the identity job reads.
CREATE VIEW IF NOT EXISTS identity_edges_committed AS
SELECT a, b FROM identity_edges
WHERE load_id = '' OR load_id IN (SELECT batch FROM event_batches);
