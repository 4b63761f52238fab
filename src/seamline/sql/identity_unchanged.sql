-- Whether an identity increment would change nothing (seamline.identity):
-- the committed edges of the identifiers in the run's new events (the load
-- batches in {batches:Identifier}, loaded after {since}) each join two
-- identifiers that the map already holds under one key.  Components only
-- merge, so the map is then as it was and the run skips the relabelling: an
-- hour with no new links reads its events and those identifiers' map rows,
-- both by key, not the map or the graph.  Returns the number of edges that
-- would add an identifier or merge two customers (0: nothing to do).
SELECT count()
FROM (
    SELECT a, b FROM identity_edges_committed
    WHERE a IN (SELECT ident FROM events
                WHERE loaded_at > {since:DateTime64(3, 'UTC')} AND load_id IN (SELECT batch FROM {batches:Identifier}))
) AS e
LEFT JOIN (
    SELECT ident, customer FROM identity_map
    WHERE ident IN (SELECT b FROM identity_edges_committed
                    WHERE a IN (SELECT ident FROM events
                                WHERE loaded_at > {since:DateTime64(3, 'UTC')}
                                  AND load_id IN (SELECT batch FROM {batches:Identifier})))
) AS m ON m.ident = e.b
LEFT JOIN (
    SELECT ident, customer FROM identity_map
    WHERE ident IN (SELECT ident FROM events
                    WHERE loaded_at > {since:DateTime64(3, 'UTC')} AND load_id IN (SELECT batch FROM {batches:Identifier}))
) AS n ON n.ident = e.a
WHERE m.customer = '' OR n.customer = '' OR m.customer != n.customer
