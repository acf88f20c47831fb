"""pgparity's migration ledger in a database: its table, and the rows that say which files it has applied.

A row is a `LedgerEntry`, the same value other tools' ledgers are read into (see `ledgers`); running
a file and writing its row as it goes is `apply`'s.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from pgparity import __version__
from pgparity.migrations.model import Migration
from pgparity.schema.model import LedgerEntry

SCHEMA = "pgparity"
TABLE = "schema_migrations"
QUALIFIED = sql.Identifier(SCHEMA, TABLE)

CREATE = sql.SQL("""
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {table} (
    version bigint NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    execution_ms integer NOT NULL,
    tool_version text NOT NULL,
    origin text NOT NULL DEFAULT 'replay',
    PRIMARY KEY (version, name)
);
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'replay'
""").format(schema=sql.Identifier(SCHEMA), table=QUALIFIED)
# A restored dump's rows: production applied these files before the dump was taken; nothing ran here.
FROM_DUMP = "dump"


def ensure(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute(CREATE)


def record(conn: psycopg.Connection, migrations: Iterable[Migration], origin: str) -> None:
    """Ledger rows for files whose effects the database already has (a restored dump), marked by `origin`."""
    ensure(conn)
    with conn.transaction():
        for migration in migrations:
            conn.execute(sql.SQL("INSERT INTO {} (version, name, checksum, execution_ms, tool_version, origin) "
                                 "VALUES (%s, %s, %s, 0, %s, %s)").format(QUALIFIED),
                         (migration.version, migration.name, migration.checksum, __version__, origin))


def read(conn: psycopg.Connection) -> tuple[LedgerEntry, ...]:
    """The ledger's rows in version order; empty when the database has no ledger."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.{TABLE}",)).fetchone()[0]
    return entries(conn) if exists else ()


def entries(conn: psycopg.Connection, table: sql.Composable = QUALIFIED) -> tuple[LedgerEntry, ...]:
    """The rows of a ledger table that exists (`table`: where it was found), in version order."""
    rows = conn.execute(sql.SQL("SELECT version, name, checksum FROM {} ORDER BY version, name").format(table))
    return tuple(LedgerEntry(str(version), name, checksum, False, False) for version, name, checksum in rows)


def key(migration: Migration) -> tuple[str, str]:
    """The file's version and name as its ledger row spells them."""
    return str(migration.version), migration.name


def changed(applied: Iterable[LedgerEntry], migrations: Iterable[Migration]) -> list[tuple[LedgerEntry, Migration]]:
    """Ledger rows whose file now has other content (as Flyway's validate reports them)."""
    by_key = {key(m): m for m in migrations}
    return [(row, by_key[row.version, row.name]) for row in applied
            if (row.version, row.name) in by_key and by_key[row.version, row.name].checksum != row.checksum]


def accept(conn: psycopg.Connection, migrations: Iterable[Migration]) -> None:
    """Record the files' current checksums: the explicit way to accept an edited, applied migration."""
    with conn.transaction():
        for migration in migrations:
            conn.execute(sql.SQL("UPDATE {} SET checksum = %s WHERE version = %s AND name = %s").format(QUALIFIED),
                         (migration.checksum, migration.version, migration.name))
