"""db.sync / db.migrate / db.repair against a real server in the test image."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from pgparity import database
from pgparity.errors import MigrationError
from pgparity.migrations import apply
from pgparity.migrations.content import CHUNK
from pgparity.migrations.discovery import discover
from pgparity.migrations.ledger import ensure
from pgparity.migrations.model import Migration
from pgparity.migrations.sync import EMPTIES, LOCK_KEY, SPARES, Quiet, applier, make_spare, replay

GOOD = {
    "001_users.sql": "create table users (id bigint primary key, email varchar);",
    "002_roles.sql": "create table roles (id int primary key, name text);",
    "003_function.sql": """
create function touch() returns trigger language plpgsql as $body$
begin
    new.id := coalesce(new.id, 0); -- semicolons inside the body stay inside it
    raise notice 'touched %', new.id;
    return new;
end;
$body$;
select 1 as output_is_fine;
""",
    "004_index.sql": "create index users_email on users (email);",
}
BROKEN = {
    "005_broken.sql": "create table audit (id int);\n\nalter table nowhere add column x int;\n",
    "006_later.sql": "create table later (id int);",
    "007_later.sql": "create table later2 (id int);",
    "008_later.sql": "create table later3 (id int);",
}


def write(project, files: dict[str, str]) -> None:
    directory = project.root / "migrations"
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)


def tables(project, database: str = "app") -> set[str]:
    with psycopg.connect(project.url(database)) as conn:
        rows = conn.execute("select table_name from information_schema.tables where table_schema = 'public'")
        return {name for (name,) in rows}


def ledger(project, database: str = "app") -> list[tuple[int, str]]:
    with psycopg.connect(project.url(database)) as conn:
        return conn.execute("select version::bigint, name from pgparity.schema_migrations order by 1").fetchall()


def databases(project) -> set[str]:
    with psycopg.connect(project.url("postgres")) as conn:
        return {name for (name,) in conn.execute("select datname from pg_database")}


def sync(project, *args: str) -> dict:
    result = project.run("db.sync", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sync_replays_numerically_and_records_the_ledger(project):
    write(project, {"1_a.sql": "create table a (id int);", "10_c.sql": "alter table b add column a_id int;",
                    "2_b.sql": "create table b (id int);"})
    summary = sync(project)
    assert [t["version"] for t in summary["applied"]] == ["1", "2", "10"]
    assert summary["cache"] == "miss" and len(summary["slowest"]) == 3
    assert ledger(project) == [(1, "a"), (2, "b"), (10, "c")]
    human = project.run("db.sync", "--no-cache")
    assert human.returncode == 0 and "3 migrations applied to app" in human.stdout and "slowest:" in human.stdout


def test_failure_in_file_5_of_8_leaves_dev_untouched(project):
    write(project, GOOD)
    sync(project)
    with psycopg.connect(project.url()) as conn:
        conn.execute("insert into users (id, email) values (1, 'kept@example.com')")
    write(project, BROKEN)
    result = project.run("db.sync")
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("pgparity: migrations/005_broken.sql:3: relation \"nowhere\" does not exist"), line
    assert tables(project) == {"users", "roles"}
    with psycopg.connect(project.url()) as conn:
        assert conn.execute("select email from users").fetchone() == ("kept@example.com",)
    assert not [name for name in databases(project) if "scratch" in name or "building" in name]


def test_warm_cache_clones_instead_of_replaying(project):
    write(project, GOOD)
    cold = sync(project)
    warm = sync(project)
    assert cold["cache"] == "miss" and len(cold["applied"]) == 4
    # the cold sync replayed into the template and the dev database side by side: both hold every file
    assert tables(project, cold["template"]) == {"users", "roles"}
    assert ledger(project, cold["template"]) == ledger(project) == [(1, "users"), (2, "roles"), (3, "function"),
                                                                     (4, "index")]
    assert warm["cache"] == "hit" and warm["applied"] == [] and warm["template"] == cold["template"]
    assert tables(project) == {"users", "roles"}
    assert [v for v, _ in ledger(project)] == [1, 2, 3, 4]
    forced = sync(project, "--no-cache")
    assert forced["cache"] == "off" and len(forced["applied"]) == 4


def test_changed_migration_is_refused_by_migrate_until_repaired(project):
    write(project, GOOD)
    sync(project)
    write(project, {"002_roles.sql": "create table roles (id int primary key, name text, extra int);"})
    refused = project.run("db.migrate")
    assert refused.returncode == 2
    assert "migrations/002_roles.sql changed after it was applied" in refused.stderr
    assert "invoke db.repair" in refused.stderr
    repaired = project.run("db.repair")
    assert repaired.returncode == 0 and "accepted 002_roles.sql" in repaired.stdout
    assert project.run("db.migrate").returncode == 0


def test_migrate_keeps_local_data_while_sync_rebuilds(project):
    write(project, GOOD)
    sync(project)
    with psycopg.connect(project.url()) as conn:
        conn.execute("insert into users (id, email) values (7, 'local@example.com')")
    write(project, {"005_audit.sql": "create table audit (id int);"})
    migrated = json.loads(project.run("db.migrate", "--json").stdout)
    assert [t["version"] for t in migrated["applied"]] == ["5"]
    with psycopg.connect(project.url()) as conn:
        assert conn.execute("select count(*) from users").fetchone() == (1,)
    sync(project)
    with psycopg.connect(project.url()) as conn:
        assert conn.execute("select count(*) from users").fetchone() == (0,)
    assert "audit" in tables(project)


def test_backup_is_kept_and_can_be_restored(project):
    write(project, {"001_a.sql": "create table a (id int);"})
    sync(project)
    write(project, {"002_b.sql": "create table b (id int);"})
    sync(project)
    assert tables(project) == {"a", "b"} and tables(project, "app__pgparity_backup") == {"a"}
    restored = project.run("db.sync", "--restore-backup")
    assert restored.returncode == 0, restored.stderr
    assert tables(project) == {"a"} and tables(project, "app__pgparity_backup") == {"a", "b"}


def test_sessions_on_dev_are_ended_with_a_message(project):
    write(project, GOOD)
    sync(project)
    holder = psycopg.connect(project.url())
    result = project.run("db.sync")
    assert result.returncode == 0, result.stderr
    assert "ended 1 session connected to app" in result.stderr
    with pytest.raises(psycopg.OperationalError):
        holder.execute("select 1")


def test_no_transaction_file_runs_concurrently_built_index(project):
    write(project, GOOD)
    write(project, {"005_concurrent.sql": "-- pgparity: no-transaction\ncreate index concurrently roles_name on roles (name);"})
    sync(project)
    with psycopg.connect(project.url()) as conn:
        assert conn.execute("select count(*) from pg_indexes where indexname = 'roles_name'").fetchone() == (1,)


def test_lint_errors_stop_sync_before_touching_the_server(project):
    write(project, GOOD)
    sync(project)
    write(project, {"005_concurrent.sql": "create index concurrently roles_name on roles (name);"})
    result = project.run("db.sync")
    assert result.returncode == 2 and "005_concurrent.sql:1" in result.stderr and "no-transaction" in result.stderr
    assert tables(project) == {"users", "roles"}


def test_baseline_replaces_squashed_history(project):
    write(project, {f"00{n}_step.sql": f"create table t{n} (id int);" for n in range(1, 7)})
    write(project, {"000_complete_schema.sql": "".join(f"create table t{n} (id int);" for n in range(1, 7)),
                    "007_next.sql": "create table t7 (id int);"})
    (project.root / "pgparity.toml").write_text(
        '[migrations]\nbaseline = { file = "000_complete_schema.sql", through = 6 }\n')
    summary = sync(project)
    assert [t["version"] for t in summary["applied"]] == ["6", "7"]
    assert tables(project) == {f"t{n}" for n in range(1, 8)}


def start_sync(project) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pgparity", "db.sync"], cwd=project.root, env=project.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.05)


def test_sigkill_during_sync_leaves_dev_whole_and_next_sync_cleans_up(project):
    write(project, GOOD)
    sync(project)
    write(project, {"005_slow.sql": "create table slow (id int); select pg_sleep(30);"})
    process = start_sync(project)
    wait_for(lambda: any("_building" in name for name in databases(project)))
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert tables(project) == {"users", "roles"}
    write(project, {"005_slow.sql": "create table slow (id int);"})
    sync(project)
    assert tables(project) == {"users", "roles", "slow"}
    assert not [name for name in databases(project) if "scratch" in name or "building" in name]
    # the replaced backup is dropped by the detached process, after the command returned
    wait_for(lambda: not [name for name in databases(project) if "trash" in name])


def test_two_syncs_at_once_never_interleave(project):
    write(project, GOOD)
    sync(project)
    write(project, {"005_slow.sql": "create table slow (id int); select pg_sleep(2);"})
    first = start_sync(project)
    wait_for(lambda: any("_building" in name for name in databases(project)))
    second = start_sync(project)
    out_first, err_first = first.communicate(timeout=120)
    out_second, err_second = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, (err_first, err_second)
    assert "another sync or migrate is running on this server" in err_second
    assert "cache hit" in out_second
    assert [v for v, _ in ledger(project)] == [1, 2, 3, 4, 5]


def test_a_squashed_schema_replayed_with_its_history_suggests_a_baseline(project):
    write(project, {f"00{n}_step.sql": f"create table t{n} (id int);" for n in range(1, 4)})
    write(project, {"000_complete_schema.sql": "".join(f"create table t{n} (id int);" for n in range(1, 4))})
    result = project.run("db.sync")
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith('pgparity: migrations/001_step.sql:1: relation "t1" already exists'), line
    assert 'baseline = { file = "000_complete_schema.sql", through = <last version it covers> }' in line


def test_spare_clones_are_prepared_and_renamed_in_by_the_next_warm_syncs(project):
    write(project, GOOD)
    first = sync(project)
    spares = lambda: sorted(name for name in databases(project) if "__pgparity_spare_" in name)  # noqa: E731
    wait_for(lambda: len(spares()) == SPARES)
    prefix = "app__pgparity_spare_" + first["template"].removeprefix("pgparity_template_")[:12] + "_"
    assert all(name.startswith(prefix) for name in spares())
    with psycopg.connect(project.url()) as conn:
        conn.execute("insert into users (id, email) values (1, 'local@example.com')")
    ready = set(spares())
    warm = sync(project)
    assert warm["cache"] == "hit"
    assert len(ready - set(spares())) == 1  # one spare became dev; the other waits for the sync after
    with psycopg.connect(project.url()) as conn:
        assert conn.execute("select count(*) from users").fetchone() == (0,)
    assert tables(project) == {"users", "roles"}
    assert sync(project)["cache"] == "hit"  # at once, without waiting for the background clone
    wait_for(lambda: len(spares()) == SPARES)


def test_the_background_clone_never_holds_the_sync_lock(project):
    """A warm sync right after another must not wait for the next spare: the clone runs outside the lock."""
    write(project, GOOD)
    first = sync(project)
    spares = lambda: [name for name in databases(project) if "__pgparity_spare_" in name]  # noqa: E731
    wait_for(lambda: len(spares()) == SPARES and "app__pgparity_empty_2" in databases(project))
    with database.Server(project.url("postgres")) as holder, holder.advisory_lock(LOCK_KEY):
        for name in spares():
            holder.drop(name)
        make_spare(project.url("postgres"), "app", first["template"])  # returns although the lock is held
        assert len(spares()) == SPARES


def oid(project, database: str) -> int | None:
    with psycopg.connect(project.url("postgres")) as conn:
        row = conn.execute("select oid from pg_database where datname = %s", (database,)).fetchone()
        return row[0] if row else None


def test_a_replay_and_its_twin_start_in_the_empty_databases_prepared_after_the_previous_sync(project):
    write(project, GOOD)
    sync(project)
    empties = ["app__pgparity_empty", *(f"app__pgparity_empty_{n}" for n in range(2, EMPTIES + 1))]
    wait_for(lambda: all(oid(project, name) is not None for name in empties))
    prepared = {oid(project, name) for name in empties}
    rebuilt = sync(project, "--no-cache")
    assert rebuilt["cache"] == "off" and len(rebuilt["applied"]) == 4
    # renamed, not created (a rename keeps the oid): the template, and the dev database replayed beside it
    # where a core is spare for that twin replay
    assert oid(project, rebuilt["template"]) in prepared
    assert (oid(project, "app") in prepared - {oid(project, rebuilt["template"])}) == ((os.cpu_count() or 1) > 1)
    wait_for(lambda: all(oid(project, name) not in (None, *prepared) for name in empties))
    for name in empties:
        with psycopg.connect(project.url(name)) as conn:
            assert conn.execute("select count(*) from pg_class where relnamespace = 'public'::regnamespace"
                                ).fetchone() == (0,)


def migrations_in(tmp_path, files: dict[str, str]) -> tuple[Migration, ...]:
    directory = tmp_path / "migrations"
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    return discover(directory).migrations


def recorded(url: str) -> list[tuple[int, int]]:
    with psycopg.connect(url) as conn:
        return conn.execute("select version::bigint, execution_ms from pgparity.schema_migrations order by 1").fetchall()


def test_a_file_larger_than_a_chunk_is_read_again_to_run_and_refused_if_edited_meanwhile(fresh_db, tmp_path):
    """Discovery keeps no text of a large file: replay reads it again, checked against the checksum recorded."""
    rows = ",\n".join(f"({n}, 'row {n}')" for n in range(CHUNK // 8))
    migrations = migrations_in(tmp_path, {"001_rows.sql": f"create table t (id int, note text);\n"
                                                           f"insert into t values\n{rows};\n",
                                          "002_more.sql": "insert into t values (-1, 'last');\n"})
    assert migrations[0].content.held is None and migrations[0].content.size > CHUNK
    path = migrations[0].path
    path.write_text(path.read_text().replace("'row 7'", "'row 8'"))
    with pytest.raises(MigrationError, match="001_rows.sql: changed while it was being read; run the command again"):
        replay(fresh_db, migrations, Quiet())
    assert recorded(fresh_db) == []
    migrations = discover(path.parent).migrations
    replay(fresh_db, migrations, Quiet())
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*), count(*) filter (where note = 'row 8') from t").fetchone() == (
            CHUNK // 8 + 1, 2)
        assert conn.execute("select checksum from pgparity.schema_migrations order by version").fetchall() == [
            (migration.checksum,) for migration in migrations]


def test_a_syntax_error_in_a_batch_names_its_own_file_and_line(fresh_db, tmp_path):
    files = {f"{n:03d}_t{n}.sql": f"create table t{n} (id int);" for n in range(1, 9)}
    files["005_t5.sql"] = "create table t5 (id int);\ncreate tabel oops (id int);\n"
    migrations = migrations_in(tmp_path, files)
    assert [len(batch) for batch in apply.batches(migrations)] == [8]
    with pytest.raises(MigrationError, match=r'005_t5\.sql:2: syntax error at or near "tabel"'):
        replay(fresh_db, migrations, Quiet())
    assert [version for version, _ in recorded(fresh_db)] == [1, 2, 3, 4]


def test_a_batch_of_files_is_applied_in_one_message(fresh_db, tmp_path):
    """Not file by file after a failed batch: that fallback is correct, so only this shows the batch works."""
    migrations = migrations_in(tmp_path, {f"{n:03d}_t{n}.sql": f"create table t{n} (id int);" for n in range(1, 6)})
    with applier(fresh_db) as conn:
        ensure(conn)
        assert [t.version.number for t in apply.apply_batch(conn, migrations)] == [1, 2, 3, 4, 5]
    assert [version for version, _ in recorded(fresh_db)] == [1, 2, 3, 4, 5]


def test_each_file_of_a_batch_is_timed_and_configured_on_its_own(fresh_db, tmp_path):
    migrations = migrations_in(tmp_path, {
        "001_lost.sql": "set search_path = nowhere;\ncreate table public.a (id int);",
        "002_slow.sql": "create table b (id int);\nselect pg_sleep(0.3);",
        "003_fast.sql": "create table c (id int);",
    })
    timings = replay(fresh_db, migrations, Quiet())
    assert [t.ms >= 300 for t in timings] == [False, True, False]
    assert [ms >= 300 for _, ms in recorded(fresh_db)] == [False, True, False]


def test_a_file_that_drops_prepared_statements_does_not_break_its_batch(fresh_db, tmp_path):
    migrations = migrations_in(tmp_path, {
        "001_a.sql": "create table a (id int);",
        "002_forget.sql": "deallocate all;\ncreate table b (id int);",
        "003_c.sql": "create table c (id int);",
        "004_d.sql": "create table d (id int);",
    })
    assert [len(batch) for batch in apply.batches(migrations)] == [4]
    assert [t.version.number for t in replay(fresh_db, migrations, Quiet())] == [1, 2, 3, 4]
    assert [version for version, _ in recorded(fresh_db)] == [1, 2, 3, 4]
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from pg_tables where tablename in ('a', 'b', 'c', 'd')").fetchone() == (4,)


def test_a_file_that_manages_its_transaction_travels_alone(fresh_db, tmp_path):
    migrations = migrations_in(tmp_path, {
        "001_a.sql": "create table a (id int);",
        "002_own.sql": "begin;\ncreate table b (id int);\ncommit;\n",
        "003_c.sql": "create table c (id int);",
        "004_d.sql": "create table d (id int);",
    })
    assert [len(batch) for batch in apply.batches(migrations)] == [1, 1, 2]
    replay(fresh_db, migrations, Quiet())
    assert [version for version, _ in recorded(fresh_db)] == [1, 2, 3, 4]


