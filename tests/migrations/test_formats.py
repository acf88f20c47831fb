"""Migration layouts: each tool's files read as that tool reads them, one layout per folder, new files in it.

The histories are written the way each tool writes them (the tools themselves are not needed); the
server tests replay them with db.sync and verify against a production that holds that tool's ledger.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import psycopg
import pytest
from commands import ok, one_error_line, run_json
from conftest import Production, Project

from pgparity.errors import ConfigError
from pgparity.migrations import formats
from pgparity.migrations.convert import convert
from pgparity.migrations.discovery import discover, layout
from pgparity.migrations.formats import flyway, sqitch
from pgparity.migrations.model import MigrationPolicy, Version


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def names(plan) -> list[str]:
    return [m.path.relative_to(plan.directory).as_posix() for m in plan.migrations]


def errors(plan) -> list[str]:
    return [f"{f.path.name}: {f.message}" for f in plan.errors]


# --- the histories, as each tool writes them ----------------------------------------------------------

FLYWAY = {
    "V1__users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n",
    "V1_1__roles.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text);\n",
    "R__user_emails.sql": "CREATE OR REPLACE VIEW user_emails AS SELECT email FROM users;\n",
    "U1_1__roles.sql": "DROP TABLE roles;\n",
    "V2__nickname.sql": "ALTER TABLE users ADD COLUMN nickname text;\n",
}
GOLANG_MIGRATE = {
    "000001_users.up.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n",
    "000001_users.down.sql": "DROP TABLE users;\n",
    "000002_roles.up.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text);\n",
    "000002_roles.down.sql": "DROP TABLE roles;\n",
    "000003_nickname.up.sql": "ALTER TABLE users ADD COLUMN nickname text;\n",
    "000003_nickname.down.sql": "ALTER TABLE users DROP COLUMN nickname;\n",
}
DBMATE = {
    "20240101120000_users.sql": "-- migrate:up\nCREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n\n"
                                "-- migrate:down\nDROP TABLE users;\n",
    "20240102120000_roles.sql": "-- migrate:up\nCREATE TABLE roles (id serial PRIMARY KEY, name text);\n\n"
                                "-- migrate:down\nDROP TABLE roles;\n",
    "20240103120000_email_index.sql": "-- migrate:up transaction:false\n"
                                      "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n\n"
                                      "-- migrate:down\nDROP INDEX users_email_idx;\n",
    "20240104120000_nickname.sql": "-- migrate:up\nALTER TABLE users ADD COLUMN nickname text;\n\n"
                                   "-- migrate:down\nALTER TABLE users DROP COLUMN nickname;\n",
}
GOOSE = {
    "00001_users.sql": "-- +goose Up\nCREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n\n"
                       "-- +goose Down\nDROP TABLE users;\n",
    "00002_touch.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                       "BEGIN\n  RETURN NEW;\nEND;\n$$;\n-- +goose StatementEnd\n\n-- +goose Down\nDROP FUNCTION touch();\n",
    "00003_nickname.sql": "-- +goose Up\nALTER TABLE users ADD COLUMN nickname text;\n\n"
                          "-- +goose Down\nALTER TABLE users DROP COLUMN nickname;\n",
}
SQITCH = {
    "sqitch.conf": "[core]\n\tengine = pg\n",
    "sqitch.plan": "%syntax-version=1.0.0\n%project=app\n\n"
                   "users 2024-01-01T12:00:00Z Ann Planner <ann@example.com> # Users.\n"
                   "roles [users] 2024-01-02T12:00:00Z Ann Planner <ann@example.com> # Roles.\n"
                   "nickname [users] 2024-01-03T12:00:00Z Ann Planner <ann@example.com> # Nicknames.\n",
    "deploy/users.sql": "BEGIN;\nCREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\nCOMMIT;\n",
    "revert/users.sql": "BEGIN;\nDROP TABLE users;\nCOMMIT;\n",
    "verify/users.sql": "BEGIN;\nSELECT id FROM users WHERE false;\nROLLBACK;\n",
    "deploy/roles.sql": "BEGIN;\nCREATE TABLE roles (id serial PRIMARY KEY, name text);\nCOMMIT;\n",
    "revert/roles.sql": "BEGIN;\nDROP TABLE roles;\nCOMMIT;\n",
    "deploy/nickname.sql": "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;\n",
    "revert/nickname.sql": "BEGIN;\nALTER TABLE users DROP COLUMN nickname;\nCOMMIT;\n",
}
HISTORIES = {"flyway": FLYWAY, "golang-migrate": GOLANG_MIGRATE, "dbmate": DBMATE, "goose": GOOSE, "sqitch": SQITCH}


# --- pure: versions ---------------------------------------------------------------------------------


def test_versions_compare_part_by_part_and_keep_their_tools_spelling():
    assert Version.parse("1.10") > Version.parse("1.9") > Version.parse("1.2.3") > Version.parse("1")
    assert Version.parse("007") == Version.of(7) and str(Version.parse("007")) == "7"
    assert Version.parse("1.0") == Version.parse("1") and str(Version.parse("1_1")) == "1.1"
    assert Version.parse("20240101120000").number == 20240101120000 and Version.parse("1.2").number is None
    assert Version.parse("users") is None and Version.parse("") is None


# --- pure: detection and one layout per folder ----------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(HISTORIES))
def test_each_layout_is_told_from_its_files_and_replays_in_its_order(kind, tmp_path):
    plan = discover(tree(tmp_path, HISTORIES[kind]))
    assert plan.format.name == kind and errors(plan) == []
    assert [f for f in plan.findings if f.level == "warning"] == []
    expected = {
        "flyway": ["V1__users.sql", "V1_1__roles.sql", "V2__nickname.sql", "R__user_emails.sql"],
        "golang-migrate": ["000001_users.up.sql", "000002_roles.up.sql", "000003_nickname.up.sql"],
        "dbmate": sorted(DBMATE),
        "goose": sorted(GOOSE),
        "sqitch": ["deploy/users.sql", "deploy/roles.sql", "deploy/nickname.sql"],
    }[kind]
    assert names(plan) == expected
    undone = [m.name for m in plan.migrations if m.rollback is not None]
    assert undone == (["roles"] if kind == "flyway" else [m.name for m in plan.migrations])


def test_a_layout_named_in_pgparity_toml_is_used_and_an_unknown_one_is_refused(tmp_path):
    tree(tmp_path, {"001_users.sql": "CREATE TABLE users (id int);\n"})
    plan = discover(tmp_path, MigrationPolicy(format="golang-migrate"))
    assert plan.format.name == "golang-migrate" and plan.migrations == ()
    assert errors(plan) == ["001_users.sql: looks like a pgparity migration, but [migrations] format is golang-migrate "
                            "(<version>_<name>.up.sql and <version>_<name>.down.sql); pgparity replays one layout per "
                            "folder: move it, rename it to the folder's layout, or list it in `skip`"]
    with pytest.raises(ConfigError, match="'liquibase' is not a migration format; pgparity reads pgparity, flyway"):
        formats.named("liquibase")


def test_a_folder_mixing_layouts_is_refused_file_by_file(tmp_path):
    plan = discover(tree(tmp_path, {**GOLANG_MIGRATE, "V4__flyway_style.sql": "SELECT 1;\n",
                                    "4_plain.sql": "CREATE TABLE plain (id int);\n"}))
    assert plan.format.name == "golang-migrate"
    assert errors(plan) == [
        "4_plain.sql: looks like a pgparity migration, but the folder holds golang-migrate migrations "
        "(<version>_<name>.up.sql and <version>_<name>.down.sql); pgparity replays one layout per folder: move it, "
        "rename it to the folder's layout, or list it in `skip`",
        "V4__flyway_style.sql: looks like a flyway migration, but the folder holds golang-migrate migrations "
        "(<version>_<name>.up.sql and <version>_<name>.down.sql); pgparity replays one layout per folder: move it, "
        "rename it to the folder's layout, or list it in `skip`"]
    skipped = discover(tmp_path, MigrationPolicy(skip=frozenset({"V4__flyway_style.sql", "4_plain.sql"})))
    assert errors(skipped) == []


def test_a_dbmate_file_among_pgparity_files_is_no_pgparity_migration(tmp_path):
    plan = discover(tree(tmp_path, {"001_a.sql": "CREATE TABLE a (id int);\n", "002_b.sql": "CREATE TABLE b ();\n",
                                    "003_c.sql": "-- migrate:up\nCREATE TABLE c ();\n"}))
    assert plan.format.name == "pgparity" and names(plan) == ["001_a.sql", "002_b.sql"]
    assert [e.split(":")[0] for e in errors(plan)] == ["003_c.sql"] and "a dbmate migration" in errors(plan)[0]


def test_an_unnumbered_sql_file_that_changes_the_schema_is_an_error_with_its_fix(tmp_path):
    plan = discover(tree(tmp_path, {"001_a.sql": "CREATE TABLE a (id int);\n",
                                    "functions.sql": "-- helpers\nCREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
                                    "queries.sql": "SELECT * FROM a;\n", "__init__.py": ""}))
    assert errors(plan) == ["functions.sql: changes the schema but is not named as a migration, so it is never "
                            "replayed; rename it (NNN_description.sql, NNN_description.down.sql or "
                            "NNN_description_rollback.sql), or list it in `skip` in pgparity.toml"]
    warning = next(f.message for f in plan.findings if f.level == "warning")
    assert warning.startswith("not migrations, never replayed: __init__.py, queries.sql (expected NNN_description.sql")
    assert errors(discover(tmp_path, MigrationPolicy(skip=frozenset({"functions.sql"})))) == []


# --- pure: each layout's own rules -------------------------------------------------------------------


def test_sections_keep_their_line_numbers_and_say_how_they_run(tmp_path):
    plan = discover(tree(tmp_path, DBMATE))
    index = next(m for m in plan.migrations if m.name == "email_index")
    assert index.no_transaction and not index.controls_transaction
    assert index.sql.split("\n")[1] == "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);"
    assert "DROP INDEX" not in index.sql and index.rollback_sql.split("\n")[4] == "DROP INDEX users_email_idx;"
    assert index.rollback == index.path
    empty = tree(tmp_path / "empty", {"20240101120000_a.sql": "-- migrate:up\nCREATE TABLE a ();\n-- migrate:down\n\n"})
    assert discover(empty).migrations[0].rollback is None  # a down section that undoes nothing is no rollback

    goose = discover(tree(tmp_path / "goose", {**GOOSE, "00004_concurrently.sql":
                                              "-- +goose NO TRANSACTION\n-- +goose Up\n"
                                              "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"
                                              "-- +goose Down\nDROP INDEX users_email_idx;\n"}))
    assert errors(goose) == [] and [m.no_transaction for m in goose.migrations] == [False, False, False, True]
    broken = tree(tmp_path / "broken", {"00001_x.sql": "-- +goose Up\nCREATE TABLE x ();\n\\set a 1\n-- +goose Down\n"})
    assert [(f.line, f.message.split(" is ")[0]) for f in discover(broken).errors] == [(3, "psql meta-command \\set")]


def test_flyway_reads_its_folders_settings_and_checksums(tmp_path):
    files = {**FLYWAY, "sub/V3__concurrently.sql": "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
             "sub/V3__concurrently.sql.conf": "executeInTransaction=false\n"}
    plan = discover(tree(tmp_path, files))
    assert names(plan)[-2:] == ["sub/V3__concurrently.sql", "R__user_emails.sql"] and errors(plan) == []
    assert plan.migrations[-2].no_transaction and plan.migrations[-1].repeatable
    assert [str(m.version) for m in plan.migrations] == ["1", "1.1", "2", "3", ""]
    # Flyway's checksum reads lines: their endings and a byte-order mark do not count; it is a signed int.
    assert flyway.checksum("SELECT 1;\nSELECT 2;\n") == flyway.checksum("\ufeffSELECT 1;\r\nSELECT 2;")
    assert flyway.checksum("SELECT 1;\n") != flyway.checksum("SELECT 2;\n")
    assert any(flyway.checksum(f"SELECT {n};\n").startswith("-") for n in range(10))
    assert plan.migrations[0].tool_checksum == flyway.checksum(FLYWAY["V1__users.sql"])
    duplicate = tree(tmp_path / "dup", {"V1__a.sql": "SELECT 1;\n", "V1.0__b.sql": "SELECT 2;\n"})
    assert "version 1.0 is used by V1.0__b.sql, V1__a.sql" in errors(discover(duplicate))[0]


def test_sqitch_follows_its_plan_and_a_reworked_change_keeps_its_tagged_script(tmp_path):
    files = {**SQITCH, "sqitch.plan": SQITCH["sqitch.plan"] + "@v1.0 2024-01-04T12:00:00Z Ann Planner <ann@example.com> # v1\n"
             "users [users@v1.0] 2024-01-05T12:00:00Z Ann Planner <ann@example.com> # Users, reworked.\n",
             "deploy/users@v1.0.sql": SQITCH["deploy/users.sql"], "revert/users@v1.0.sql": SQITCH["revert/users.sql"],
             "deploy/users.sql": "BEGIN;\nALTER TABLE users ADD COLUMN active boolean;\nCOMMIT;\n",
             "deploy/orphan.sql": "BEGIN;\nCOMMIT;\n"}
    plan = discover(tree(tmp_path, files))
    assert names(plan) == ["deploy/users@v1.0.sql", "deploy/roles.sql", "deploy/nickname.sql", "deploy/users.sql"]
    assert [str(m.version) for m in plan.migrations] == ["1", "2", "3", "4"]
    assert plan.migrations[0].tool_checksum == hashlib.sha1(SQITCH["deploy/users.sql"].encode()).hexdigest()
    assert all(m.controls_transaction for m in plan.migrations) and errors(plan) == []
    assert [f.message for f in plan.findings if f.level == "warning"] == [
        "not migrations, never replayed: deploy/orphan.sql (expected changes named in sqitch.plan, with deploy/, revert/ "
        "and verify/ scripts)"]


# --- pure: the next file, in the folder's layout ----------------------------------------------------------


def written(root: Path, files: dict[str, str], down: str | None = "-- undo\n") -> list[str]:
    fmt, found = layout(tree(root, files))
    return [o.path.relative_to(root).as_posix() for o in fmt.new(root, found, "add_bio", "-- up\n", down)]


def test_a_new_migration_takes_the_next_version_as_the_folder_writes_it(tmp_path):
    assert written(tmp_path / "f", FLYWAY) == ["U3__add_bio.sql", "V3__add_bio.sql"]
    assert written(tmp_path / "f2", {"V1_2__a.sql": "SELECT 1;\n"}, None) == ["V1_3__add_bio.sql"]
    assert written(tmp_path / "f3", {"V1.2.9__a.sql": "SELECT 1;\n"}, None) == ["V1.2.10__add_bio.sql"]
    assert written(tmp_path / "g", GOLANG_MIGRATE) == ["000004_add_bio.down.sql", "000004_add_bio.up.sql"]
    assert written(tmp_path / "goose", GOOSE) == ["00004_add_bio.sql"]
    dbmate = written(tmp_path / "d", DBMATE)
    assert len(dbmate) == 1 and dbmate[0] > "20240104120000_nickname.sql" and len(dbmate[0].split("_")[0]) == 14
    assert written(tmp_path / "s", SQITCH) == ["revert/add_bio.sql", "verify/add_bio.sql", "deploy/add_bio.sql",
                                               "sqitch.plan"]


def test_each_new_file_is_a_migration_of_its_folder_with_its_rollback(tmp_path):
    for kind, files in HISTORIES.items():
        root = tree(tmp_path / kind, files)
        fmt, found = layout(root)
        formats.write(fmt.new(root, found, "add_bio", "-- pgparity: in-production\nALTER TABLE users ADD bio text;\n",
                              "ALTER TABLE users DROP bio;\n"))
        plan = discover(root)
        added = next(m for m in plan.migrations if m.name == "add_bio")
        assert (kind, errors(plan)) == (kind, []) and added.in_production, kind
        assert "ADD bio" in added.sql and "DROP bio" not in added.sql, kind
        undo = added.rollback_sql if added.rollback_sql is not None else added.rollback.read_text()
        assert "DROP bio" in undo, kind
    plan_text = (tmp_path / "sqitch" / "sqitch.plan").read_text()
    assert plan_text.startswith(SQITCH["sqitch.plan"]) and plan_text.splitlines()[-1].startswith("add_bio 20")
    with pytest.raises(Exception, match="change add_bio is planned already"):
        fmt, found = layout(tmp_path / "sqitch")
        fmt.new(tmp_path / "sqitch", found, "add_bio", "", "")


def test_a_sqitch_script_keeps_pgparitys_options_above_its_begin():
    assert sqitch.transaction("-- pgparity: in-production\nCREATE TABLE a ();\n") == (
        "-- pgparity: in-production\nBEGIN;\nCREATE TABLE a ();\nCOMMIT;\n")
    alone = "-- pgparity: no-transaction\nCREATE INDEX CONCURRENTLY a_idx ON a (id);\n"
    assert sqitch.transaction(alone) == alone  # a statement that refuses a transaction block gets none


@pytest.mark.parametrize("kind", ["pgparity", "sqitch", "goose"])
def test_a_copy_is_a_history_of_the_target_layout_in_the_same_order(kind, tmp_path):
    source = discover(tree(tmp_path / "dbmate", DBMATE))
    convert(source, formats.named(kind), tmp_path / kind)
    copy = discover(tmp_path / kind)
    assert (copy.format.name, errors(copy)) == (kind, [])
    assert [m.name for m in copy.migrations] == [m.name for m in source.migrations]
    assert [m.no_transaction for m in copy.migrations] == [False, False, True, False]
    assert all(m.rollback is not None for m in copy.migrations)


# --- real servers: each tool's history, with that tool's ledger in production ------------------------------


def sqitch_hash(name: str) -> str:
    return hashlib.sha1(SQITCH[f"deploy/{name}.sql"].encode()).hexdigest()


FLYWAY_LEDGER = """
    CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
        description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL,
        checksum int, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
        execution_time int NOT NULL, success boolean NOT NULL);
    INSERT INTO flyway_schema_history VALUES
        (1, '1', 'users', 'SQL', 'V1__users.sql', {v1}, 'deploy', now(), 5, true),
        (2, '1.1', 'roles', 'SQL', 'V1_1__roles.sql', {v11}, 'deploy', now(), 5, true),
        (3, NULL, 'user emails', 'SQL', 'R__user_emails.sql', {r}, 'deploy', now(), 5, true);
"""
# What production ran (all but the last migration) and the ledger its tool left.
PRODUCTION = {
    "flyway": (FLYWAY["V1__users.sql"] + FLYWAY["V1_1__roles.sql"] + FLYWAY["R__user_emails.sql"],
               FLYWAY_LEDGER.format(v1=flyway.checksum(FLYWAY["V1__users.sql"]),
                                    v11=flyway.checksum(FLYWAY["V1_1__roles.sql"]),
                                    r=flyway.checksum(FLYWAY["R__user_emails.sql"]))),
    "golang-migrate": (GOLANG_MIGRATE["000001_users.up.sql"] + GOLANG_MIGRATE["000002_roles.up.sql"], """
        CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
        INSERT INTO schema_migrations VALUES (2, false);"""),
    "dbmate": ("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);"
               "CREATE TABLE roles (id serial PRIMARY KEY, name text);"
               "CREATE INDEX users_email_idx ON users (email);", """
        CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
        INSERT INTO schema_migrations VALUES ('20240101120000'), ('20240102120000'), ('20240103120000');"""),
    "goose": ("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);"
              "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$;", """
        CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL,
                                       is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
        INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true);"""),
    "sqitch": ("CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);"
               "CREATE TABLE roles (id serial PRIMARY KEY, name text);", f"""
        CREATE SCHEMA sqitch;
        CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text, change text NOT NULL,
                                     project text NOT NULL, note text NOT NULL DEFAULT '',
                                     committed_at timestamptz NOT NULL DEFAULT clock_timestamp());
        INSERT INTO sqitch.changes (change_id, script_hash, change, project)
            VALUES ('a1', '{sqitch_hash("users")}', 'users', 'app'), ('a2', '{sqitch_hash("roles")}', 'roles', 'app');"""),
}
PENDING = {"flyway": "2 nickname", "golang-migrate": "3 nickname", "dbmate": "20240104120000 nickname",
           "goose": "3 nickname", "sqitch": "3 nickname"}
# The files db.fix writes in each layout, the one replayed first.
FIXED = {"flyway": ["V3__fix_production_drift.sql", "U3__fix_production_drift.sql"],
         "golang-migrate": ["000004_fix_production_drift.up.sql", "000004_fix_production_drift.down.sql"],
         "goose": ["00004_fix_production_drift.sql"],
         "sqitch": ["sqitch.plan", "deploy/fix_production_drift.sql", "verify/fix_production_drift.sql",
                    "revert/fix_production_drift.sql"]}


def listed(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", sorted(HISTORIES))
def test_a_tools_history_replays_and_verifies_against_its_ledger_then_db_fix_writes_in_its_layout(
        kind, proj: Project, production: Production):
    folder = tree(proj.root / "migrations", HISTORIES[kind])
    deployed, ledger_sql = PRODUCTION[kind]
    production.execute(deployed + ledger_sql)
    ok(proj, "db.sync")
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert (code, report["status"], report["differences"]) == (0, "parity", [])
    assert report["summary"]["pending_in_production"] == [PENDING[kind]]
    assert report["production_position"]["notes"] == []

    production.execute("ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT false;")
    ok(proj, "db.snapshot", "--from", "prod")
    assert run_json(proj, "db.verify")[0] == 1
    before = listed(folder)
    out = ok(proj, "db.fix")
    added = listed(folder) - before - {"sqitch.plan"}
    if kind == "dbmate":
        assert len(added) == 1 and next(iter(added)).endswith("_fix_production_drift.sql")
        assert "-- migrate:down" in (folder / next(iter(added))).read_text()
    else:
        assert out.startswith(f"wrote migrations/{FIXED[kind][0]} (1 change)")
        assert added == set(FIXED[kind]) - {"sqitch.plan"}
    code, report = run_json(proj, "db.verify")
    assert (code, report["status"]) == (0, "parity"), report["differences"]
    assert report["summary"]["pending_in_production"] == [PENDING[kind]]


def test_an_edited_applied_file_is_told_by_its_tools_own_checksum(proj: Project, production: Production):
    folder = tree(proj.root / "migrations", FLYWAY)
    deployed, ledger_sql = PRODUCTION["flyway"]
    production.execute(deployed + ledger_sql + "UPDATE flyway_schema_history SET checksum = 42 WHERE version = '1.1';")
    ok(proj, "db.sync")
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert code == 1 and [(d["kind"], d["name"], d["status"]) for d in report["differences"]] == [
        ("migration", "1.1 V1_1__roles.sql", "different")]
    assert folder.is_dir()


def test_a_repeatable_runs_again_when_it_changes_and_only_then(proj: Project, production: Production):
    folder = tree(proj.root / "migrations", FLYWAY)
    ok(proj, "db.sync")
    assert "0 migrations applied" in ok(proj, "db.migrate")
    (folder / "R__user_emails.sql").write_text("CREATE OR REPLACE VIEW user_emails AS SELECT email, id FROM users;\n")
    assert "1 migration applied" in ok(proj, "db.migrate")
    with psycopg.connect(proj.url()) as conn:
        columns = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = 'user_emails'::regclass "
                               "AND attnum > 0 ORDER BY attnum").fetchall()
        rows = conn.execute("SELECT count(*) FROM pgparity.schema_migrations WHERE name = 'user_emails'").fetchone()
    assert columns == [("email",), ("id",)] and rows == (1,)
    assert "0 migrations applied" in ok(proj, "db.migrate")


def test_a_repeatable_changed_since_production_ran_it_is_compared_as_it_ran(proj: Project, production: Production):
    folder = tree(proj.root / "migrations", FLYWAY)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=proj.root, check=True)
    subprocess.run([*git, "add", "migrations"], cwd=proj.root, check=True)
    subprocess.run([*git, "commit", "-qm", "history"], cwd=proj.root, check=True)
    deployed, ledger_sql = PRODUCTION["flyway"]
    production.execute(deployed + ledger_sql)
    (folder / "R__user_emails.sql").write_text("CREATE OR REPLACE VIEW user_emails AS SELECT email, id FROM users;\n")
    ok(proj, "db.sync")
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert (code, report["differences"]) == (0, [])
    assert report["summary"]["pending_in_production"] == ["2 nickname", "user_emails (repeatable)"]
    assert "R__user_emails.sql changed since production last applied it" in report["production_position"]["notes"][0]
    assert "as it was then (from git's history)" in report["production_position"]["notes"][0]


def test_db_new_and_db_rollback_follow_the_folders_layout(proj: Project):
    folder = tree(proj.root / "migrations", DBMATE)
    ok(proj, "db.sync")
    assert "rolled back" in ok(proj, "db.rollback")
    with psycopg.connect(proj.url()) as conn:
        assert conn.execute("SELECT to_regclass('users') IS NOT NULL, "
                            "EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'users'::regclass "
                            "AND attname = 'nickname')").fetchone() == (True, False)
    out = ok(proj, "db.new", "add_bio")
    created = next(p for p in folder.iterdir() if p.name.endswith("_add_bio.sql"))
    assert out == f"wrote migrations/{created.name}\n"
    assert created.read_text().startswith("-- migrate:up\n-- add_bio: this migration's SQL.\n")
    (proj.root / "pgparity.toml").write_text('[migrations]\nformat = "flyway"\n')
    refused = proj.run("db.sync")
    assert refused.returncode == 2 and refused.stderr.count("looks like a dbmate migration, but [migrations] format "
                                                            "is flyway") == 5
    assert refused.stderr.splitlines()[-1] == "pgparity: migrations/: 5 lint errors, listed above"
    (proj.root / "pgparity.toml").write_text('[migrations]\nformat = "liquibase"\n')
    assert one_error_line(proj.run("db.sync")) == (
        "pgparity: pgparity.toml: migrations.format: 'liquibase' is not a migration format; pgparity reads "
        "pgparity, flyway, golang-migrate, dbmate, goose, sqitch")


def test_a_copy_in_another_layout_replays_to_the_same_schema(proj: Project):
    folder = tree(proj.root / "migrations", DBMATE)
    out = ok(proj, "db.convert", "--to", "flyway")
    copy = proj.root / "migrations-flyway"
    assert out == "wrote 4 migrations in flyway's layout to migrations-flyway/ (8 files); migrations/ is unchanged\n"
    assert sorted(p.name for p in copy.iterdir()) == [
        "U1__users.sql", "U2__roles.sql", "U3__email_index.sql", "U4__nickname.sql",
        "V1__users.sql", "V2__roles.sql", "V3__email_index.sql", "V4__nickname.sql"]
    assert (copy / "V3__email_index.sql").read_text() == (
        "-- pgparity: no-transaction\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n")
    assert listed(folder) == set(DBMATE)
    ok(proj, "db.sync")  # dev: the dbmate history
    compared = proj.run("db.diff", "--source", "dev", "--target", "migrations", "--json",
                        extra={"PGPARITY_MIGRATIONS": "migrations-flyway"})
    schema = [d for d in json.loads(compared.stdout)["differences"] if d["kind"] != "migration"]  # the ledgers differ
    assert compared.returncode in (0, 1) and schema == []
    assert "not empty" in one_error_line(proj.run("db.convert", "--to", "flyway"))
    assert "--to: 'atlas' is not a migration format" in one_error_line(proj.run("db.convert", "--to", "atlas"))


def test_a_goose_file_without_a_transaction_runs_statement_by_statement(proj: Project):
    concurrently = ("-- +goose NO TRANSACTION\n-- +goose Up\n"
                    "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n"
                    "CREATE INDEX CONCURRENTLY users_id_email_idx ON users (id, email);\n"
                    "-- +goose Down\nDROP INDEX users_email_idx;\nDROP INDEX users_id_email_idx;\n")
    folder = tree(proj.root / "migrations", {**GOOSE, "00004_indexes.sql": concurrently})
    assert errors(discover(folder)) == []
    ok(proj, "db.sync")
    with psycopg.connect(proj.url()) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND indisvalid "
                            "AND NOT indisprimary").fetchone() == (2,)
    (folder / "00005_broken.sql").write_text("-- +goose NO TRANSACTION\n-- +goose Up\n"
                                             "CREATE INDEX CONCURRENTLY users_nick_idx ON users (nickname);\n\n"
                                             "CREATE INDEX CONCURRENTLY users_bad_idx ON users (missing);\n")
    line = one_error_line(proj.run("db.migrate"))
    assert line.startswith("pgparity: migrations/00005_broken.sql:5: column \"missing\" does not exist")


def test_sqitch_verify_scripts_run_after_each_change_when_asked(proj: Project):
    folder = tree(proj.root / "migrations", SQITCH)
    (folder / "verify" / "roles.sql").write_text("BEGIN;\nSELECT 1 / count(*) FROM pg_class WHERE relname = 'roles';\n"
                                                 "ROLLBACK;\n")
    (proj.root / "pgparity.toml").write_text("[migrations]\nverify = true\n")
    ok(proj, "db.sync")
    (folder / "verify" / "users.sql").write_text("BEGIN;\nSELECT nickname FROM users;\nROLLBACK;\n")
    line = one_error_line(proj.run("db.sync"))
    assert line.startswith("pgparity: migrations/verify/users.sql:2: users.sql was applied, but its verify script "
                           "failed: column \"nickname\" does not exist")
    (proj.root / "pgparity.toml").write_text("[migrations]\nverify = false\n")
    ok(proj, "db.sync")  # not asked: the scripts are not run
    (proj.root / "pgparity.toml").write_text("[migrations]\nverify = 1\n")
    assert one_error_line(proj.run("db.sync")) == "pgparity: pgparity.toml: migrations.verify must be true or false, not 1"
