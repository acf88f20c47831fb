"""pgparity's migration ledger in a database: its table, and the rows that say which files it has applied.

A row is a `LedgerEntry`, the same value other tools' ledgers are read into (see `ledgers`); running
a file and writing its row as it goes is `apply`'s.

A file that runs outside a transaction cannot commit its row with its work, so its row is written first in
the state STARTED, committed on its own, and marked APPLIED once the file is done: a command killed in
between leaves a STARTED row (a `LedgerEntry` that `failed`), which the next command reconciles.
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
    state text NOT NULL DEFAULT 'applied',
    PRIMARY KEY (version, name)
);
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'replay';
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'applied'
""").format(schema=sql.Identifier(SCHEMA), table=QUALIFIED)
APPLIED, STARTED = "applied", "started"
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
    """The rows of a ledger table that exists (`table`: where it was found), in version order; a STARTED row
    `failed`. A ledger written before rows had a state (production's, a dump's) has applied rows only."""
    rows = conn.execute(sql.SQL("SELECT version, name, checksum, coalesce(to_jsonb(t) ->> 'state', {}) = {} "
                                "FROM {} AS t ORDER BY version, name").format(
        sql.Literal(APPLIED), sql.Literal(STARTED), table))
    return tuple(LedgerEntry(str(version), name, checksum, False, started) for version, name, checksum, started in rows)


def start(conn: psycopg.Connection, migration: Migration) -> None:
    """The STARTED row of a file about to run outside a transaction, committed before it runs (autocommit)."""
    conn.execute(sql.SQL("INSERT INTO {} (version, name, checksum, execution_ms, tool_version, state) "
                         "VALUES (%s, %s, %s, 0, %s, %s)").format(QUALIFIED),
                 (migration.version, migration.name, migration.checksum, __version__, STARTED))


def finish(migration: Migration, execution_ms: sql.Composable) -> sql.Composed:
    """The statement that marks a STARTED row APPLIED, with the time the file took."""
    return sql.SQL("UPDATE {} SET state = {}, execution_ms = {}, applied_at = now() "
                   "WHERE version = {} AND name = {} AND state = {}").format(
        QUALIFIED, sql.Literal(APPLIED), execution_ms, sql.Literal(migration.version), sql.Literal(migration.name),
        sql.Literal(STARTED))


def forget(conn: psycopg.Connection, row: tuple[str, str]) -> None:
    """Remove the STARTED row of (version, name), so its file runs again as pending."""
    conn.execute(sql.SQL("DELETE FROM {} WHERE version = %s AND name = %s AND state = %s").format(QUALIFIED),
                 (int(row[0]), row[1], STARTED))


def complete(conn: psycopg.Connection, row: tuple[str, str]) -> None:
    """Mark the STARTED row of (version, name) APPLIED: its file's work is found done."""
    conn.execute(sql.SQL("UPDATE {} SET state = %s WHERE version = %s AND name = %s AND state = %s").format(
        QUALIFIED), (APPLIED, int(row[0]), row[1], STARTED))


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
