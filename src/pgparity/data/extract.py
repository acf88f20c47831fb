"""Production's rows read by worker processes: one part of a table per task, masked and compressed to a file.

subset.py plans the parts, archive.py assembles them. Masking is CPU work in Python, so parts run in
separate processes, each with one read-only session that imports the dump's exported snapshot: every
part sees the same production as the schema and every other part.

Unique columns stay unique across parts without the workers talking to each other: every part spells
ids optimistically and reports the digests its unique columns held; resolve() then says which values are
contested, and only the parts that wrote one are masked again with the moves. An email's first id has
64 bits, so a million emails collide about once in 37 million dumps and that second pass almost never
runs; 8-digit phone ids do collide in large unique columns. Parts whose non-unique columns share an
identity transformer with a unique column wait for the moves instead.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path

import psycopg
import zstandard
from psycopg import sql

from pgparity.data.sanitize import ID_FORMATS, Column, Masker, Moves, Rules, records, resolve
from pgparity.data.transformers import IdFormat
from pgparity.database import connect_read_only
from pgparity.errors import DumpError
from pgparity.migrations.apply import describe_failure
from pgparity.processes import die_with

IDLE_SECONDS = 3600  # production ends a session idle this long in its snapshot: a worker waiting for a long part
PROGRESS_SECONDS = 0.25
ZSTD_LEVEL = 1  # compression runs beside the masking in every worker; level 1 keeps it a small share
DIGEST_BYTES = 32


@dataclass(frozen=True)
class Part:
    """Rows of one table that one task reads: the COPY statement selecting them and their archive member."""

    table: str
    member: str
    statement: str
    columns: tuple[Column, ...]
    recorded: frozenset[str] = frozenset()  # identity transformers whose digests this part must report
    spelled: frozenset[str] = frozenset()  # identity transformers of its other masked columns


@dataclass(frozen=True)
class PartResult:
    member: str
    rows: int
    started: float  # time.monotonic() in the worker: one clock for every process of the machine
    finished: float
    seen: Mapping[str, bytes] = field(default_factory=dict)  # kind -> concatenated digests of unique values

    def digests(self, kind: str) -> Iterator[bytes]:
        data = self.seen.get(kind, b"")
        return (data[start:start + DIGEST_BYTES] for start in range(0, len(data), DIGEST_BYTES))


def plan_part(table: str, member: str, statement: str, columns: Sequence[Column], rules: Rules,
              formats: Mapping[str, IdFormat] = ID_FORMATS) -> Part:
    """A part, with the identity transformers its columns record or only spell."""
    transforms = [(column, rules.transform(column.name)) for column in columns]
    identities = [(column, transform) for column, transform in transforms
                  if transform is not None and transform.kind in formats]
    recorded = frozenset(t.kind for column, t in identities if records(t, column.unique, formats))
    spelled = frozenset(t.kind for column, t in identities if not records(t, column.unique, formats))
    return Part(table, member, statement, tuple(columns), recorded, spelled)


def begin_snapshot(url: str, snapshot: str | None = None) -> psycopg.Connection:
    """A read-only REPEATABLE READ session on production, in the exported `snapshot` when given.

    A COPY of a large table legitimately runs long, so statements have no timeout; the idle timeout
    still ends a stuck dump's snapshot on the server. As in pg_dump, row security off makes a policy
    that would hide rows from this role an error rather than a silently partial table.
    """
    conn = connect_read_only(url, timeout_seconds=IDLE_SECONDS)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    if snapshot:
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    conn.execute("SET statement_timeout = 0")
    conn.execute("SET client_encoding = 'UTF8'")
    conn.execute("SET row_security = off")
    return conn


# --------------------------------------------------------------------------------- worker processes

def part_file(directory: Path, member: str) -> Path:
    """Where a worker writes a member before the archive takes it in."""
    return directory / member.replace("/", "_")


@dataclass
class Worker:
    """What every task of one worker process shares; set once by start_worker."""

    url: str
    snapshot: str
    secret: bytes
    rules: Rules
    formats: Mapping[str, IdFormat]
    directory: Path
    updates: multiprocessing.Queue
    conn: psycopg.Connection | None = None

    def session(self) -> psycopg.Connection:
        """The worker's session in the snapshot, opened by its first task so a failure reaches the parent.

        (An initializer that raises makes the pool start another worker, forever.)
        """
        if self.conn is None:
            self.conn = begin_snapshot(self.url, self.snapshot)
        return self.conn


_worker: Worker | None = None


def start_worker(parent: int, *settings: object) -> None:
    """A worker's start: it ends with the dump that started it (a killed dump leaves no reader of production)."""
    global _worker
    die_with(parent)
    _worker = Worker(*settings)


def extract(part: Part, moves: Moves) -> PartResult:
    """Read one part from production, mask it, and write it zstd-compressed to its file."""
    worker = _worker
    started = reported = time.monotonic()
    masker = Masker(worker.secret, worker.formats, moves)
    rows_masker = masker.table(part.columns, worker.rules)
    rows = 0
    try:
        with open(part_file(worker.directory, part.member), "wb") as file, \
                zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True).stream_writer(file) as out, \
                worker.session().cursor() as cursor, cursor.copy(part.statement) as copy:
            for block in rows_masker.stream(copy):
                out.write(block)
                rows += block.count(b"\n")
                now = time.monotonic()
                if now - reported >= PROGRESS_SECONDS:
                    reported = now
                    worker.updates.put((part.member, rows))
    except psycopg.Error as error:
        raise DumpError(describe_failure(f"reading {part.table} from production", error)) from None
    seen = {kind: b"".join(masker.seen[kind]) for kind in part.recorded}
    return PartResult(part.member, rows, started, time.monotonic(), seen)


# ------------------------------------------------------------------------------------ the parent side

def needs_rerun(part: Part, result: PartResult, moves: Moves) -> bool:
    """Whether a part masked before the moves were known wrote a value they move."""
    return any(kind in moves for kind in part.spelled) or any(
        not moves[kind].keys().isdisjoint(result.digests(kind)) for kind in part.recorded if kind in moves)


def held(kind: str, parts: Sequence[Part], results: Mapping[str, PartResult]) -> Iterator[bytes]:
    """The digests of `kind` the parts recorded. A function of its own, so each kind's are its own: a
    generator written inline in a comprehension over the kinds would read every kind's as the last one's."""
    return chain.from_iterable(results[part.member].digests(kind) for part in parts if kind in part.recorded)


class Extractor:
    """A pool of worker processes in the dump's snapshot, reading parts into files in `directory`."""

    def __init__(self, url: str, snapshot: str, secret: bytes, rules: Rules, directory: Path, jobs: int,
                 formats: Mapping[str, IdFormat] = ID_FORMATS):
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited sessions or threads
        self.updates = context.Queue()
        self.pool = context.Pool(jobs, start_worker,
                                 (os.getpid(), url, snapshot, secret, rules, formats, directory, self.updates))
        self.formats = formats
        self.pending: list[tuple[Part, multiprocessing.pool.AsyncResult]] = []

    def __enter__(self) -> "Extractor":
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.pool.close()
        else:
            self.pool.terminate()  # a failed or interrupted dump does not wait for the other parts
        self.pool.join()

    def submit(self, parts: Sequence[Part], moves: Moves) -> None:
        self.pending += [(part, self.pool.apply_async(extract, (part, moves))) for part in parts]

    def wait(self, on_rows: Callable[[str, int], None]) -> dict[str, PartResult]:
        """Every submitted part's result, reporting rows per member as workers send them."""
        results: dict[str, PartResult] = {}
        while self.pending:
            try:
                on_rows(*self.updates.get(timeout=0.1))
            except queue.Empty:
                pass
            for part, outcome in [item for item in self.pending if item[1].ready()]:
                self.pending.remove((part, outcome))
                results[part.member] = result = outcome.get()  # raises the worker's error
                on_rows(part.member, result.rows)
        return results

    def run(self, parts: Sequence[Part], on_rows: Callable[[str, int], None]) -> dict[str, PartResult]:
        """Every part read, with unique columns unique across parts (see the module's docstring)."""
        recording = set().union(*(part.recorded for part in parts))
        first = [part for part in parts if part.recorded or not part.spelled & recording]
        later = [part for part in parts if part not in first]
        self.submit(first, {})
        results = self.wait(on_rows)
        moves = resolve(self.formats, {kind: held(kind, first, results) for kind in recording})
        self.submit([part for part in first if needs_rerun(part, results[part.member], moves)] + later, moves)
        results = {member: replace(result, seen={}) for member, result in results.items()}  # digests are done
        return {**results, **self.wait(on_rows)}
