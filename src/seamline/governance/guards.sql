-- Statements of the identity guards (seamline.governance.guards).

-- name: blocklist
SELECT kind, value FROM identity_blocklist FINAL

-- name: clear_blocklist
TRUNCATE TABLE identity_blocklist

-- name: overmerged
-- Components with more than {max} identifiers (suspected over-merges), with
-- their identifiers by kind and their events.
WITH flagged AS
(
    SELECT customer, count() AS identifiers, countIf(startsWith(ident, 'c:')) AS customer_ids,
           countIf(startsWith(ident, 'a:')) AS anonymous_ids, countIf(startsWith(ident, 'e:')) AS emails,
           countIf(startsWith(ident, 'p:')) AS phones
    FROM identity_map
    GROUP BY customer
    HAVING identifiers > {max:UInt64}
    ORDER BY identifiers DESC, customer
    LIMIT {limit:UInt64}
)
SELECT f.customer AS customer, f.identifiers AS identifiers, f.customer_ids AS customer_ids,
       f.anonymous_ids AS anonymous_ids, f.emails AS emails, f.phones AS phones, ifNull(n.events, 0) AS events
FROM flagged AS f
LEFT JOIN
(
    SELECT m.customer AS customer, count() AS events
    FROM events AS e INNER JOIN identity_map AS m ON e.ident = m.ident
    WHERE m.customer IN (SELECT customer FROM flagged)
    GROUP BY m.customer
) AS n ON n.customer = f.customer
ORDER BY identifiers DESC, customer
