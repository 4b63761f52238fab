-- The per-installation hash salt (SPEC §8): the salt this warehouse's emails
-- and phones are hashed with, written by the first command that opens the
-- warehouse (`seamline init`; seamline.governance.salt): the configured
-- salt, else a random one while nothing is hashed, else the old default the
-- data was loaded with.  The latest row is the salt in use.
CREATE TABLE IF NOT EXISTS installation_salt
(
    salt   String,
    set_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(set_at)
ORDER BY tuple();
