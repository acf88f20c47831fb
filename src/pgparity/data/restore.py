"""Restore of a dump into an empty database: schema, then rows in parallel, keys, indexes and grants."""

from __future__ import annotations

import functools
import re
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import zstandard
from psycopg import sql

from pgparity.config import mask_url
from pgparity.data import DEFAULT_JOBS, postdata
from pgparity.data.archive import CHUNK_BYTES, POST_DATA, PRE_DATA, Manifest, TableEntry, read_script, verify_archive
from pgparity.data.extract import PartResult
from pgparity.data.progress import Progress, Quiet, TableReport, Tables
from pgparity.database import connect, database_of
from pgparity.errors import DumpError, counted
from pgparity.migrations.apply import describe_failure
from pgparity.schema import introspect
from pgparity.schema.model import Ledger
from pgparity.versions import major, release


@dataclass(frozen=True)
class RestoreReport:
    database: str
    tables: tuple[TableReport, ...]
    ledger: Ledger | None
    seconds: float
    notes: tuple[str, ...] = ()  # what could not be restored as it was, such as a grant to a missing role


def _run(conn: psycopg.Connection, path: Path, member: str, script: str) -> None:
    try:
        conn.execute(script)
    except psycopg.Error as error:
        raise DumpError(describe_failure(f"{path.name}: {member}", error)) from None


def _load_table(path: Path, url: str, entry: TableEntry,
                on_rows: Callable[[str, int], None]) -> list[PartResult]:
    """COPY a table's parts in order, in one transaction on its own connection, so tables load in parallel.

    In order, the rows keep production's physical order (a primary key's sort finds them sorted); in the
    transaction that empties the table, COPY FREEZE writes them frozen, so building indexes, checking
    foreign keys and ANALYZE never rewrite a page to set hint bits.
    """
    table = sql.Identifier(entry.schema, entry.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        table, sql.SQL(", ").join(map(sql.Identifier, entry.columns)))
    results = []
    try:
        with zipfile.ZipFile(path) as archive, \
                connect(url, options="-c client_encoding=UTF8") as conn, conn.cursor() as cursor:
            cursor.execute(sql.SQL("TRUNCATE ONLY {}").format(table))
            for member in entry.members:
                started, loaded = time.monotonic(), 0
                with archive.open(member.name) as stored, zstandard.ZstdDecompressor().stream_reader(stored) as source, \
                        cursor.copy(statement) as copy:
                    while chunk := source.read(CHUNK_BYTES):
                        copy.write(chunk)
                        loaded += chunk.count(b"\n")
                        on_rows(member.name, loaded)
                if cursor.rowcount != member.rows:
                    raise DumpError(f"{path}: {member.name} of {entry.table} loaded {counted(cursor.rowcount, 'row')}, "
                                    f"the manifest says {member.rows}")
                results.append(PartResult(member.name, member.rows, started, time.monotonic()))
    except psycopg.Error as error:
        raise DumpError(describe_failure(f"{path.name}: loading {entry.table}", error)) from None
    except (zipfile.BadZipFile, zstandard.ZstdError) as error:
        raise DumpError(f"{path}: a part of {entry.table} is corrupt ({error})") from None
    return results


def _rebuild(path: Path, url: str, manifest: Manifest, jobs: int, progress: Progress) -> tuple[TableReport, ...]:
    """Rows, keys, indexes, foreign keys, the rest of post-data and statistics, in parallel (postdata.py)."""
    entries = [entry for entry in manifest.tables if entry.members]
    meters = Tables([(entry.table, [member.name for member in entry.members]) for entry in entries], progress)
    lock = threading.Lock()
    loaded: dict[str, list[PartResult]] = {}

    def count(member: str, rows: int) -> None:
        with lock:
            meters.count(member, rows)

    def load(entry: TableEntry) -> None:
        loaded[entry.table] = _load_table(path, url, entry, count)

    def run_step(step: postdata.Step) -> None:
        try:
            sessions.execute(step.statement)
        except psycopg.Error as error:
            where = f"{path.name}: {POST_DATA}: {step.type.lower()} {step.name}"
            raise DumpError(describe_failure(where, error)) from None

    def table(entry: TableEntry) -> frozenset[postdata.Table]:
        return frozenset({(entry.schema, entry.name)})

    preamble, found = postdata.steps(read_script(path, POST_DATA))
    sessions = postdata.Sessions(url, preamble)
    loads = [postdata.Job(f"load {entry.table}", table(entry), functools.partial(load, entry))
             for entry in sorted(entries, key=lambda entry: entry.rows, reverse=True)]
    analyze = [postdata.Job(f"analyze {entry.table}", table(entry), functools.partial(run_step, postdata.Step(
        entry.table, "ANALYZE", sql.SQL("ANALYZE {}").format(sql.Identifier(entry.schema, entry.name)), table(entry))))
        for entry in manifest.tables]
    try:
        postdata.run(postdata.plan(loads, found, run_step, analyze), jobs)
    finally:
        sessions.close()
    for entry in entries:
        meters.report(entry, loaded[entry.table])
    return tuple(meters.reports)


def restore(path: Path, target_url: str, jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
            manifest: Manifest | None = None) -> RestoreReport:
    """Restore a dump into the empty database at `target_url`: schema, rows (in parallel), keys and indexes.

    The archive is verified whole first, unless the caller did (`manifest`). Callers restore into a scratch
    database and swap it in only when this returns, so a failure never touches the dev database; they then
    apply the migrations production had not applied when it was dumped.
    """
    started = time.monotonic()
    manifest = manifest or verify_archive(path)
    with connect(target_url, autocommit=True) as conn:
        same_major(path, manifest, conn.info.server_version)
        if introspect.relation_count(conn):
            raise DumpError(f"{mask_url(target_url)} is not empty; restore into a new database")
        preamble, entries = postdata.steps(read_script(path, PRE_DATA))
        grants = [entry for entry in entries if entry.type in PRIVILEGES]
        _run(conn, path, PRE_DATA, preamble + "".join(entry.statement for entry in entries if entry not in grants))
        for sequence in manifest.sequences:
            name = sql.Identifier(sequence.schema, sequence.name).as_string(conn)
            conn.execute("SELECT pg_catalog.setval(%s::regclass, %s, true)", (name, sequence.last_value))
    reports = _rebuild(path, target_url, manifest, jobs, progress or Quiet())
    with connect(target_url, autocommit=True) as conn:
        notes = _grant(conn, path, grants)
    return RestoreReport(database_of(target_url), reports, manifest.ledger, time.monotonic() - started, notes)


def same_major(path: Path, manifest: Manifest, server_version_num: int) -> None:
    """A dump is restored on its own major: pg_dump writes the SQL of the server it read, which another major
    may reject or read differently."""
    dumped = int(re.match(r"\d+", manifest.server_version).group())
    if dumped != major(server_version_num):
        raise DumpError(f"{path.name} is a dump of PostgreSQL {manifest.server_version.split(' ')[0]} but the dev "
                        f"server runs {release(server_version_num)}; restore it on PostgreSQL {dumped}: set "
                        f"PGPARITY_IMAGE to an image of {dumped} (such as postgres:{dumped}), or unset it when the "
                        "production profile is of that major")


PRIVILEGES = frozenset({"ACL", "DEFAULT ACL"})


def _grant(conn: psycopg.Connection, path: Path, grants: Sequence[postdata.Step]) -> tuple[str, ...]:
    """Production's privileges, last; one naming a role this server lacks is left out and said so (db.up
    creates the roles the production profile lists)."""
    notes = []
    for grant in grants:
        try:
            conn.execute(grant.statement)
        except psycopg.errors.UndefinedObject as error:
            notes.append(f"privileges on {grant.name} not restored: {error.diag.message_primary}")
        except psycopg.Error as error:
            raise DumpError(describe_failure(f"{path.name}: {PRE_DATA}: privileges on {grant.name}", error)) from None
    return tuple(notes)
