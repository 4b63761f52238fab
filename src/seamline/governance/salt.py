"""The per-installation hash salt (SPEC §8).

The salt emails and phones are hashed with is the installation's, stored in
the warehouse (``installation_salt``, migration 0021), settled by the first
command that opens it: random for a new warehouse.  ``hash_salt`` left empty uses it.  A configured salt is adopted
while nothing has been hashed; once data is hashed, a configured salt that
differs from the stored one is refused: its hashes would not match the
stored ones (one customer would become two, and ``forget --email`` would
miss the stored rows)."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from seamline.sqlfile import statement
from seamline.warehouse import Warehouse

# The default of hash_salt before the salt was per installation: data loaded
# then was hashed with it.
LEGACY_SALT = "seamline-default-salt"


def _sql(name: str) -> str:
    return statement("seamline.governance", "salt", name)


def _store(wh: Warehouse, salt: str) -> None:
    wh.insert("installation_salt", [[salt, datetime.now(timezone.utc)]], ["salt", "set_at"])


def resolve(wh: Warehouse, settings) -> str:
    """The salt in use; sets ``settings.hash_salt`` to it.  Raises ConfigError
    for a configured salt that differs from the stored data's."""
    from seamline.config import ConfigError

    configured = settings.hash_salt
    stored = wh.scalar(_sql("stored")) or ""
    if not stored:  # a new warehouse, or data loaded before anything settled the salt
        hashed = int(wh.scalar(_sql("hashed")) or 0)
        stored = configured or (LEGACY_SALT if hashed else secrets.token_hex(32))
        _store(wh, stored)
    elif configured and configured != stored:
        if int(wh.scalar(_sql("hashed")) or 0):
            raise ConfigError(
                "hash_salt: the configured salt differs from the one this warehouse's emails and phones were "
                "hashed with (new hashes would not match them); remove hash_salt to use the installation's salt, "
                "or set the salt the data was loaded with")
        stored = configured  # nothing hashed yet: the configured salt becomes the installation's
        _store(wh, stored)
    settings.hash_salt = stored
    return stored


def effective(wh: Warehouse | None, settings) -> str:
    """The salt hashes are made with, without checking or storing anything
    (the configured one, else the stored one, as sql/load_parse.sql does)."""
    if settings.hash_salt or wh is None:
        return settings.hash_salt or LEGACY_SALT
    return wh.scalar(_sql("stored")) or LEGACY_SALT
