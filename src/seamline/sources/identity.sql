-- Identity from the source (SPEC §6): identifiers that the source's own
-- tables say are one person become identity edges, like the identifiers
-- that appear together on an event (migration 0013), tagged with the sync's
-- load batch {load_id:String} so they count only once the sync commits.
-- Each person's identifiers are a star from its smallest one, both ways: an
-- increment of the identity job finds the edge from whichever end an event
-- of the sync carries.

-- name: posthog_person_edges
-- PostHog: a distinct id belongs to the person of its latest version in
-- person_distinct_id2 unless that version is deleted; the latest version in
-- person_distinct_id_overrides, when there is one (and not deleted), takes
-- precedence.  Only the persons of distinct ids written since {since} (all
-- of them for a full sync).  distinct_id is the events' anonymous_id ('a:').
INSERT INTO identity_edges (a, b, load_id)
SELECT tupleElement(edge, 1), tupleElement(edge, 2), {load_id:String}
FROM
(
    SELECT arrayJoin([(root, node), (node, root)]) AS edge
    FROM
    (
        SELECT concat('a:', arrayJoin(ids)) AS node, concat('a:', arrayMin(ids)) AS root
        FROM
        (
        SELECT person_id, groupUniqArray(distinct_id) AS ids
        FROM
        (
            SELECT team_id, distinct_id, argMax(person_id, prio) AS person_id
            FROM
            (
                SELECT team_id, trimBoth(distinct_id) AS distinct_id, argMax(person_id, version) AS person_id,
                       argMax(is_deleted, version) AS deleted, 1 AS prio
                FROM {db:Identifier}.{overrides:Identifier} GROUP BY team_id, distinct_id
                UNION ALL
                SELECT team_id, trimBoth(distinct_id) AS distinct_id, argMax(person_id, version) AS person_id,
                       argMax(is_deleted, version) AS deleted, 0 AS prio
                FROM {db:Identifier}.person_distinct_id2 GROUP BY team_id, distinct_id
            )
            WHERE deleted = 0 AND distinct_id != ''
            GROUP BY team_id, distinct_id
        )
        WHERE person_id IN (
            SELECT person_id FROM {db:Identifier}.person_distinct_id2 WHERE _timestamp >= {since:DateTime64(3, 'UTC')}
            UNION ALL
            SELECT person_id FROM {db:Identifier}.{overrides:Identifier} WHERE _timestamp >= {since:DateTime64(3, 'UTC')})
        GROUP BY person_id
        HAVING length(ids) > 1
        )
    )
    WHERE node != root
);

-- name: posthog_person_latest
SELECT maxOrNull(t) FROM
(
    SELECT maxOrNull(toDateTime64(_timestamp, 3, 'UTC')) AS t FROM {db:Identifier}.person_distinct_id2
    UNION ALL
    SELECT maxOrNull(toDateTime64(_timestamp, 3, 'UTC')) AS t FROM {db:Identifier}.{overrides:Identifier}
);

-- name: rudderstack_alias_edges
-- RudderStack (and Segment) aliases: previous_id and user_id are one
-- customer.  user_id is the events' customer_id ('c:'); previous_id is a
-- customer_id when one is stored as such, else an anonymous_id ('a:').
INSERT INTO identity_edges (a, b, load_id)
SELECT tupleElement(edge, 1), tupleElement(edge, 2), {load_id:String}
FROM
(
    SELECT arrayJoin([(u, p), (p, u)]) AS edge
    FROM
    (
    SELECT concat('c:', user_id) AS u,
           concat(if(previous_id IN (SELECT customer_id FROM events WHERE customer_id IN (
                         SELECT trimBoth(ifNull(previous_id, '')) FROM {db:Identifier}.aliases)), 'c:', 'a:'),
                  previous_id) AS p
    FROM
    (
        SELECT DISTINCT trimBoth(ifNull(user_id, '')) AS user_id, trimBoth(ifNull(previous_id, '')) AS previous_id
        FROM {db:Identifier}.aliases
        WHERE coalesce(toDateTime64(uuid_ts, 3, 'UTC'), toDateTime64(received_at, 3, 'UTC')) >= {since:DateTime64(3, 'UTC')}
    )
    WHERE user_id != '' AND previous_id != '' AND user_id != previous_id
    )
);

-- name: rudderstack_alias_latest
SELECT maxOrNull(coalesce(toDateTime64(uuid_ts, 3, 'UTC'), toDateTime64(received_at, 3, 'UTC')))
FROM {db:Identifier}.aliases;
