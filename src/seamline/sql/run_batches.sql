-- The batches a job run covers (seamline.runner): load batches (committed:
-- event_batches) and, for a customer job and the identity job itself
-- ({changes:UInt8} = 1), the batches of identity changes (each identity
-- run's changes are one batch; the identity job takes those a killed run
-- left, so it runs to claim them); those
-- that all {n:UInt32} jobs it depends on ({deps:Array(String)}) have
-- processed and, unless {all:UInt8} = 1 (a full run), that the job
-- {job:String} has not (job_ledger).
INSERT INTO {b:Identifier}
SELECT DISTINCT batch FROM
(
    SELECT batch FROM event_batches
    UNION ALL
    SELECT DISTINCT batch FROM identity_changes WHERE {changes:UInt8} = 1
)
WHERE ({all:UInt8} = 1 OR batch NOT IN (SELECT batch FROM job_ledger WHERE job = {job:String}))
  AND ({n:UInt32} = 0 OR batch IN (SELECT batch FROM job_ledger WHERE job IN {deps:Array(String)}
                                   GROUP BY batch HAVING uniqExact(job) = {n:UInt32}));
