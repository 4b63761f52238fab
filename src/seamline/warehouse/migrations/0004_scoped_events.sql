-- The events a job run reads, with their resolved customer key: every event
-- when {full} = 1, else the events of the identifiers in the run's scope
-- (job_scope_idents, filled by the runner).  An identifier not yet in
-- identity_map is its own customer.  The identity join is restricted to the
-- scope, so an incremental run never hashes the whole map.
CREATE TABLE IF NOT EXISTS job_scope_idents
(
    job   LowCardinality(String),
    ident String
)
ENGINE = MergeTree
PARTITION BY job
ORDER BY ident;

CREATE VIEW IF NOT EXISTS scoped_events AS
SELECT e.*, if(m.customer = '', substring(e.ident, 3), m.customer) AS customer
FROM events AS e
LEFT JOIN
(
    SELECT ident, customer FROM identity_map
    WHERE {full:UInt8} = 1 OR ident IN (SELECT ident FROM job_scope_idents WHERE job = {job:String})
) AS m ON e.ident = m.ident
WHERE {full:UInt8} = 1 OR e.ident IN (SELECT ident FROM job_scope_idents WHERE job = {job:String});
