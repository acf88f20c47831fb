"""The ledger against the files on a real server: renamed and deleted applied migrations, line endings,
and failures named at the file's own line or as the ledger row's."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import psycopg
import pytest
from commands import ok, one_error_line, write

from pgparity.errors import MigrationError
from pgparity.migrations import rollback as rollbacks
from pgparity.migrations.discovery import discover
from pgparity.migrations.model import Migration
from pgparity.migrations.sync import Quiet, replay

FILES = {"001_a.sql": "create table a (id int);\n",
         "002_create_r1.sql": "create table r1 (id int);\ncomment on table r1 is 'first';\n",
         "003_create_r2.sql": "create table r2 (id int);\n"}


def rows(url: str) -> list[tuple[int, str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("select version::bigint, name, checksum from pgparity.schema_migrations order by 1").fetchall()


def synced(proj) -> Path:
    write(proj, FILES)
    ok(proj, "db.sync")
    return proj.root / "migrations"


def test_a_renamed_applied_migration_is_named_by_migrate_and_verify_until_repair_accepts_it(proj):  # B99
    folder = synced(proj)
    (folder / "002_create_r1.sql").rename(folder / "002_renamed.sql")
    expected = ("pgparity: migrations/002_renamed.sql: version 002 is recorded in the ledger as 002_create_r1.sql "
                "(renamed?); rename it back, or accept it with `invoke db.repair`")
    assert one_error_line(proj.run("db.migrate")) == expected
    assert one_error_line(proj.run("db.verify", "--json")) == expected
    assert "accepted 002_create_r1.sql renamed to 002_renamed.sql" in ok(proj, "db.repair")
    assert [(v, n) for v, n, _ in rows(proj.url())] == [(1, "a"), (2, "renamed"), (3, "create_r2")]
    assert "0 migrations applied" in ok(proj, "db.migrate")
    assert "parity" in ok(proj, "db.verify")


def test_a_deleted_applied_migration_is_named_until_repair_forgets_it(proj):  # B100
    folder = synced(proj)
    (folder / "003_create_r2.sql").unlink()
    expected = ("pgparity: 003_create_r2.sql is recorded in the ledger but its file is gone; restore it, or accept "
                "its removal with `invoke db.repair`")
    assert one_error_line(proj.run("db.migrate")) == expected
    assert one_error_line(proj.run("db.verify", "--json")) == expected
    assert "accepted the removal of 003_create_r2.sql from the ledger" in ok(proj, "db.repair")
    assert [v for v, _, _ in rows(proj.url())] == [1, 2]
    assert "nothing to repair" in ok(proj, "db.repair")
    drift = proj.run("db.verify")  # its table is still in dev, which the migrations no longer build
    assert drift.returncode == 1 and "r2" in drift.stdout


def test_verify_of_a_commit_without_an_applied_migration_names_the_commit(proj):
    folder = synced(proj)
    for args in (("init", "-q", "-b", "main"), ("add", "migrations/001_a.sql", "migrations/002_create_r1.sql"),
                 ("commit", "-q", "-m", "two of three")):
        subprocess.run(["git", "-c", "user.email=dev@pgparity.invalid", "-c", "user.name=dev", *args], cwd=proj.root,
                       check=True, capture_output=True)
    assert (folder / "003_create_r2.sql").is_file()  # in the working tree, applied to dev, not in the commit
    line = one_error_line(proj.run("db.verify", "--json", "--revision", "HEAD"))
    assert line == ("pgparity: 003_create_r2.sql is recorded in the ledger but its file is gone; restore it, or "
                    "accept its removal with `invoke db.repair` (in the migrations of commit HEAD)")


def test_line_endings_are_not_an_edit_and_old_rows_still_match(proj):
    folder = synced(proj)
    for path in folder.iterdir():
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert "0 migrations applied" in ok(proj, "db.migrate")
    assert "parity" in ok(proj, "db.verify")
    # A ledger written before endings were normalized holds the sha256 of the CRLF bytes as they were.
    crlf = folder / "002_create_r1.sql"
    with psycopg.connect(proj.url(), autocommit=True) as conn:
        conn.execute("update pgparity.schema_migrations set checksum = %s where version = '2'",
                     (hashlib.sha256(crlf.read_bytes()).hexdigest(),))
    assert "0 migrations applied" in ok(proj, "db.migrate")
    assert "parity" in ok(proj, "db.verify")
    assert "nothing to repair" in ok(proj, "db.repair")
    crlf.write_bytes(crlf.read_bytes().replace(b"'first'", b"'edited'"))
    refused = one_error_line(proj.run("db.migrate"))
    assert "migrations/002_create_r1.sql changed after it was applied" in refused


def migrations_in(directory: Path, files: dict[str, str]) -> tuple[Migration, ...]:
    for name, text in files.items():
        (directory / name).write_text(text)
    return discover(directory).migrations


def test_rollbacks_are_chosen_newest_first_and_refused_before_anything_runs(tmp_path):
    migrations = migrations_in(tmp_path, {"001_a.sql": "create table a (id int);\n",
                                          "001_a_rollback.sql": "drop table a;\n",
                                          "002_b.sql": "create table b (id int);\n",
                                          "002_b.down.sql": "alter table x\n-- ALTER TABLE b DROP COLUMN c;\n"})
    assert [(m.version.number, path.name) for m, path, _ in rollbacks.choose(migrations[:1], 1, "app")] == [
        (1, "001_a_rollback.sql")]
    with pytest.raises(MigrationError, match=r"002_b\.down\.sql:2: ALTER TABLE b is commented out"):
        rollbacks.choose(migrations, 2, "app")
    (tmp_path / "002_b.down.sql").write_bytes(b"drop table b; -- \xff\n")
    with pytest.raises(MigrationError, match=r"002_b\.down\.sql: cannot read the rollback"):
        rollbacks.choose(migrations, 1, "app")


def test_a_failure_after_the_file_commits_is_named_at_its_own_line(fresh_db, tmp_path):  # B48
    migrations = migrations_in(tmp_path, {"001_a.sql": "create table a (id int);\n",
                                          "002_commits.sql": "create table b (id int);\ncommit;\nbegin;\n"
                                                             "select 1 / 0;\n"})
    with pytest.raises(MigrationError, match=r"002_commits\.sql:4: division by zero"):
        replay(fresh_db, migrations, Quiet())


def test_a_file_that_changes_its_role_is_recorded_and_the_next_file_runs_as_before(fresh_db, tmp_path, reader):  # B50
    files = {"001_a.sql": "create table a (id int);\n",
             "002_role.sql": f"set role {reader};\nselect 1;\nselect 2;\nselect current_user;\n",
             "003_after.sql": "create table after_role (id int);\n",
             "004_alone.sql": f"set session authorization {reader};\nselect 1;\n"}
    migrations = migrations_in(tmp_path, files)
    assert [t.version.number for t in replay(fresh_db, migrations, Quiet())] == [1, 2, 3, 4]
    assert [v for v, _, _ in rows(fresh_db)] == [1, 2, 3, 4]
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select tableowner from pg_tables where tablename = 'after_role'").fetchone() == (
            "postgres",)
    alone = migrations_in(tmp_path, {"005_alone.sql": f"set role {reader};\nselect 1;\n"})[-1:]
    assert [t.version.number for t in replay(fresh_db, alone, Quiet())] == [5]  # a file sent by itself, not in a batch
    assert [v for v, _, _ in rows(fresh_db)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("header", ["", "-- pgparity: no-transaction\n"])
def test_a_file_that_drops_the_ledger_says_so(fresh_db, tmp_path, header):  # B51
    migrations = migrations_in(tmp_path, {"001_drop.sql": f"{header}drop schema pgparity cascade;\n"})
    with pytest.raises(MigrationError) as caught:
        replay(fresh_db, migrations, Quiet())
    assert (
        "001_drop.sql: the file ran but dropped pgparity's ledger (pgparity.schema_migrations), which then could "
        "not record it; a file must leave the pgparity schema alone: ") in str(caught.value)
    assert ":1:" not in str(caught.value) and "does not exist" in str(caught.value)
