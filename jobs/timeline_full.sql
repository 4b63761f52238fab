-- The full run of the timeline (see timeline.sql): every event with its
-- customer key, one part of the identifiers per statement
-- ({part:UInt8} of {parts:UInt8}).  A part reads its range of events and of
-- identity_map by primary key, so the join's hash table holds only that
-- range's identifiers (at 50 M events all 3 M of them took 1.3 GB).  The
-- ranges are cut at quantiles of the identifiers on the primary index's
-- marks, so the parts hold about as many events each.  Only a full run runs
-- this (Job.full_statements).
INSERT INTO timeline
SELECT m.customer, toUnixTimestamp64Milli(e.occurred_at), e.event_id, e.occurred_at, e.source, e.channel,
       e.direction, e.type, e.topic, e.case_id, e.attrs
FROM
(
    SELECT ident, event_id, occurred_at, source, channel, direction, type, topic, case_id, attrs
    FROM events
    WHERE ({part:UInt8} = 0 OR ident >= (SELECT arraySort(groupArray(ident))[intDiv(count() * {part:UInt8}, {parts:UInt8}) + 1]
                                         FROM mergeTreeIndex(currentDatabase(), events)))
      AND ({part:UInt8} + 1 = {parts:UInt8} OR ident < (SELECT arraySort(groupArray(ident))[intDiv(count() * ({part:UInt8} + 1), {parts:UInt8}) + 1]
                                                        FROM mergeTreeIndex(currentDatabase(), events)))
) AS e
INNER JOIN
(
    SELECT ident, customer
    FROM identity_map
    WHERE ({part:UInt8} = 0 OR ident >= (SELECT arraySort(groupArray(ident))[intDiv(count() * {part:UInt8}, {parts:UInt8}) + 1]
                                         FROM mergeTreeIndex(currentDatabase(), events)))
      AND ({part:UInt8} + 1 = {parts:UInt8} OR ident < (SELECT arraySort(groupArray(ident))[intDiv(count() * ({part:UInt8} + 1), {parts:UInt8}) + 1]
                                                        FROM mergeTreeIndex(currentDatabase(), events)))
) AS m ON e.ident = m.ident;
