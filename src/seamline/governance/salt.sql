-- Statements of the per-installation salt (seamline.governance.salt).

-- name: stored
SELECT argMax(salt, set_at) FROM installation_salt

-- name: hashed
-- Whether any email or phone has been hashed (events; a quarantined row holds none hashed).
SELECT count() FROM (SELECT 1 FROM events WHERE email_hash != '' OR phone_hash != '' LIMIT 1)
