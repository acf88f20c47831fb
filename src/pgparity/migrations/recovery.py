"""What a killed command leaves in a database it applied migrations to, found and settled by the next one.

Two things outlive a client killed while applying: its session, which the server keeps running until
the statement in hand ends (the rest of a batch, a CONCURRENTLY build), and a no-transaction file's
STARTED ledger row (see `ledger`). `claim` makes the applying session the only one: it holds a session
lock in the database, ends the session of an applier whose process is gone from this machine, and
waits for a live one. `reconcile` then settles each STARTED row from what the database holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from pgparity.errors import MigrationError, shown
from pgparity.lazy import later
from pgparity.migrations import ledger
from pgparity.migrations.model import Migration
from pgparity.processes import gone, owner

if TYPE_CHECKING:
    from pgparity.schema.model import LedgerEntry

# Only a file a killed command left unfinished is read for its effects (pglast) against the catalog.
effects = later("pgparity.migrations.effects")
introspection = later("pgparity.schema.introspect")

LOCK_KEY = "pgparity:apply"
# An applying session names its client, so the next command can tell a dead one: "pgparity-apply <pid>@<host>".
APPLIER = "pgparity-apply"
MAX_APPLICATION_NAME = 63  # bytes the server keeps


def application_name() -> str:
    """The application_name of this process's applying sessions."""
    return f"{APPLIER} {owner()}".encode()[:MAX_APPLICATION_NAME].decode(errors="ignore")


def client_gone(name: str) -> str | None:
    """The client (`<pid>@<host>`) an applier's application_name names, when it is known to have ended."""
    client = name.removeprefix(APPLIER + " ")
    return client if gone(client) else None


def claim(conn: psycopg.Connection, notify: Callable[[str], None]) -> None:
    """Hold the database's applier lock in `conn` (autocommit, opened with `application_name()`).

    An applier session whose client died is ended first (the server would finish its batch on its own);
    a live one is waited for.
    """
    if conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (LOCK_KEY,)).fetchone()[0]:
        return
    database = conn.info.dbname
    others = conn.execute(
        "SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database() "
        "AND starts_with(application_name, %s) AND pid <> pg_backend_pid()", (APPLIER + " ",)).fetchall()
    dead = [(backend, client) for backend, name in others if (client := client_gone(name))]
    for backend, client in dead:
        notify(f"a pgparity command applying migrations to {database} died (process {client}) while the server "
               f"still ran its work; ending that session (server process {backend})")
        conn.execute("SELECT pg_terminate_backend(%s)", (backend,))
    if len(dead) < len(others):
        notify(f"another pgparity command is applying migrations to {database}; waiting for it")
    conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (LOCK_KEY,))


def reconcile(conn: psycopg.Connection, migrations: Sequence[Migration], notify: Callable[[str], None]) -> None:
    """Settle the STARTED rows of no-transaction files a killed command left (call after `claim`).

    A file whose work is all there is recorded as applied; one that did nothing is run again as pending;
    an index a killed CONCURRENTLY build left INVALID is dropped and its file run again. A file found half
    done, changed since it started or gone is refused, naming what is there and what is not.
    """
    started = [row for row in ledger.read(conn) if row.failed]
    if not started:
        return
    files = {ledger.key(m): m for m in migrations}
    present = effects.present(introspection.inspect(conn))
    invalid = invalid_indexes(conn)
    for row in started:
        migration = check_file(conn, row, files.get((row.version, row.name)))
        found = effects.of_sql(migration.sql)
        broken = [key for key in added(found) if key in invalid]
        if broken:
            for key in broken:
                conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(*key[1:])))
            ledger.forget_started(conn, (row.version, row.name))
            notify(f"{shown(migration.path)} was interrupted while building index {', '.join(effects.shown(k) for k in broken)}, "
                   "which the server left INVALID; dropped it, the file runs again")
            continue
        done, undone = outcome(found, present)
        if not found.readable:
            raise MigrationError(
                f"{shown(migration.path)} was interrupted and pgparity cannot parse it to tell whether its work is "
                f"done; check {conn.info.dbname}, then record it (UPDATE {ledger.SCHEMA}.{ledger.TABLE} SET state = "
                f"'applied' WHERE version = '{row.version}') or let it run again (DELETE FROM {ledger.SCHEMA}."
                f"{ledger.TABLE} WHERE version = '{row.version}' AND state = 'started')")
        if done and undone:
            raise MigrationError(
                f"{shown(migration.path)} was interrupted half done: {', '.join(done)} done, {', '.join(undone)} "
                f"not; finish or undo the rest by hand in {conn.info.dbname}, then rerun (a finished file is "
                "recorded, an undone one runs again)")
        if not found.effects:
            ledger.forget_started(conn, (row.version, row.name))
            notify(f"{shown(migration.path)}: the previous command was killed while the file ran; its work names "
                   "no object to look for, so it runs again")
        elif done:
            ledger.complete(conn, (row.version, row.name))
            notify(f"{shown(migration.path)}: the previous command was killed after the file's work was done but "
                   "before it was recorded; recorded it now")
        else:
            ledger.forget_started(conn, (row.version, row.name))
            notify(f"{shown(migration.path)}: the previous command was killed before the file's work was done; "
                   "it runs again")


def check_file(conn: psycopg.Connection, row: LedgerEntry, migration: Migration | None) -> Migration:
    """The file a STARTED row names, unchanged since it started."""
    if migration is None:
        raise MigrationError(
            f"{conn.info.dbname}'s ledger says {row.version} {row.name} was started by a command that was killed, "
            f"and no such migration file exists now; restore the file and rerun, or rebuild with `invoke db.sync`")
    if migration.checksum != row.checksum:
        raise MigrationError(
            f"{shown(migration.path)} changed after a run of it was interrupted (started with sha256 "
            f"{(row.checksum or '')[:12]}, file {migration.checksum[:12]}); restore the file and rerun, or rebuild "
            "with `invoke db.sync`")
    return migration


def added(found: effects.Effects) -> list[effects.Key]:
    return [effect.key for effect in found.effects if effect.action == "add" and effect.key[0] == "relation"]


def outcome(found: effects.Effects, present: set[effects.Key]) -> tuple[list[str], list[str]]:
    """What of a file's effects the database shows done, and what not (both as a person names them)."""
    done, undone = [], []
    for effect in found.effects:
        if effect.action == "add":
            holds = effect.key in present
        elif effect.action == "drop":
            holds = effect.key not in present
        else:
            holds = effect.new in present and effect.key not in present
        (done if holds else undone).append(effects.shown(effect.new or effect.key))
    return done, undone


def invalid_indexes(conn: psycopg.Connection) -> set[effects.Key]:
    """Indexes the server marks INVALID (a CONCURRENTLY build that did not finish), as effect keys."""
    rows = conn.execute("SELECT n.nspname, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid").fetchall()
    return {("relation", schema, name) for schema, name in rows}
