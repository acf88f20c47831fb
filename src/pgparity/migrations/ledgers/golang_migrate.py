"""golang-migrate's `schema_migrations(version, dirty)`: one row, everything up to that version applied.

`dirty` means the migration of that version started and did not finish: production is half-way through it.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from pgparity.migrations.ledgers.tables import Located, find_table
from pgparity.schema.model import LedgerEntry


def find(conn: psycopg.Connection) -> Located | None:
    return find_table(conn, "schema_migrations", {"version", "dirty"})


def read(conn: psycopg.Connection, table: Located) -> tuple[LedgerEntry, ...]:
    rows = conn.execute(sql.SQL("SELECT version, dirty FROM {} ORDER BY version DESC LIMIT 1").format(
        table.identifier)).fetchall()
    return tuple(LedgerEntry(str(version), "", None, True, bool(dirty)) for version, dirty in rows)
