-- The end of data (censoring time) and the data's span, for the retention
-- curves (replaced wholesale by every retention run).
INSERT INTO data_bounds
SELECT now64(3), min(occurred_at), max(occurred_at), count() FROM events;
