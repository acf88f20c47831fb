"""pg_dump's post-data section run in parallel: keys and indexes, then foreign keys, then the rest.

Building a restored database's indexes and checking its foreign keys takes longer than loading its rows,
and each step is one server process's work, so steps run on several connections at once, as pg_restore
--jobs does. pg_dump heads every object with a `-- Name: …; Type: …;` comment; the steps are cut there.
Two steps touching the same table never run at once (they would only wait for each other's locks, or
deadlock), and a step whose tables cannot be read runs alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

import psycopg
from psycopg import sql

from .database import connect

_HEADER = re.compile(r"^--\n-- Name: (?P<name>[^\n]*?); Type: (?P<type>[A-Z ]+); Schema: [^\n]*\n--\n", re.MULTILINE)
_NAME = r'(?:"(?:[^"]|"")+"|[^\s."(),;]+)'
_QUALIFIED = rf"{_NAME}\.{_NAME}"
_TABLES = re.compile(rf"(?:ALTER TABLE (?:ONLY )?|\bON (?:ONLY )?|REFERENCES )({_QUALIFIED})")
# pg_dump writes keys and indexes first and foreign keys after them; everything else depends on either.
WAVES = (frozenset({"CONSTRAINT", "INDEX"}), frozenset({"FK CONSTRAINT"}))


@dataclass(frozen=True)
class Step:
    """One statement of the section, as pg_dump headed it, and the tables it locks (None: unknown)."""

    name: str
    type: str
    statement: str | sql.Composable
    tables: frozenset[str] | None


def steps(script: str) -> tuple[str, list[Step]]:
    """The script's preamble (session settings every connection runs first) and its steps, in order."""
    headers = list(_HEADER.finditer(script))
    preamble = script[: headers[0].start()] if headers else script
    found = []
    for header, following in zip(headers, [*headers[1:], None]):
        statement = script[header.end(): following.start() if following else len(script)]
        tables = frozenset(_TABLES.findall(statement)) or None
        found.append(Step(header["name"], header["type"], statement, tables))
    return preamble, found


def waves(found: Sequence[Step]) -> list[list[Step]]:
    """Keys and indexes, then foreign keys, both in parallel; then every other step, one at a time, in order."""
    parallel = [[step for step in found if step.type in types] for types in WAVES]
    rest = [step for step in found if not any(step.type in types for types in WAVES)]
    return [*parallel, *([step] for step in rest)]


class Runner:
    """Runs steps on up to `jobs` connections, never two on one table at once."""

    def __init__(self, url: str, preamble: str, jobs: int, fail: Callable[[Step, psycopg.Error], Exception]):
        self.url, self.preamble, self.fail = url, preamble, fail
        self.local = threading.local()
        self.connections: list[psycopg.Connection] = []
        self.pool = ThreadPoolExecutor(max_workers=jobs)

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(cancel_futures=True)
        for conn in self.connections:
            conn.close()

    def _connection(self) -> psycopg.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = connect(self.url, autocommit=True)
            self.connections.append(conn)
            conn.execute(self.preamble)
        return conn

    def _run(self, step: Step) -> None:
        try:
            self._connection().execute(step.statement)
        except psycopg.Error as error:
            raise self.fail(step, error) from None

    def run(self, wave: Sequence[Step]) -> None:
        """Every step of the wave, each as soon as no running step shares a table with it."""
        waiting, running = list(wave), {}
        while waiting or running:
            busy = [step.tables for step in running.values()]
            for step in list(waiting):
                if not conflicts(step.tables, busy):
                    waiting.remove(step)
                    running[self.pool.submit(self._run, step)] = step
                    busy.append(step.tables)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                del running[future]
                future.result()


def conflicts(tables: frozenset[str] | None, busy: list[frozenset[str] | None]) -> bool:
    return bool(busy) and (tables is None or any(other is None or tables & other for other in busy))


def run(url: str, script: str, jobs: int, fail: Callable[[Step, psycopg.Error], Exception],
        extra: Sequence[Step] = ()) -> None:
    """The section's steps, wave by wave, then `extra` steps (ANALYZE of each table) in parallel."""
    preamble, found = steps(script)
    with Runner(url, preamble, jobs, fail) as runner:
        for wave in [*waves(found), list(extra)]:
            runner.run(wave)
