-- Whether an identity increment would change nothing (seamline.identity):
-- the edges of the identifiers in the run's new events each join two
-- identifiers that the map already holds under one key.  Components only
-- merge, so the map is then as it was and the run skips the relabelling: an
-- hour with no new links reads its events and those identifiers' edges and
-- map rows, each by key, and not the map or the graph.

-- name: new_idents
-- the identifiers of the run's new events (the load batches in
-- {batches:Identifier}, loaded after {since}), into {new:Identifier}
INSERT INTO {new:Identifier}
SELECT DISTINCT ident FROM events
WHERE loaded_at > {since:DateTime64(3, 'UTC')} AND load_id IN (SELECT batch FROM {batches:Identifier});

-- name: changes
-- the edges of {edges:Identifier} from those identifiers that would add an
-- identifier or merge two customers (0: nothing to do).  Asked of the raw
-- edges first (a superset of the committed ones, read by key alone): only
-- when they find some is it asked of identity_edges_committed, whose
-- guards cost more than the rest.
SELECT count()
FROM (SELECT a, b FROM {edges:Identifier} WHERE a IN (SELECT ident FROM {new:Identifier})) AS e
LEFT JOIN (
    SELECT ident, customer FROM identity_map
    WHERE ident IN (SELECT b FROM {edges:Identifier} WHERE a IN (SELECT ident FROM {new:Identifier}))
) AS m ON m.ident = e.b
LEFT JOIN (
    SELECT ident, customer FROM identity_map WHERE ident IN (SELECT ident FROM {new:Identifier})
) AS n ON n.ident = e.a
WHERE m.customer = '' OR n.customer = '' OR m.customer != n.customer;
