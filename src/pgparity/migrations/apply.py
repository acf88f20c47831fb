"""Applying migration files: each file sent whole with its ledger row, in batches when it can share a message.

The ledger table itself (its schema, rows and the files it records) is `ledger`'s; this module runs
files, times them and says where one failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from pgparity import __version__
from pgparity.errors import MigrationError, shown
from pgparity.migrations import ledger
from pgparity.migrations.content import Content
from pgparity.migrations.ledger import SCHEMA, TABLE, qualified
from pgparity.migrations.lexer import Statement, statements
from pgparity.migrations.lint import TRANSACTION_CONTROL
from pgparity.migrations.model import NONE, Migration, Version

# A message carries several files, each in its own transaction: fewer round trips, same guarantees.
BATCH_FILES = 50
BATCH_BYTES = 256 * 1024
# The row is written as the session's own user: a file's SET ROLE or SET SESSION AUTHORIZATION (which RESET
# ALL leaves alone) must neither stop the row nor carry over to the next file.
AS_SESSION_USER = "RESET SESSION AUTHORIZATION;\nRESET ROLE;\n"
RECORD = sql.SQL("INSERT INTO {} (version, name, checksum, execution_ms, tool_version) VALUES ").format(qualified())
# A repeatable migration applied again replaces its row; no other file has a row when it runs.
AGAIN = sql.SQL(" ON CONFLICT (version, name) DO UPDATE SET checksum = excluded.checksum, applied_at = now(), "
                "execution_ms = excluded.execution_ms, tool_version = excluded.tool_version")
# statement_timestamp() is the receipt of the whole message, so a file in a batch marks its own start.
# A file that resets every setting loses its mark; it is then timed from the message's receipt.
STARTED = "pgparity.started"
MARK_START = sql.SQL("SELECT set_config({}, extract(epoch FROM clock_timestamp())::text, true)").format(
    sql.Literal(STARTED))
SINCE_MESSAGE = sql.SQL("((extract(epoch FROM clock_timestamp() - statement_timestamp())) * 1000)::integer")
SINCE_MARK = sql.SQL(
    "((extract(epoch FROM clock_timestamp()) - coalesce(nullif(current_setting({}, true), '')::numeric, "
    "extract(epoch FROM statement_timestamp()))) * 1000)::integer").format(sql.Literal(STARTED))
# A batch prepares its two bookkeeping statements once instead of planning them for every file (a third
# of the per-file cost), after DEALLOCATE ALL so that nothing an earlier file did can stand in their way.
MARK, ROW = sql.Identifier("pgparity_mark"), sql.Identifier("pgparity_row")
BATCH_PREPARE = sql.SQL(
    "DEALLOCATE ALL;\nPREPARE {mark} AS {start};\nPREPARE {row} (text, text, text, text) AS {record}"
    "($1, $2, $3, {since}, $4){again};\n").format(mark=MARK, start=MARK_START, row=ROW, record=RECORD,
                                                   since=SINCE_MARK, again=AGAIN)
BATCH_HEAD = sql.SQL("BEGIN;\nEXECUTE {};\n").format(MARK)
BATCH_RECORD = sql.SQL("\n;\n" + AS_SESSION_USER + "EXECUTE {} ").format(ROW)
BATCH_TAIL = sql.SQL(";\nRESET ALL;\nCOMMIT;\n")


@dataclass(frozen=True)
class Timing:
    """How long one migration took to apply."""

    version: Version
    name: str
    path: str
    ms: int


def apply(conn: psycopg.Connection, migration: Migration, display: str) -> Timing:
    """Send the file whole (never split: function bodies hold semicolons) and record it.

    The file, its ledger row and a RESET ALL (so settings a file leaves behind, such as a dump's
    search_path, do not leak into the next) travel as one message, which the server runs as one
    implicit transaction: one round trip per file. A no-transaction file is sent alone, between its
    STARTED row and the statement that marks it applied (see `ledger`). `conn` is in autocommit mode.
    """
    started = time.perf_counter()
    ran = False  # the file itself has run: what fails now is its ledger row
    done: list[Statement] = []  # of a file run statement by statement, those committed
    try:
        if migration.no_transaction:
            ledger.start(conn, migration)
            send_alone(conn, migration, done)
            ran = True
            elapsed = sql.Literal(int((time.perf_counter() - started) * 1000))
            conn.execute(sql.Composed([sql.SQL(AS_SESSION_USER), ledger.finish(migration, elapsed),
                                       sql.SQL(";\nRESET ALL")]))
        else:
            conn.execute(f"{migration.sql}\n;\n{record_statement(migration).as_string(conn)};\nRESET ALL")
        if migration.check:
            verify(conn, migration)
    except psycopg.Error as error:
        if migration.no_transaction and not ran and not done and not conn.broken:  # it failed and said so
            ledger.forget_started(conn, ledger.key(migration))  # and left nothing: it runs again as pending
        if migration.one_by_one and not ran:
            failed = statements(migration.sql)[len(done)]
            raise MigrationError(describe_failure(f"{display}:{failed.line}", error), error.sqlstate) from None
        raise failure(conn, migration, display, error, ran) from None
    return Timing(migration.version, migration.name, display, int((time.perf_counter() - started) * 1000))


def send_alone(conn: psycopg.Connection, migration: Migration, done: list[Statement]) -> None:
    """A no-transaction file: whole, or statement by statement where its layout runs it so, each committed as
    it goes (and kept in `done`)."""
    if not migration.one_by_one:
        conn.execute(migration.sql)
        return
    for statement in statements(migration.sql):
        conn.execute(statement.text)
        done.append(statement)


def verify(conn: psycopg.Connection, migration: Migration) -> None:
    """Run the migration's verify script, which must not fail; whatever it leaves open is rolled back."""
    try:
        conn.execute(migration.check_sql)
    except psycopg.Error as error:
        line = line_of(migration.check_sql, error)
        where = f"{shown(migration.check)}:{line}" if line else shown(migration.check)
        cause = f"{migration.path.name} was applied, but its verify script failed"
        raise MigrationError(describe_failure(where, error, cause), error.sqlstate) from None
    finally:
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")


def record_statement(migration: Migration) -> sql.Composed:
    """The ledger row of a file sent alone; execution_ms is measured by the server."""
    version, name, checksum, tool = row_values(migration)
    values = sql.SQL(", ").join([version, name, checksum, SINCE_MESSAGE, tool])
    return sql.Composed([sql.SQL(AS_SESSION_USER), RECORD, sql.SQL("("), values, sql.SQL(")"), AGAIN])


def row_values(migration: Migration) -> list[sql.Literal]:
    """A ledger row's values but execution_ms (composed without `format`: one per file)."""
    return [sql.Literal(str(migration.version)), sql.Literal(migration.name), sql.Literal(migration.checksum),
            sql.Literal(__version__)]


def batches(migrations: Sequence[Migration]) -> Iterator[Sequence[Migration]]:
    """Runs of files that can share a message; a file that manages transactions itself travels alone."""
    start = 0
    while start < len(migrations):
        end, size = start + 1, migrations[start].content.size
        if shareable(migrations[start]):
            while (end < len(migrations) and end - start < BATCH_FILES and shareable(migrations[end])
                   and size + migrations[end].content.size <= BATCH_BYTES):
                size += migrations[end].content.size
                end += 1
        yield migrations[start:end]
        start = end


def shareable(migration: Migration) -> bool:
    return not (migration.no_transaction or migration.controls_transaction or migration.check)


def apply_batch(conn: psycopg.Connection, migrations: Sequence[Migration]) -> list[Timing]:
    """Send several files in one message, each with its ledger row in a transaction of its own.

    Returns the timings of the files committed: all of them, or those before the one that failed.
    The caller applies the rest one by one, so a failure is reported with the file's own line.
    """
    try:
        cursor = conn.execute(batch_script(conn, migrations))
    except psycopg.Error as error:
        if conn.broken:
            where = f"{shown(migrations[0].path)} ... {shown(migrations[-1].path)}"
            raise MigrationError(describe_failure(where, error), error.sqlstate) from None
        if conn.info.transaction_status == TransactionStatus.INERROR:
            conn.execute("ROLLBACK")
        return timings(conn.execute(readback(migrations)).fetchall(), migrations)
    while cursor.nextset():  # the files' own output comes first; the read-back is the last result
        pass
    return timings(cursor.fetchall(), migrations)


def batch_script(conn: psycopg.Connection, migrations: Sequence[Migration]) -> str:
    """The files, each in `BEGIN ... COMMIT` with its ledger row, then the read-back of their rows; the
    bookkeeping statements are prepared at the top.

    The parts every file shares are rendered once: rendering them per file cost more than the
    files' own values.
    """
    prepare, head, record, tail = (part.as_string(conn) for part in (BATCH_PREPARE, BATCH_HEAD, BATCH_RECORD,
                                                                       BATCH_TAIL))
    arguments = [sql.SQL(", ").join(row_values(m)).as_string(conn) for m in migrations]
    rows = [f"{head}{m.sql}{record}({values}){tail}" for m, values in zip(migrations, arguments)]
    return prepare + "".join(rows) + readback(migrations).as_string(conn)


def readback(migrations: Sequence[Migration]) -> sql.Composed:
    """The ledger rows that a batch of `migrations` may have written."""
    return sql.SQL("SELECT version, name, checksum, execution_ms FROM {} WHERE version = ANY({})").format(
        qualified(), sql.Literal(sorted({str(m.version) for m in migrations})))


def timings(rows: Iterable[tuple[str, str, str, int]], migrations: Sequence[Migration]) -> list[Timing]:
    """The timings of the leading `migrations` found in the ledger `rows` with their checksum (a repeatable
    file's row may be its earlier run's), from their execution_ms."""
    ms = {(version, name, checksum): elapsed for version, name, checksum, elapsed in rows}
    found = []
    for migration in migrations:
        if (*ledger.key(migration), migration.checksum) not in ms:
            break
        found.append(Timing(migration.version, migration.name, shown(migration.path), ms[(*ledger.key(migration), migration.checksum)]))
    return found


def failure(conn: psycopg.Connection, migration: Migration, display: str, error: psycopg.Error,
            ran: bool = False) -> MigrationError:
    """The error naming where the file failed: at its line, or after it (`ran`, or placed by the server after
    its text) in the ledger's bookkeeping."""
    if ran or past_the_file(migration, error):
        return MigrationError(describe_failure(display, error, unrecorded(error)), error.sqlstate)
    line = failing_line(conn, migration, error)
    return MigrationError(describe_failure(f"{display}:{line}" if line else display, error), error.sqlstate)


def past_the_file(migration: Migration, error: psycopg.Error) -> bool:
    """Whether the server places the error after the file's own text, in the ledger row sent with it."""
    position = error.diag.statement_position
    return bool(position) and int(position) > len(migration.sql)


# The ledger's table or schema gone: the file dropped them (committed by the file itself, or in its transaction).
LEDGER_GONE = {"42P01", "3F000"}


def unrecorded(error: psycopg.Error) -> str:
    """Why a file's ledger row could not be written after the file ran."""
    if error.sqlstate in LEDGER_GONE:
        return (f"the file ran but dropped pgparity's ledger ({SCHEMA}.{TABLE}), which then could not record "
                f"it; a file must leave the {SCHEMA} schema alone")
    return "the file ran but the ledger could not record it"


def failing_line(conn: psycopg.Connection, migration: Migration, error: psycopg.Error) -> int | None:
    """The line of the statement that failed.

    The server gives a position only for some errors; otherwise the file's statements are run one by one
    in a transaction that is rolled back, each under a savepoint, to find the first that fails as the file
    did. A statement failing otherwise (its object was committed by the file before it failed) is passed,
    and the file's own transaction control is left out. Only for diagnosis: the replay itself always sends
    the file whole.
    """
    if line := line_of(migration.sql, error):
        return line
    if migration.no_transaction or conn.broken:
        return None
    if conn.info.transaction_status == TransactionStatus.INERROR:  # the file opened a transaction itself
        conn.execute("ROLLBACK")
    conn.autocommit = False
    try:
        for statement in statements(migration.sql):
            if statement.first in TRANSACTION_CONTROL:
                continue
            conn.execute("SAVEPOINT pgparity_diagnosis")
            try:
                conn.execute(statement.text)
            except psycopg.Error as found:
                if (found.sqlstate, found.diag.message_primary) == (error.sqlstate, error.diag.message_primary):
                    return statement.line
                conn.execute("ROLLBACK TO SAVEPOINT pgparity_diagnosis")
        return None
    finally:
        conn.rollback()
        conn.autocommit = True


def line_of(text: str, error: psycopg.Error) -> int | None:
    """The line of `text` where the server places the error, when it gives a position."""
    position = error.diag.statement_position
    return text[: int(position) - 1].count("\n") + 1 if position else None


def describe_failure(where: str, error: psycopg.Error, cause: str = "") -> str:
    """`file:line: [cause: ]message | detail | hint | context` on one line."""
    diag = error.diag
    parts = [f"{where}: {cause + ': ' if cause else ''}{diag.message_primary or str(error).strip()}"]
    if diag.message_detail:
        parts.append(f"detail: {diag.message_detail}")
    if diag.message_hint:
        parts.append(f"hint: {diag.message_hint}")
    if diag.context:
        parts.append(f"context: {diag.context.splitlines()[0]}")
    return " | ".join(" ".join(part.split()) for part in parts)


def run_file(conn: psycopg.Connection, path: Path, text: str, then: sql.Composable | None = None) -> None:
    """Run a file that is not a migration (a rollback, a seed) whole, as one implicit transaction with `then`
    (its bookkeeping) written after it as the session's user; a failure names the file and line as
    `apply`'s do. `conn` is in autocommit mode."""
    after = then.as_string(conn) if then is not None else ""
    try:
        conn.execute(f"{text}\n;\n{AS_SESSION_USER}{after};\nRESET ALL")
    except psycopg.Error as error:
        raise failure(conn, Migration(NONE, path.stem, path, Content.of(text, path), "", False, None), shown(path),
                      error) from None
