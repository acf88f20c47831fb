"""A restore's work in parallel: tables' rows, then pg_dump's post-data section, then statistics.

Building a restored database's indexes and checking its foreign keys takes as long as loading its rows,
and each is one server process's work, so they run on several connections at once, as pg_restore --jobs
does: a table's keys and indexes are built as soon as its rows are in, while larger tables still load;
a foreign key is checked once both its tables have their keys; everything else in the section follows,
one step at a time, in pg_dump's order. pg_dump heads every object with a `-- Name: …; Type: …;`
comment; the steps are cut there. Two jobs touching the same table never run at once (they would only
wait for each other's locks, or deadlock), and a step whose tables cannot be read runs alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

import psycopg
from psycopg import sql

from pgparity.database import connect
from pgparity.identifiers import PART, unquote

Table = tuple[str, str]  # schema, name

_HEADER = re.compile(r"^--\n-- Name: (?P<name>[^\n]*?); Type: (?P<type>[A-Z ]+); Schema: [^\n]*\n--\n", re.MULTILINE)
_TABLES = re.compile(rf"(?:ALTER TABLE (?:ONLY )?|\bON (?:ONLY )?|REFERENCES )({PART})\.({PART})")
KEYS = frozenset({"CONSTRAINT", "INDEX"})  # pg_dump writes keys and indexes first,
FOREIGN_KEYS = frozenset({"FK CONSTRAINT"})  # foreign keys after them; the rest depends on either


@dataclass(frozen=True)
class Step:
    """One statement of the section, as pg_dump headed it, and the tables it locks (None: unknown)."""

    name: str
    type: str
    statement: str | sql.Composable
    tables: frozenset[Table] | None


def steps(script: str) -> tuple[str, list[Step]]:
    """The script's preamble (session settings every connection runs first) and its steps, in order."""
    headers = list(_HEADER.finditer(script))
    preamble = script[: headers[0].start()] if headers else script
    found = []
    for header, following in zip(headers, [*headers[1:], None]):
        statement = script[header.end(): following.start() if following else len(script)]
        tables = frozenset((unquote(schema), unquote(name)) for schema, name in _TABLES.findall(statement))
        found.append(Step(header["name"], header["type"], statement, tables or None))
    return preamble, found


# ------------------------------------------------------------------------------------------- jobs

@dataclass(frozen=True)
class Job:
    """Work for one connection: what it locks, and the jobs (by position) that must be done before it."""

    name: str
    tables: frozenset[Table] | None
    action: Callable[[], object]
    needs: frozenset[int] = frozenset()


def conflicts(tables: frozenset[Table] | None, busy: Sequence[frozenset[Table] | None]) -> bool:
    return bool(busy) and (tables is None or any(other is None or tables & other for other in busy))


def _touching(jobs: Sequence[Job], tables: frozenset[Table] | None, positions: Sequence[int]) -> frozenset[int]:
    """Those of `positions` whose job shares a table with `tables` (all of them when either is unknown)."""
    return frozenset(i for i in positions if tables is None or jobs[i].tables is None or tables & jobs[i].tables)


def plan(loads: Sequence[Job], found: Sequence[Step], run_step: Callable[[Step], None],
         analyze: Sequence[Job]) -> list[Job]:
    """Every job in priority order, each needing what must come before it (see the module's docstring).

    `loads` and `analyze` each touch one table; `run_step` runs a post-data step.
    """
    jobs = list(loads)

    def add(step: Step, needs: frozenset[int]) -> int:
        jobs.append(Job(f"{step.type.lower()} {step.name}", step.tables, lambda: run_step(step), needs))
        return len(jobs) - 1

    loaded = range(len(jobs))
    keys = [add(step, _touching(jobs, step.tables, loaded)) for step in found if step.type in KEYS]
    for step in (step for step in found if step.type in FOREIGN_KEYS):
        add(step, _touching(jobs, step.tables, loaded) | _touching(jobs, step.tables, keys))
    structure = range(len(jobs))
    for step in (step for step in found if step.type not in KEYS | FOREIGN_KEYS):
        add(step, frozenset(range(len(jobs))))  # after everything before it: one at a time, in order
    jobs += [Job(job.name, job.tables, job.action, _touching(jobs, job.tables, structure)) for job in analyze]
    return jobs


class Sessions:
    """One autocommit connection per worker thread, each having run the section's preamble."""

    def __init__(self, url: str, preamble: str):
        self.url, self.preamble = url, preamble
        self.local = threading.local()
        self.opened: list[psycopg.Connection] = []

    def execute(self, statement: str | sql.Composable) -> None:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = connect(self.url, autocommit=True)
            self.opened.append(conn)
            conn.execute(self.preamble)
        conn.execute(statement)

    def close(self) -> None:
        for conn in self.opened:
            conn.close()


def run(jobs: Sequence[Job], workers: int) -> None:
    """Every job on up to `workers` threads, each as soon as what it needs is done and no running job
    shares a table with it, earlier jobs first. The first failure stops new jobs and is raised."""
    waiting, running, done = list(range(len(jobs))), {}, set()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            while waiting or running:
                busy = [jobs[i].tables for i in running.values()]
                for i in list(waiting):
                    if jobs[i].needs <= done and not conflicts(jobs[i].tables, busy):
                        waiting.remove(i)
                        running[pool.submit(jobs[i].action)] = i
                        busy.append(jobs[i].tables)
                if not running:
                    raise RuntimeError(f"restore jobs wait on each other: {[jobs[i].name for i in waiting]}")
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    done.add(running.pop(future))
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
