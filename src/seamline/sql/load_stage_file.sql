-- Stage a JSON Lines file read by the engine itself (embedded chDB): every
-- non-blank line with its physical line number; a UTF-8 BOM on line 1 and a
-- trailing CR are dropped.  Parameters: {stage:Identifier}, {path:String},
-- {compression:String} ('gzip' or 'none').
INSERT INTO {stage:Identifier} (line, doc, raw)
SELECT n, text, ''
FROM
(
    SELECT rowNumberInAllBlocks() + 1 AS n,
           trim(TRAILING '\r' FROM if(n = 1, replaceRegexpOne(line, '^\xEF\xBB\xBF', ''), line)) AS text
    FROM file({path:String}, 'LineAsString', 'line String', {compression:String})
)
WHERE trim(BOTH ' \t\r' FROM text) != ''
