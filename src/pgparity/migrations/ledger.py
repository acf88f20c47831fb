"""pgparity's migration ledger in a database: its table, and the rows that say which files it has applied.

A row is a `LedgerEntry`, the same value other tools' ledgers are read into (see `ledgers`); running
a file and writing its row as it goes is `apply`'s.

A file that runs outside a transaction cannot commit its row with its work, so its row is written first in
the state STARTED, committed on its own, and marked APPLIED once the file is done: a command killed in
between leaves a STARTED row (a `LedgerEntry` that `failed`), which the next command reconciles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pgparity import __version__
from pgparity.errors import MigrationError, shown
from pgparity.lazy import later, psycopg
from pgparity.migrations.model import Baseline, Migration, Plan, Version, ordering

if TYPE_CHECKING:
    from pgparity.schema.model import LedgerEntry

# Lint and discovery read this module's names and checksums before anything talks to a server.
sql = later("psycopg.sql")
schema_model = later("pgparity.schema.model")

SCHEMA = "pgparity"
TABLE = "schema_migrations"


@cache
def qualified() -> sql.Identifier:
    return sql.Identifier(SCHEMA, TABLE)


CREATE = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {table} (
    version text NOT NULL,
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
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'applied';
DO $$ BEGIN
    IF (SELECT a.atttypid <> 'text'::regtype FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = {schema_name} AND c.relname = {table_name} AND a.attname = 'version') THEN
        ALTER TABLE {table} ALTER COLUMN version TYPE text;
    END IF;
END $$
"""
# Versions are text, as every layout writes them (Flyway's 1.2.3); ledgers made when they were numbers are
# altered by `ensure`, and a template database of that time is not reused (see `sync.cache_key`).
LAYOUT = "version-text"
APPLIED, STARTED = "applied", "started"
# A restored dump's rows: production applied these files before the dump was taken; nothing ran here.
FROM_DUMP = "dump"


def matches(recorded: str | None, migration: Migration) -> bool:
    """Whether a ledger row's checksum is the file's, in either the current spelling (line endings read as LF)
    or the earlier one (the bytes as they are); see `content.Content`."""
    return recorded in (migration.checksum, migration.raw_checksum)


def ensure(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute(sql.SQL(CREATE).format(schema=sql.Identifier(SCHEMA), table=qualified(),
                                            schema_name=sql.Literal(SCHEMA), table_name=sql.Literal(TABLE)))


def record(conn: psycopg.Connection, migrations: Iterable[Migration], origin: str) -> None:
    """Ledger rows for files whose effects the database already has (a restored dump), marked by `origin`."""
    ensure(conn)
    with conn.transaction():
        for migration in migrations:
            conn.execute(sql.SQL("INSERT INTO {} (version, name, checksum, execution_ms, tool_version, origin) "
                                 "VALUES (%s, %s, %s, 0, %s, %s)").format(qualified()),
                         (str(migration.version), migration.name, migration.checksum, __version__, origin))


def read(conn: psycopg.Connection) -> tuple[LedgerEntry, ...]:
    """The ledger's rows in version order; empty when the database has no ledger."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.{TABLE}",)).fetchone()[0]
    return entries(conn) if exists else ()


def entries(conn: psycopg.Connection, table: sql.Composable | None = None) -> tuple[LedgerEntry, ...]:
    """The rows of a ledger table that exists (`table`: where it was found), in version order; a STARTED row
    `failed`. A ledger written before rows had a state (production's, a dump's) has applied rows only."""
    rows = conn.execute(sql.SQL("SELECT version::text, name, checksum, coalesce(to_jsonb(t) ->> 'state', {}) = {} "
                                "FROM {} AS t").format(sql.Literal(APPLIED), sql.Literal(STARTED),
                                                        qualified() if table is None else table))
    return tuple(schema_model.LedgerEntry(version, name, checksum, False, started)
                 for version, name, checksum, started
                 in sorted(rows, key=lambda row: (ordering(row[0]), row[1])))


def start(conn: psycopg.Connection, migration: Migration) -> None:
    """The STARTED row of a file about to run outside a transaction, committed before it runs (autocommit)."""
    conn.execute(sql.SQL("INSERT INTO {} (version, name, checksum, execution_ms, tool_version, state) "
                         "VALUES (%s, %s, %s, 0, %s, %s)").format(qualified()),
                 (str(migration.version), migration.name, migration.checksum, __version__, STARTED))


def finish(migration: Migration, execution_ms: sql.Composable) -> sql.Composed:
    """The statement that marks a STARTED row APPLIED, with the time the file took."""
    return sql.SQL("UPDATE {} SET state = {}, execution_ms = {}, applied_at = now() "
                   "WHERE version = {} AND name = {} AND state = {}").format(
        qualified(), sql.Literal(APPLIED), execution_ms, sql.Literal(str(migration.version)), sql.Literal(migration.name),
        sql.Literal(STARTED))


def forget_started(conn: psycopg.Connection, row: tuple[str, str]) -> None:
    """Remove the STARTED row of (version, name), so its file runs again as pending."""
    conn.execute(sql.SQL("DELETE FROM {} WHERE version = %s AND name = %s AND state = %s").format(qualified()),
                 (row[0], row[1], STARTED))


def complete(conn: psycopg.Connection, row: tuple[str, str]) -> None:
    """Mark the STARTED row of (version, name) APPLIED: its file's work is found done."""
    conn.execute(sql.SQL("UPDATE {} SET state = %s WHERE version = %s AND name = %s AND state = %s").format(
        qualified()), (APPLIED, row[0], row[1], STARTED))


def key(migration: Migration) -> tuple[str, str]:
    """The file's version and name as its ledger row spells them."""
    return str(migration.version), migration.name


def changed(applied: Iterable[LedgerEntry], migrations: Iterable[Migration]) -> list[tuple[LedgerEntry, Migration]]:
    """Ledger rows whose file now has other content (as Flyway's validate reports them); a repeatable file
    that changed is no edit: it is applied again."""
    by_key = {key(m): m for m in migrations if not m.repeatable}
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
        if self.file.version == Version.parse(self.row.version):
            number = self.file.path.name.partition("_")[0]  # as the name writes it: 002
            claim = (f"version {number if number.isdigit() else self.file.version} is recorded in the ledger as "
                     f"{self.recorded}")
        else:
            claim = f"has the content the ledger records for {self.recorded}"
        return f"{shown(self.file.path)}: {claim} (renamed?); rename it back, or accept it with `invoke db.repair`"


def recorded_file(row: LedgerEntry, directory: Sequence[Path]) -> str:
    """The file name a pgparity ledger row stands for, its number as wide as the directory's files write theirs."""
    widths = [len(digits) for path in directory if (digits := path.name.partition("_")[0]).isdigit()]
    if not row.version.isdigit():
        return f"{row.version} {row.name}".strip()
    return f"{row.version.zfill(min(widths, default=3))}_{row.name}.sql"


def unresolved(applied: Sequence[LedgerEntry], plan: Plan, baseline: Baseline | None) -> list[Unresolved]:
    """Ledger rows with no file of their version and name (as Flyway's validate finds applied migrations not
    resolved locally): each paired with the unrecorded file that took its version, else its content.

    Rows a baseline covers need no file (squashing history then deleting it is what a baseline is for);
    files skipped by the project or covered by the baseline are still there.
    """
    present = {key(m) for m in plan.migrations} | plan.present
    recorded = {(row.version, row.name) for row in applied}
    unrecorded = [m for m in plan.migrations if key(m) not in recorded]
    names: list[Path] = [m.path for m in plan.migrations]
    found = []
    for row in applied:
        if (row.version, row.name) in present or (baseline and row.version.isdigit()
                                                  and int(row.version) <= baseline.through):
            continue
        file = next((m for m in unrecorded if not m.repeatable and m.version == Version.parse(row.version)),
                    None) or next((m for m in unrecorded if matches(row.checksum, m)), None)
        if file is not None:
            unrecorded.remove(file)
        found.append(Unresolved(row, recorded_file(row, names), file))
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
            conn.execute(sql.SQL("UPDATE {} SET checksum = %s WHERE version = %s AND name = %s").format(qualified()),
                         (migration.checksum, str(migration.version), migration.name))


def forget(version: str, name: str) -> sql.Composed:
    """The statement removing a file's row: the database no longer has that file's effects, or never will."""
    return sql.SQL("DELETE FROM {} WHERE version = {} AND name = {}").format(qualified(), sql.Literal(version),
                                                                           sql.Literal(name))


def resolve(conn: psycopg.Connection, problems: Iterable[Unresolved]) -> None:
    """Accept renamed and deleted applied migrations: a renamed file's row takes its new version, name and
    checksum; a deleted file's row is removed (its objects stay in the database)."""
    with conn.transaction():
        for problem in problems:
            where = (problem.row.version, problem.row.name)
            if problem.file is None:
                conn.execute(forget(*where))
            else:
                conn.execute(sql.SQL("UPDATE {} SET version = %s, name = %s, checksum = %s "
                                     "WHERE version = %s AND name = %s").format(qualified()),
                             (str(problem.file.version), problem.file.name, problem.file.checksum, *where))
