-- The per-installation hash salt (SPEC §8): the salt this warehouse's emails
-- and phones are hashed with.  A fresh warehouse (no events) gets a random
-- one here, so `seamline init` generates it; one that already holds events
-- gets its row from the first command (seamline.governance.salt: the
-- configured salt, else the old default its data was loaded with).  The
-- latest row is the salt in use.
CREATE TABLE IF NOT EXISTS installation_salt
(
    salt   String,
    set_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(set_at)
ORDER BY tuple();

INSERT INTO installation_salt
SELECT lower(hex(randomString(32))), now64(3)
WHERE (SELECT count() FROM installation_salt) = 0 AND (SELECT count() FROM events) = 0;
