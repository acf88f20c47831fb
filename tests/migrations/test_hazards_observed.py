"""The hazard analyser's table of DDL patterns (hazard_cases.py), checked against a real server, so the
analyser rests on what PostgreSQL does rather than on what its documentation or our memory says.

For each case the statement runs after its setup in a fresh database and three things are observed on the
case's table: the strongest lock the statement's session holds or waits for (pg_locks), whether its
relfilenode changes (a rewrite), and whether it is read in full without a rewrite (a scan: the table's
sequential-scan counter goes up; validation scans of ALTER TABLE count there as well). Statements that cannot
run in a transaction block are observed while they wait behind a lock another session holds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
import pytest
from hazard_cases import CASES, Case
from psycopg import sql

from pgparity.schema.introspect import inspect

# pg_locks' names and the docs' names, weakest first: the order in which a mode is "stronger" here.
MODES = {
    "AccessShareLock": "ACCESS SHARE", "RowShareLock": "ROW SHARE", "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE", "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE", "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
ORDER = list(MODES.values())
# Statements PostgreSQL refuses inside a transaction block.
NO_TRANSACTION = re.compile(r"\bCONCURRENTLY\b|^\s*VACUUM\b", re.IGNORECASE)
# Held on the table by a third session: every such statement here conflicts with it, or waits for its
# transaction to end (CREATE/DROP INDEX and REINDEX CONCURRENTLY wait for writers or for every locker).
HOLD = "LOCK TABLE {} IN ROW EXCLUSIVE MODE"
LOCKS = "SELECT mode FROM pg_locks WHERE pid = %s AND relation = %s::oid"
WAIT_SECONDS = 30
STATS_INTERVAL = 1.0  # before 15, a reader accepts a statistics file up to 500 ms old
SHARED_STATS = 150000  # from 15 the counters live in shared memory and a flush can be forced

CODES = frozenset({"rewrite", "scan", "lock", "index", "data-loss", "rename", "enum"})
PARAMS = [pytest.param(case, id=case.name) for case in CASES]


@dataclass(frozen=True)
class Observed:
    lock: str | None
    rewrite: bool
    scan: bool


def strongest(modes: Iterable[str | None]) -> str | None:
    known = [mode for mode in modes if mode is not None]
    return max(known, key=ORDER.index) if known else None


def applicable(case: Case, major: int) -> None:
    if major < case.min_major:
        pytest.skip(f"{case.name} exists from PostgreSQL {case.min_major}")


def one(conn: psycopg.Connection, query: str, *params: object) -> object:
    return conn.execute(query, params).fetchone()[0]


def relation_oid(conn: psycopg.Connection, table: str) -> int:
    """The oid, read before the statement: a renamed or dropped table is found by it alone."""
    return one(conn, "SELECT %s::regclass::oid", table)


def filenode(conn: psycopg.Connection, oid: int) -> int | None:
    return one(conn, "SELECT pg_relation_filenode(%s::oid)", oid)


def modes(conn: psycopg.Connection, pid: int, oid: int) -> str | None:
    return strongest(MODES[mode] for (mode,) in conn.execute(LOCKS, (pid, oid)))


def observed(lock: str | None, nodes: tuple[int | None, int | None], scans: tuple[int, int]) -> Observed:
    rewrite = nodes[1] is not None and nodes[1] != nodes[0]  # a dropped table has no file left, nor was rewritten
    return Observed(lock, rewrite, scans[1] > scans[0] and not rewrite)


def in_a_transaction(url: str, case: Case) -> Observed:
    """BEGIN; statement; read the session's locks and the transaction's own counters; roll back.
    The setup runs in the same session, so a SET in it (TimeZone) applies to the statement."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(case.setup)
        oid = relation_oid(conn, case.table)
        scans = "SELECT pg_stat_get_xact_numscans(%s::oid)"
        with conn.transaction(force_rollback=True):
            node, scanned = filenode(conn, oid), one(conn, scans, oid)
            conn.execute(case.statement)
            lock = modes(conn, conn.info.backend_pid, oid)
            return observed(lock, (node, filenode(conn, oid)), (scanned, one(conn, scans, oid)))


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def gone(observer: psycopg.Connection, pid: int) -> bool:
    return observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is None


def closed_with_counts_published(conn: psycopg.Connection, observer: psycopg.Connection) -> None:
    """Closes `conn` once what it counted is visible to `observer`'s next transaction."""
    if conn.info.server_version >= SHARED_STATS:
        conn.execute("SELECT pg_stat_force_next_flush()")  # flushed as the session goes idle, before it answers
        conn.close()
        return
    pid = conn.info.backend_pid
    conn.close()  # an ending session sends its counts to the collector
    wait_for(lambda: gone(observer, pid), f"session {pid} to end")
    time.sleep(STATS_INTERVAL)


def waiting(observer: psycopg.Connection, pid: int, running: Future) -> bool:
    assert not running.done(), f"the statement ended without waiting: {running.exception()}"
    return one(observer, "SELECT wait_event_type IS NOT DISTINCT FROM 'Lock' FROM pg_stat_activity"
                         " WHERE pid = %s", pid)


def outside_a_transaction(url: str, case: Case) -> Observed:
    """The statement runs in its own session while a third holds ROW EXCLUSIVE on the table; once it waits,
    its locks, granted or awaited, are read, and the holder lets go. A scan shows in the table's cumulative
    counter, read before the setup's counts and after the statement's are published."""
    # The pool is left last: a failed wait closes the holder first, so the statement can end.
    with (ThreadPoolExecutor(1) as pool, psycopg.connect(url, autocommit=True) as observer,
          psycopg.connect(url, autocommit=True) as holder):
        setup = psycopg.connect(url, autocommit=True)
        setup.execute(case.setup)
        closed_with_counts_published(setup, observer)
        oid = relation_oid(observer, case.table)
        scans = "SELECT pg_stat_get_numscans(%s::oid)"
        node, scanned = filenode(observer, oid), one(observer, scans, oid)
        holder.execute("BEGIN")
        holder.execute(sql.SQL(HOLD).format(sql.SQL(case.table)))
        conn = psycopg.connect(url, autocommit=True)
        pid = conn.info.backend_pid
        running = pool.submit(conn.execute, case.statement)
        wait_for(lambda: waiting(observer, pid, running), "the statement to wait for a lock")
        lock = modes(observer, pid, oid)
        holder.execute("ROLLBACK")
        running.result(timeout=WAIT_SECONDS)
        closed_with_counts_published(conn, observer)
        return observed(lock, (node, filenode(observer, oid)), (scanned, one(observer, scans, oid)))


@pytest.mark.parametrize("case", PARAMS)
def test_the_server_does_what_the_case_says(case: Case, fresh_db: str, image_major: int) -> None:
    applicable(case, image_major)
    observe = outside_a_transaction if NO_TRANSACTION.search(case.statement) else in_a_transaction
    assert observe(fresh_db, case) == Observed(case.lock, case.rewrite, case.scan), case.note


@pytest.mark.parametrize("case", PARAMS)
def test_analyser_agrees(case: Case, fresh_db: str, image_major: int) -> None:
    hazards = pytest.importorskip("pgparity.migrations.hazards")
    if not hasattr(hazards, "analyse"):
        pytest.skip("pgparity.migrations.hazards has no analyse yet")
    applicable(case, image_major)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(case.setup)
    with psycopg.connect(fresh_db) as conn:
        snapshot = inspect(conn)
    found = hazards.analyse(case.statement, hazards.Context(catalog=snapshot))
    # Only the codes the table speaks to: the analyser may report others (a missing lock_timeout, say).
    assert {hazard.code for hazard in found} - {"timeout"} == case.codes, case.note
    if case.lock is not None and found:
        assert strongest(hazard.lock for hazard in found) == case.lock, case.note
