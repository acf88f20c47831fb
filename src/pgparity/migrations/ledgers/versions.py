"""Ledgers that are a bare set of applied versions (dbmate's and Rails' `schema_migrations`)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from pgparity.migrations.ledgers.tables import Located
from pgparity.schema.model import LedgerEntry

# Columns that say the table is another tool's schema_migrations.
OTHERS = {"dirty", "name", "checksum"}


def read(conn: psycopg.Connection, table: Located) -> tuple[LedgerEntry, ...]:
    rows = conn.execute(sql.SQL("SELECT version::text FROM {} ORDER BY length(version::text), version::text").format(
        table.identifier))
    return tuple(LedgerEntry(version, "", None, False, False) for (version,) in rows)
