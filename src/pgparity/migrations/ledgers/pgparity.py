"""pgparity's own ledger, `pgparity.schema_migrations`: version, name and the file's sha256."""

from __future__ import annotations

import psycopg
from psycopg import sql

from pgparity.migrations.ledger import SCHEMA, TABLE
from pgparity.migrations.ledgers.tables import Located, find_table
from pgparity.schema.model import LedgerEntry


def find(conn: psycopg.Connection) -> Located | None:
    return find_table(conn, TABLE, {"version", "name", "checksum"}, schema=SCHEMA)


def read(conn: psycopg.Connection, table: Located) -> tuple[LedgerEntry, ...]:
    rows = conn.execute(sql.SQL("SELECT version, name, checksum FROM {} ORDER BY version, name").format(
        table.identifier))
    return tuple(LedgerEntry(str(version), name, checksum, False, False) for version, name, checksum in rows)
