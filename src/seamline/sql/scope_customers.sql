-- Customers an incremental customer-scoped run must recompute: those with
-- events in the run's load batches, and those whose identity key changed in
-- its identity change batches (both the merged-away and the surviving key).
INSERT INTO {scope:Identifier}
SELECT DISTINCT key FROM
(
    SELECT if(m.customer = '', substring(n.ident, 3), m.customer) AS key
    FROM (
        SELECT DISTINCT ident FROM events
        WHERE loaded_at > {since:DateTime64(3, 'UTC')} AND load_id IN (SELECT batch FROM {batches:Identifier})
    ) AS n
    LEFT JOIN (
        SELECT ident, customer FROM identity_map
        WHERE ident IN (SELECT ident FROM events WHERE loaded_at > {since:DateTime64(3, 'UTC')}
                                                   AND load_id IN (SELECT batch FROM {batches:Identifier}))
    ) AS m ON m.ident = n.ident
    UNION ALL
    SELECT customer AS key FROM identity_changes
    WHERE batch IN (SELECT batch FROM {batches:Identifier})
)
