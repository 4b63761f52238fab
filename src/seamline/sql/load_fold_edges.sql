-- A committed load's identity edges join the untagged ones (migration 0013):
-- copied into the '' partition, where the table keeps one row per edge, then
-- the load's partition goes.  Parameter: {load:String}, the load id.  Both
-- statements can run again: a fold killed part-way is done again by
-- recover_loads (the edges are visible meanwhile: their batches committed).
INSERT INTO identity_edges
SELECT a, b, '' FROM identity_edges WHERE splitByChar('-', load_id)[1] = {load:String};

ALTER TABLE identity_edges DROP PARTITION {load:String};
