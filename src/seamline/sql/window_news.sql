-- Where an increment's new events begin, per customer of its scope
-- ({scope:Identifier}), for a job that recomputes from a point in time
-- (seamline.scopes.Window): the time (ms) of the customer's earliest event in
-- the run's load batches, or 0 - the whole history - for a customer whose
-- key changed in its identity change batches (a merge brings events from
-- anywhere in time) or who has no new event.
INSERT INTO {news:Identifier}
SELECT s.key, if(s.key IN (SELECT customer FROM identity_changes WHERE batch IN (SELECT batch FROM {batches:Identifier})),
                 toInt64(0), ifNull(n.first_ms, toInt64(0)))
FROM {scope:Identifier} AS s
LEFT JOIN
(
    SELECT if(m.customer = '', substring(e.ident, 3), m.customer) AS customer,
           toNullable(min(toUnixTimestamp64Milli(e.occurred_at))) AS first_ms
    FROM
    (
        SELECT ident, occurred_at FROM events
        WHERE loaded_at > {since:DateTime64(3, 'UTC')} AND load_id IN (SELECT batch FROM {batches:Identifier})
    ) AS e
    LEFT JOIN
    (
        SELECT ident, customer FROM identity_map
        WHERE ident IN (SELECT ident FROM events WHERE loaded_at > {since:DateTime64(3, 'UTC')}
                                                   AND load_id IN (SELECT batch FROM {batches:Identifier}))
    ) AS m ON m.ident = e.ident
    GROUP BY customer
) AS n ON n.customer = s.key;
