-- Statements of `seamline forget` (seamline.governance.forget).

-- name: expand
-- One step of the component search: the identifiers joined to {nodes} by an
-- identity edge (either end, committed or not), or by the identity map.
SELECT groupUniqArray(n) FROM
(
    SELECT b AS n FROM identity_edges WHERE a IN {nodes:Array(String)}
    UNION ALL
    SELECT a AS n FROM identity_edges WHERE b IN {nodes:Array(String)}
    UNION ALL
    SELECT ident AS n FROM identity_map
    WHERE customer IN (SELECT customer FROM identity_map WHERE ident IN {nodes:Array(String)})
)
WHERE NOT has({blocked:Array(String)}, n)

-- name: keys
-- The customer keys of the component's identifiers: the map's, and the
-- identifier itself for one the map has not seen yet.
SELECT groupUniqArray(k) FROM
(
    SELECT customer AS k FROM identity_map WHERE ident IN {nodes:Array(String)}
    UNION ALL
    SELECT substring(arrayJoin({nodes:Array(String)}), 3) AS k
)

-- name: event_ids
SELECT groupUniqArray(event_id) FROM events WHERE ident IN {nodes:Array(String)}

-- name: message_ids
-- The component's incidents, for the reviews that name them (metadata).
SELECT groupUniqArray(message_event_id) FROM incidents WHERE customer IN {keys:Array(String)}

-- name: tables
-- Every stored table of the database with its columns (views hold nothing).
SELECT c.table, groupArray((c.name, c.type))
FROM system.columns AS c
INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
WHERE c.database = currentDatabase() AND t.engine NOT LIKE '%View%' AND t.is_temporary = 0
  AND c.default_kind NOT IN ('ALIAS', 'EPHEMERAL')
GROUP BY c.table
ORDER BY c.table

-- name: quarantine_where
-- A quarantined row of the customer: its JSON fields name one of the
-- component's identifiers (an email or phone hashed as at load), or its text
-- names one of them as a word ({needles}: a regular expression).
(JSONExtractString(raw, 'customer_id') != '' AND has({customer_ids:Array(String)}, trimBoth(JSONExtractString(raw, 'customer_id'))))
OR (JSONExtractString(raw, 'anonymous_id') != '' AND has({anonymous_ids:Array(String)}, trimBoth(JSONExtractString(raw, 'anonymous_id'))))
OR (JSONExtractString(raw, 'email') != '' AND (
        has({email_hashes:Array(String)}, lower(hex(SHA256(concat({salt:String}, ':email:', lower(trimBoth(JSONExtractString(raw, 'email'))))))))
        OR has({email_hashes:Array(String)}, JSONExtractString(raw, 'email'))))
OR (JSONExtractString(raw, 'phone') != '' AND (
        has({phone_hashes:Array(String)}, lower(hex(SHA256(concat({salt:String}, ':phone:',
            concat(if(startsWith(trimBoth(JSONExtractString(raw, 'phone')), '+'), '+', ''),
                   replaceRegexpAll(JSONExtractString(raw, 'phone'), '[^0-9]', '')))))))
        OR has({phone_hashes:Array(String)}, JSONExtractString(raw, 'phone'))))
OR ({needles:String} != '' AND match(raw, {needles:String}))
