"""db.migrate killed at scripted points: the next command finds what the dead one left and settles it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import psycopg
from commands import ok, write
from conftest import ROOT

from pgparity.migrations.recovery import APPLIER

TABLE = {"001_t.sql": "create table t (id int);"}
CONCURRENT = {"002_ix.sql": "-- pgparity: no-transaction\ncreate index concurrently ix_t on t (id);"}
SLOW_BATCH = {f"{n:03}_slow.sql": f"select pg_sleep(0.25);\ncreate table s{n} (id int);" for n in range(10, 30)}


def start(project, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pgparity", *args], cwd=project.root, env=project.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def until(condition: Callable[[], object], seconds: float = 60) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not reached in {seconds}s: {condition}")


def query(project, statement: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(project.url(), autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


def appliers(project, waiting: bool | None = None) -> list[tuple]:
    """The applying sessions on app: (pid, application_name, wait_event_type)."""
    rows = query(project, "select pid, application_name, wait_event_type from pg_stat_activity "
                          "where datname = 'app' and starts_with(application_name, %s)", (APPLIER + " ",))
    return [row for row in rows if waiting is None or (row[2] in ("Lock", "Timeout")) == waiting]


def ledger(project) -> list[tuple]:
    return query(project, "select version::bigint, state from pgparity.schema_migrations order by 1")


def index_state(project) -> list[tuple]:
    return query(project, "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid "
                          "where c.relname = 'ix_t'")


def killed_in_concurrent_build(project) -> tuple[psycopg.Connection, subprocess.Popen]:
    """db.migrate killed -9 while its CREATE INDEX CONCURRENTLY waits for an open snapshot (held by the
    returned connection), so the index exists INVALID and the ledger row says STARTED."""
    write(project, TABLE)
    ok(project, "db.sync")
    write(project, CONCURRENT)
    blocker = psycopg.connect(project.url())
    blocker.execute("set transaction isolation level repeatable read")
    blocker.execute("select 1")
    migrate = start(project, "db.migrate")
    until(lambda: appliers(project, waiting=True))
    migrate.kill()
    migrate.wait()
    assert ledger(project) == [(1, "applied"), (2, "started")]
    assert index_state(project) == [(False,)]
    return blocker, migrate


def test_a_build_finished_by_the_server_after_the_kill_is_recorded(project):
    blocker, _ = killed_in_concurrent_build(project)
    blocker.rollback()  # the dead client's build goes on in the server and completes
    until(lambda: index_state(project) == [(True,)])
    result = project.run("db.migrate")
    assert result.returncode == 0, result.stderr
    assert "002_ix.sql: the previous command was killed after the file's work was done" in result.stderr
    assert ledger(project) == [(1, "applied"), (2, "applied")]
    assert "0 migrations applied" in ok(project, "db.migrate")
    blocker.close()


def test_verify_points_a_killed_no_transaction_file_to_migrate(project):
    blocker, _ = killed_in_concurrent_build(project)
    result = project.run("db.verify")
    assert ("migrations/002_ix.sql: a command that was killed started this no-transaction file and never "
            "recorded its end; `invoke db.migrate` settles it") in result.stderr, result.stderr
    blocker.close()


def test_an_invalid_index_of_a_killed_build_is_dropped_and_built_again(project):
    blocker, dead = killed_in_concurrent_build(project)
    again = start(project, "db.migrate")
    # The new command ends the dead one's session, drops the INVALID index and builds it again, which
    # waits for the open snapshot like the first build did: then the snapshot goes.
    until(lambda: [row for row in appliers(project, waiting=True) if f" {dead.pid}@" not in row[1]])
    blocker.rollback()
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert f"died (process {dead.pid}@" in err
    assert "002_ix.sql was interrupted while building index ix_t, which the server left INVALID" in err
    assert ledger(project) == [(1, "applied"), (2, "applied")] and index_state(project) == [(True,)]
    blocker.close()


def test_a_batch_the_server_runs_on_for_a_dead_client_is_stopped_before_the_retry(project):
    write(project, TABLE)
    ok(project, "db.sync")
    write(project, {**SLOW_BATCH, "015_slow.sql": "select count(*) from t;\ncreate table s15 (id int);"})
    blocker = psycopg.connect(project.url())
    blocker.execute("lock table t in access exclusive mode")  # the batch waits at 015 until the test lets it go
    migrate = start(project, "db.migrate")
    until(lambda: [row for row in appliers(project) if row[2] == "Lock"])  # at 015, after 010-014
    migrate.kill()
    migrate.wait()
    assert [row for row in appliers(project) if f" {migrate.pid}@" in row[1]]  # the server keeps its session
    retry = start(project, "db.migrate")
    until(lambda: not [row for row in appliers(project) if f" {migrate.pid}@" in row[1]])
    blocker.rollback()
    out, err = retry.communicate(timeout=120)
    assert retry.returncode == 0, err
    assert f"died (process {migrate.pid}@" in err, (out, err)
    rows = ledger(project)
    assert len(rows) == 21 and {state for _, state in rows} == {"applied"}
    assert len(query(project, "select 1 from pg_tables where schemaname = 'public' and starts_with(tablename, 's')")) == 20
    blocker.close()


def test_sigterm_cancels_the_running_batch_and_says_so_in_one_line(project):
    write(project, TABLE)
    ok(project, "db.sync")
    write(project, SLOW_BATCH)
    migrate = start(project, "db.migrate")
    until(lambda: len(ledger(project)) >= 3)
    migrate.send_signal(signal.SIGTERM)
    out, err = migrate.communicate(timeout=30)
    assert migrate.returncode == 128 + signal.SIGTERM
    assert err.strip().splitlines()[-1] == "pgparity: terminated (SIGTERM); the running statement was cancelled"
    assert appliers(project) == []  # nothing left running in the server
    stopped = len(ledger(project))
    time.sleep(1)
    assert len(ledger(project)) == stopped < 21
    assert "migrations applied" in ok(project, "db.migrate")
    assert len(ledger(project)) == 21


def test_a_fix_written_but_not_applied_is_applied_by_the_next_fix(project):
    folder = project.root / "seed-drift"
    shutil.copytree(ROOT / "examples" / "seed-drift", folder)
    env = project.env
    for command in ("db.up", "db.sync"):
        assert subprocess.run([sys.executable, "-m", "pgparity", command], cwd=folder, env=env,
                              capture_output=True).returncode == 0
    # What a kill between db.fix's files and its migrate leaves: both files, dev without them.
    written = subprocess.run([sys.executable, "-m", "pgparity", "db.fix", "--no-apply"], cwd=folder, env=env,
                             capture_output=True, text=True)
    assert written.returncode == 0 and "applied" not in written.stdout, written.stderr
    again = subprocess.run([sys.executable, "-m", "pgparity", "db.fix"], cwd=folder, env=env, capture_output=True,
                           text=True)
    assert again.returncode == 0, again.stderr
    assert ("the migrations already match production; applied 1 pending migrations to app "
            "(migrations/002_fix_production_drift.sql)") in again.stdout
    assert sorted(p.name for p in (folder / "migrations").glob("002_*")) == [
        "002_fix_production_drift.down.sql", "002_fix_production_drift.sql"]
