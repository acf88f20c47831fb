"""goose's `goose_db_version(version_id, is_applied)`: an append-only log; the newest row of a version decides.

Version 0 is the row goose writes when it creates the table, not a migration.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from pgparity.migrations.ledgers.tables import Located, find_table
from pgparity.schema.model import LedgerEntry


def find(conn: psycopg.Connection) -> Located | None:
    return find_table(conn, "goose_db_version", {"id", "version_id", "is_applied"})


def read(conn: psycopg.Connection, table: Located) -> tuple[LedgerEntry, ...]:
    rows = conn.execute(sql.SQL("SELECT version_id, is_applied FROM {} WHERE version_id <> 0 ORDER BY id").format(
        table.identifier))
    state: dict[int, bool] = {}
    for version, applied in rows:
        state.pop(version, None)
        state[version] = applied
    return tuple(LedgerEntry(str(version), "", None, False, False) for version, applied in state.items() if applied)
