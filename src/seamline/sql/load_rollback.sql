-- Undo a load that did not commit (migration 0011): every row its batches
-- wrote, in every table.  Parameters: {prefix:String}, the load id and '-'
-- (its batches are '<load>-000001', ...).
--
-- Each statement is idempotent and the identity edges and case resolutions
-- are found through the load's events, so they go first: a rollback killed
-- part-way is simply run again.  Mutations, not lightweight deletes: a
-- rollback is rare, and these tables keep no block numbers.

-- The identity edges only this load's events produced; an edge that another
-- event of the same identifier also produces stays.  The edge expression is
-- identity_edges_mv's (migration 0001).
ALTER TABLE identity_edges DELETE
WHERE (a, b) IN (
    SELECT DISTINCT ident AS a, arrayJoin(arrayDistinct(arrayFilter(x -> x != '', [
        ident,
        if(customer_id = '', '', concat('c:', customer_id)),
        if(anonymous_id = '', '', concat('a:', anonymous_id)),
        if(email_hash = '', '', concat('e:', email_hash)),
        if(phone_hash = '', '', concat('p:', phone_hash))]))) AS b
    FROM events WHERE startsWith(load_id, {prefix:String}))
  AND (a, b) NOT IN (
    SELECT DISTINCT ident AS a, arrayJoin(arrayDistinct(arrayFilter(x -> x != '', [
        ident,
        if(customer_id = '', '', concat('c:', customer_id)),
        if(anonymous_id = '', '', concat('a:', anonymous_id)),
        if(email_hash = '', '', concat('e:', email_hash)),
        if(phone_hash = '', '', concat('p:', phone_hash))]))) AS b
    FROM events
    WHERE NOT startsWith(load_id, {prefix:String})
      AND ident IN (SELECT ident FROM events WHERE startsWith(load_id, {prefix:String})))
SETTINGS mutations_sync = 2;

ALTER TABLE case_resolutions DELETE
WHERE event_id IN (SELECT event_id FROM events WHERE startsWith(load_id, {prefix:String}) AND type = 'resolution')
SETTINGS mutations_sync = 2;

ALTER TABLE events DELETE WHERE startsWith(load_id, {prefix:String}) SETTINGS mutations_sync = 2;

ALTER TABLE event_keys DELETE WHERE startsWith(load_id, {prefix:String}) SETTINGS mutations_sync = 2;

ALTER TABLE quarantine DELETE WHERE startsWith(load_id, {prefix:String}) SETTINGS mutations_sync = 2;

ALTER TABLE event_batches DELETE WHERE startsWith(batch, {prefix:String}) SETTINGS mutations_sync = 2;
