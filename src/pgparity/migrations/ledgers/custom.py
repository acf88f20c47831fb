"""A ledger the project names in pgparity.toml: any table with a column holding a version or a file name.

    [production]
    ledger = { table = "public.migration_history", version = "migration_name" }
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from pgparity.config import LedgerTable
from pgparity.errors import ConfigError
from pgparity.migrations.ledgers.tables import Located, find_table
from pgparity.schema.model import LedgerEntry

KIND = "custom"


def find(conn: psycopg.Connection, configured: LedgerTable) -> Located:
    located = find_table(conn, configured.table, set(), schema=configured.schema)
    where = f"{configured.source}: [production] ledger"
    if located is None:
        raise ConfigError(f"{where}: table {configured.schema}.{configured.table} not found in the database")
    if configured.version not in located.columns:
        raise ConfigError(f"{where}: {located.label} has no column {configured.version!r} "
                          f"(it has {', '.join(sorted(located.columns))})")
    return located


def read(conn: psycopg.Connection, table: Located, configured: LedgerTable) -> tuple[LedgerEntry, ...]:
    rows = conn.execute(sql.SQL("SELECT DISTINCT {column}::text FROM {table} WHERE {column} IS NOT NULL").format(
        column=sql.Identifier(configured.version), table=table.identifier))
    return tuple(LedgerEntry(text, "", None, False, False) for text in sorted((text for (text,) in rows), key=natural))


def natural(text: str) -> tuple[int, str]:
    """Numbered names in number order (9_x before 10_y), whatever their padding."""
    digits = len(text) - len(text.lstrip("0123456789"))
    return (int(text[:digits]) if digits else -1, text)
