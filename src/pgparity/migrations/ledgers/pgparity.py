"""pgparity's own ledger, `pgparity.schema_migrations`: version, name and the file's sha256."""

from __future__ import annotations

import psycopg

from pgparity.migrations.ledger import SCHEMA, TABLE, entries
from pgparity.migrations.ledgers.tables import Located, find_table
from pgparity.schema.model import LedgerEntry


def find(conn: psycopg.Connection) -> Located | None:
    return find_table(conn, TABLE, {"version", "name", "checksum"}, schema=SCHEMA)


def read(conn: psycopg.Connection, table: Located) -> tuple[LedgerEntry, ...]:
    return entries(conn, table.identifier)
