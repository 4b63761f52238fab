-- The incident rules have run: drop their staged events.
DROP TABLE IF EXISTS _incidents_stage;
