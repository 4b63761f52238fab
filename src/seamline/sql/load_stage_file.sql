-- Stage a JSON Lines file read by the engine itself (embedded chDB): every
-- non-blank line with its physical line number; a UTF-8 BOM on line 1 and a
-- trailing CR are dropped.  Parameters: {stage:Identifier}, {path:String},
-- {compression:String} ('gzip' or 'none').
-- Blocks of 256 k lines: with the default 1 M-line blocks, staging a 10 M-line
-- file alone peaked at 2.3 GB of memory; with these, 1.4 GB (and no slower).
-- The file is read with pread, not mapped (the default): its mapped pages
-- counted in the process's memory until the statement ended, the whole
-- compressed file (1.5 GB for 50 M events).
INSERT INTO {stage:Identifier} (line, doc, raw)
SELECT n, text, ''
FROM
(
    SELECT rowNumberInAllBlocks() + 1 AS n,
           trim(TRAILING '\r' FROM if(n = 1, replaceRegexpOne(line, '^\xEF\xBB\xBF', ''), line)) AS text
    FROM file({path:String}, 'LineAsString', 'line String', {compression:String})
)
WHERE trim(BOTH ' \t\r' FROM text) != ''
SETTINGS max_insert_block_size = 262144, min_insert_block_size_rows = 262144,
         min_insert_block_size_bytes = 134217728, storage_file_read_method = 'pread'
