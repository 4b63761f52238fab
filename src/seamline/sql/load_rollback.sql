-- Undo a load that did not commit (migration 0011): every row its batches
-- wrote, in every table.  Parameters: {load:String}, the load id, and
-- {prefix:String}, the load id and '-' (its batches are '<load>-000001', ...).
--
-- Each statement is idempotent and the case resolutions are found through
-- the load's events, so they go before the events: a rollback killed
-- part-way is simply run again.  Mutations, not lightweight deletes: a
-- rollback is rare, and these tables keep no block numbers.

-- The load's identity edges are its partition of identity_edges (migration
-- 0013): an edge that another load also wrote is in that load's partition,
-- or in the committed ones'.
ALTER TABLE identity_edges DROP PARTITION {load:String};

ALTER TABLE case_resolutions DELETE
WHERE event_id IN (SELECT event_id FROM events WHERE startsWith(load_id, {prefix:String}) AND type = 'resolution')
SETTINGS mutations_sync = 2;

ALTER TABLE events DELETE WHERE startsWith(load_id, {prefix:String}) SETTINGS mutations_sync = 2;

ALTER TABLE event_keys DELETE WHERE startsWith(load_id, {prefix:String}) SETTINGS mutations_sync = 2;

ALTER TABLE quarantine DELETE WHERE startsWith(load_id, {prefix:String}) SETTINGS mutations_sync = 2;

ALTER TABLE event_batches DELETE WHERE startsWith(batch, {prefix:String}) SETTINGS mutations_sync = 2;
