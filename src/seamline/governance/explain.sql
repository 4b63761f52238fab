-- Statements of `seamline identity explain` (seamline.governance.explain).

-- name: known
-- Which of the candidate nodes some identity edge holds.
SELECT groupUniqArray(n) FROM
(
    SELECT a AS n FROM identity_edges WHERE a IN {nodes:Array(String)}
    UNION ALL
    SELECT b AS n FROM identity_edges WHERE b IN {nodes:Array(String)}
)

-- name: linking_events
-- The component's events that carry two identifiers or more, in time order.
SELECT event_id, occurred_at, type, channel, source,
       arrayDistinct(arrayFilter(x -> x != '', [ident,
           if(customer_id = '', '', concat('c:', customer_id)), if(anonymous_id = '', '', concat('a:', anonymous_id)),
           if(email_hash = '', '', concat('e:', email_hash)), if(phone_hash = '', '', concat('p:', phone_hash))])) AS nodes
FROM events
WHERE ident IN {nodes:Array(String)} AND length(nodes) > 1
ORDER BY occurred_at, event_id

-- name: key
SELECT any(customer) FROM identity_map WHERE ident IN {nodes:Array(String)}
