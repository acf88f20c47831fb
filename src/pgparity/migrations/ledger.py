"""pgparity's migration ledger in a database: its table, and the rows that say which files it has applied.

A row is a `LedgerEntry`, the same value other tools' ledgers are read into (see `ledgers`); running
a file and writing its row as it goes is `apply`'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
from psycopg import sql

from pgparity import __version__
from pgparity.errors import MigrationError, shown
from pgparity.migrations.model import Baseline, Migration, Plan
from pgparity.migrations.naming import classify, recorded_file
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


def checksum(data: bytes) -> str:
    """A file's sha256 as its ledger row keeps it, line endings read as LF: CRLF -> LF is not an edit.

    For a file saved with LF this is the sha256 of its bytes, so rows written before the endings were
    normalized still match; a file that had CRLF then is matched by `raw_checksum` (see `matches`).
    """
    return hashlib.sha256(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")).hexdigest()


def raw_checksum(data: bytes) -> str:
    """The sha256 of a file's bytes as they are: what ledgers recorded before `checksum` normalized endings."""
    return hashlib.sha256(data).hexdigest()


def matches(recorded: str | None, migration: Migration) -> bool:
    """Whether a ledger row's checksum is the file's, in either the current or the earlier spelling."""
    return recorded in (migration.checksum, migration.raw_checksum)


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
            if (row.version, row.name) in by_key and not matches(row.checksum, by_key[row.version, row.name])]


def current(applied: Iterable[LedgerEntry], migrations: Iterable[Migration]) -> tuple[LedgerEntry, ...]:
    """The rows, each that matches its file by the earlier spelling of the checksum given the current one:
    the same content, so a comparison with a fresh replay's ledger sees no change."""
    by_key = {key(m): m for m in migrations}
    return tuple(replace(row, checksum=file.checksum) if (file := by_key.get((row.version, row.name)))
                 and matches(row.checksum, file) else row for row in applied)


@dataclass(frozen=True)
class Unresolved:
    """An applied migration whose file is not in the directory: renamed to `file`, or gone (`file` is None)."""

    row: LedgerEntry
    recorded: str  # the row's file name, numbered as the directory numbers its files
    file: Migration | None

    def __str__(self) -> str:
        if self.file is None:
            return (f"{self.recorded} is recorded in the ledger but its file is gone; restore it, or accept "
                    "its removal with `invoke db.repair`")
        if str(self.file.version) == self.row.version:
            claim = f"version {self.file.path.name.partition('_')[0]} is recorded in the ledger as {self.recorded}"
        else:
            claim = f"has the content the ledger records for {self.recorded}"
        return f"{shown(self.file.path)}: {claim} (renamed?); rename it back, or accept it with `invoke db.repair`"


def unresolved(applied: Sequence[LedgerEntry], plan: Plan, baseline: Baseline | None) -> list[Unresolved]:
    """Ledger rows with no file of their version and name (as Flyway's validate finds applied migrations not
    resolved locally): each paired with the unrecorded file that took its version, else its content.

    Rows a baseline covers need no file (squashing history then deleting it is what a baseline is for);
    files skipped by the project or covered by the baseline are still there.
    """
    present = {key(m) for m in plan.migrations} | {(str(f.version), f.description) for f in
                                                    map(classify, (*plan.skipped, *plan.covered))}
    recorded = {(row.version, row.name) for row in applied}
    unrecorded = [m for m in plan.migrations if key(m) not in recorded]
    names: list[Path] = [m.path for m in plan.migrations]
    found = []
    for row in applied:
        if (row.version, row.name) in present or (baseline and row.version.isdigit()
                                                  and int(row.version) <= baseline.through):
            continue
        file = next((m for m in unrecorded if str(m.version) == row.version), None) or next(
            (m for m in unrecorded if matches(row.checksum, m)), None)
        if file is not None:
            unrecorded.remove(file)
        found.append(Unresolved(row, recorded_file(int(row.version), row.name, names), file))
    return found


def refuse_unresolved(problems: Sequence[Unresolved]) -> None:
    """One line for the first applied migration without its file, counting the others."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise MigrationError(f"{problems[0]}{more}")


def accept(conn: psycopg.Connection, migrations: Iterable[Migration]) -> None:
    """Record the files' current checksums: the explicit way to accept an edited, applied migration."""
    with conn.transaction():
        for migration in migrations:
            conn.execute(sql.SQL("UPDATE {} SET checksum = %s WHERE version = %s AND name = %s").format(QUALIFIED),
                         (migration.checksum, migration.version, migration.name))


def forget(version: int, name: str) -> sql.Composed:
    """The statement removing a file's row: the database no longer has that file's effects, or never will."""
    return sql.SQL("DELETE FROM {} WHERE version = {} AND name = {}").format(QUALIFIED, sql.Literal(version),
                                                                           sql.Literal(name))


def resolve(conn: psycopg.Connection, problems: Iterable[Unresolved]) -> None:
    """Accept renamed and deleted applied migrations: a renamed file's row takes its new version, name and
    checksum; a deleted file's row is removed (its objects stay in the database)."""
    with conn.transaction():
        for problem in problems:
            where = (int(problem.row.version), problem.row.name)
            if problem.file is None:
                conn.execute(forget(*where))
            else:
                conn.execute(sql.SQL("UPDATE {} SET version = %s, name = %s, checksum = %s "
                                     "WHERE version = %s AND name = %s").format(QUALIFIED),
                             (problem.file.version, problem.file.name, problem.file.checksum, *where))
