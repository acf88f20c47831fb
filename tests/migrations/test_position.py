"""Where production stands: every tool's ledger, the explicit override, inference, and what verify makes of it.

Each production is a database on the session server laid out as the other tool would leave it (its
ledger table and rows made by hand: the tools themselves are not needed), driven through the command line.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from commands import ok, one_error_line, run_json, write
from conftest import Production, Project

from pgparity.migrations import effects
from pgparity.migrations.content import Content
from pgparity.migrations.model import Migration, Version
from pgparity.migrations.position import from_ledger, through
from pgparity.schema.model import Ledger, LedgerEntry

FILES = {
    "001_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n",
    "002_roles.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text);\n",
    "003_nickname.sql": "ALTER TABLE users ADD COLUMN nickname text;\n",
}
DEPLOYED = FILES["001_users.sql"] + FILES["002_roles.sql"]

# Each tool's ledger as that tool creates it, holding 001 and 002.
LEDGERS = {
    "flyway": """
        CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
            description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL,
            checksum int, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
            execution_time int NOT NULL, success boolean NOT NULL);
        CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);
        INSERT INTO flyway_schema_history VALUES
            (1, '1', 'users', 'SQL', 'V1__users.sql', 12345, 'deploy', now(), 5, true),
            (2, '2', 'roles', 'SQL', 'V2__roles.sql', -678, 'deploy', now(), 5, true),
            (3, '3', 'nickname', 'SQL', 'V3__nickname.sql', 99, 'deploy', now(), 5, false),
            (4, NULL, 'views', 'SQL', 'R__views.sql', 7, 'deploy', now(), 5, true);
    """,
    "golang-migrate": """
        CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
        INSERT INTO schema_migrations VALUES (2, false);
    """,
    "dbmate": """
        CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
        INSERT INTO schema_migrations VALUES ('001'), ('002');
    """,
    "rails": """
        CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
        CREATE TABLE ar_internal_metadata (key varchar PRIMARY KEY, value varchar, created_at timestamp,
                                           updated_at timestamp);
        INSERT INTO schema_migrations VALUES ('1'), ('2');
    """,
    "goose": """
        CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL,
                                       is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
        INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true),
                                                                       (3, false);
    """,
    "sqitch": """
        CREATE SCHEMA sqitch;
        CREATE TABLE sqitch.projects (project text PRIMARY KEY, uri text, created_at timestamptz DEFAULT now());
        CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text, change text NOT NULL,
                                     project text NOT NULL, note text NOT NULL DEFAULT '',
                                     committed_at timestamptz NOT NULL DEFAULT clock_timestamp());
        INSERT INTO sqitch.changes (change_id, script_hash, change, project)
            VALUES ('a1', 'h1', 'users', 'app'), ('a2', 'h2', 'roles', 'app');
    """,
    "custom": """
        CREATE TABLE migration_history (id serial PRIMARY KEY, migration_name text NOT NULL,
                                        applied_at timestamptz DEFAULT now());
        INSERT INTO migration_history (migration_name) VALUES ('001_users'), ('002_roles');
    """,
}
TABLES = {"flyway": "public.flyway_schema_history", "golang-migrate": "public.schema_migrations",
          "dbmate": "public.schema_migrations", "rails": "public.schema_migrations",
          "goose": "public.goose_db_version", "sqitch": "sqitch.changes", "custom": "public.migration_history"}
CUSTOM = '[production]\nledger = { table = "public.migration_history", version = "migration_name" }\n'


def migration(version: int, name: str, sql: str = "SELECT 1;", in_production: bool = False) -> Migration:
    return Migration(Version.of(version), name, Path(f"{version:03}_{name}.sql"), Content.of(sql), f"sum{version}",
                     False, None, in_production=in_production)


PLAN = tuple(migration(i, name, sql) for i, (name, sql) in enumerate(
    [("users", FILES["001_users.sql"]), ("roles", FILES["002_roles.sql"]), ("nickname", FILES["003_nickname.sql"])],
    start=1))


def entry(version: str, name: str = "", checksum: str | None = None, through: bool = False,
          failed: bool = False) -> LedgerEntry:
    return LedgerEntry(version, name, checksum, through, failed)


# --- pure: matching a ledger to the files -----------------------------------------------------------


def test_versions_names_and_stems_each_find_their_file():
    cases = {
        "flyway": [entry("1", "V1__users.sql"), entry("2", "V2__roles.sql")],
        "dbmate": [entry("001"), entry("002")],
        "sqitch": [entry("", "users", "h1"), entry("", "roles", "h2")],
        "custom": [entry("001_users"), entry("002_roles.sql")],
        "pgparity": [entry("1", "users", "sum1"), entry("2", "roles", "sum2")],
    }
    for kind, entries in cases.items():
        position = from_ledger(PLAN, Ledger(kind, "public.t", tuple(entries)))
        assert [m.name for m in position.pending] == ["nickname"], kind
        assert position.differences == () and position.notes == (), kind


def test_a_row_with_no_file_and_another_checksum_are_production_drift():
    position = from_ledger(PLAN, Ledger("pgparity", "pgparity.schema_migrations", (
        entry("1", "users", "sum1"), entry("2", "roles", "edited"), entry("9", "gone", "x"))))
    assert [(d.name, d.attribute, d.source, d.target, d.status) for d in position.differences] == [
        ("2 roles", "checksum", "sum2", "edited", "different"), ("9 gone", None, None, "x", "missing_in_local")]
    assert "records 9 gone, which no migration file is" in position.remarks[-1]


def test_a_dirty_golang_migrate_row_says_so_and_its_file_is_pending():
    position = from_ledger(PLAN, Ledger("golang-migrate", "public.schema_migrations", (entry("2", through=True, failed=True),)))
    assert [m.name for m in position.applied] == ["users"]
    assert [m.name for m in position.pending] == ["roles", "nickname"]
    assert any("DIRTY at version 2" in note for note in position.notes)


def test_out_of_order_and_failed_runs_are_noted():
    position = from_ledger(PLAN, Ledger("flyway", "public.flyway_schema_history", (
        entry("1", "V1__users.sql"), entry("3", "V3__nickname.sql"), entry("2", "V2__roles.sql", failed=True))))
    assert [m.name for m in position.pending] == ["roles"]
    assert any("2 V2__roles.sql failed in production" in note for note in position.notes)
    assert any("002_roles.sql is not applied in production although later migrations are" in note
               for note in position.notes)


def test_applied_through_and_files_that_production_already_has():
    plan = PLAN + (migration(4, "fix_production_drift", in_production=True),)
    position = through(plan, 2)
    assert [m.version.number for m in position.applied] == [1, 2, 4] and [m.version.number for m in position.pending] == [3]


# --- pure: effects read from the parse ------------------------------------------------------------


def test_effects_follow_creations_renames_and_drops():
    state: set = set()
    for sql in ("CREATE TABLE users (id int CONSTRAINT users_pk PRIMARY KEY, email text); "
                "CREATE INDEX users_email ON users (email); SET search_path TO app, public; "
                "CREATE TYPE mood AS ENUM ('ok');",
                "ALTER TABLE public.users RENAME TO people; ALTER TABLE public.people RENAME COLUMN email TO mail; "
                "ALTER TYPE app.mood ADD VALUE 'sad'; DROP INDEX public.users_email;"):
        effects.applied(state, effects.of_sql(sql))
    assert state == {("relation", "public", "people"), ("column", "public", "people", "id"),
                     ("column", "public", "people", "mail"), ("constraint", "public", "people", "users_pk"),
                     ("type", "app", "mood"), ("label", "app", "mood", "ok"), ("label", "app", "mood", "sad")}
    assert not effects.of_sql("CREATE TABLE (").readable


# --- real servers: every ledger kind --------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(LEDGERS))
def test_each_tools_ledger_sets_what_production_applied(kind, proj: Project, production: Production):
    production.execute(DEPLOYED + LEDGERS[kind])
    write(proj, FILES)
    if kind == "custom":
        (proj.root / "pgparity.toml").write_text(CUSTOM)
    ok(proj, "db.sync")
    captured = ok(proj, "db.snapshot", "--from", "prod")
    assert f"{kind} ledger {TABLES[kind]}" in captured and "001_users.sql … 002_roles.sql" in captured

    profile = json.loads((proj.root / "parity" / "production.json").read_text())
    assert profile["ledger"]["kind"] == kind and profile["ledger"]["table"] == TABLES[kind]
    hidden = {f"{t['schema']}.{t['name']}" for t in profile["tables"]}
    assert TABLES[kind] not in hidden and "public.ar_internal_metadata" not in hidden
    assert "sqitch" not in [s["name"] for s in profile["schemas"]]

    code, report = run_json(proj, "db.verify")
    assert (code, report["status"], report["differences"]) == (0, "parity", [])
    assert report["summary"]["pending_in_production"] == ["3 nickname"]
    assert report["production_position"]["source"] == f"{kind} ledger {TABLES[kind]}"
    human = proj.run("db.verify")
    assert human.returncode == 0, human.stderr
    assert "Pending in production" in human.stdout and "migrations/003_nickname.sql" in human.stdout
    assert proj.run("db.verify", "--fail-on-pending").returncode == 1

    # Nothing in production differs from what it applied, so there is nothing to fix, and no DROP of 003.
    refused = one_error_line(proj.run("db.fix", "--no-apply"))
    assert "nothing to apply" in refused
    assert sorted(p.name for p in (proj.root / "migrations").iterdir()) == sorted(FILES)


def test_a_configured_ledger_that_is_not_there_is_one_clear_line(proj: Project, production: Production):
    production.execute(DEPLOYED)
    write(proj, FILES)
    (proj.root / "pgparity.toml").write_text(CUSTOM)
    line = one_error_line(proj.run("db.snapshot", "--from", "prod"))
    assert "pgparity.toml: [production] ledger: table public.migration_history not found" in line
    (proj.root / "pgparity.toml").write_text('[production]\napplied_through = "x6"\n')
    assert "production.applied_through must be a migration version" in one_error_line(proj.run("db.verify"))


def test_a_dirty_row_is_said_loudly_and_a_row_without_a_file_is_drift(proj: Project, production: Production):
    production.execute(DEPLOYED + LEDGERS["golang-migrate"] + "UPDATE schema_migrations SET dirty = true;")
    write(proj, FILES)
    ok(proj, "db.sync")
    ok(proj, "db.snapshot", "--from", "prod")
    human = proj.run("db.verify")
    assert "DIRTY at version 2" in human.stderr
    code, report = run_json(proj, "db.verify")
    assert report["summary"]["pending_in_production"] == ["2 roles", "3 nickname"]
    # 002 ran in full in production although the ledger calls it dirty: its table is drift against 001.
    assert code == 1 and [(d["kind"], d["object"]) for d in report["differences"]] == [
        ("table", "public.roles"), ("sequence", "public.roles_id_seq")]

    production.execute("DROP TABLE schema_migrations;" + LEDGERS["dbmate"] + "INSERT INTO schema_migrations VALUES ('007');")
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert code == 1
    assert [(d["kind"], d["object"], d["name"], d["status"]) for d in report["differences"]] == [
        ("migration", "public.schema_migrations", "007", "missing_in_local")]


# --- real servers: no ledger at all -----------------------------------------------------------------

EIGHT = {
    "001_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email varchar(255) NOT NULL);\n",
    "002_orders.sql": "CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users);\n",
    "003_index.sql": "CREATE INDEX orders_user_idx ON orders (user_id);\n",
    "004_status.sql": "CREATE TYPE order_status AS ENUM ('new', 'paid');\n"
                      "ALTER TABLE orders ADD COLUMN status order_status NOT NULL DEFAULT 'new';\n",
    "005_touch.sql": "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n",
    "006_rename.sql": "ALTER TABLE users RENAME COLUMN email TO mail;\n",
    "007_nickname.sql": "ALTER TABLE users ADD COLUMN nickname text;\n",
    "008_drop_index.sql": "DROP INDEX orders_user_idx;\n",
}


def first(files: dict[str, str], count: int) -> str:
    return "".join(list(files.values())[:count])


def test_a_production_without_a_ledger_is_placed_by_its_schema(proj: Project, production: Production):
    production.execute(first(EIGHT, 6))
    write(proj, EIGHT)
    ok(proj, "db.sync")
    captured = ok(proj, "db.snapshot", "--from", "prod")
    assert "production matches 001_users.sql … 006_rename.sql; 007_nickname.sql is not applied (users.nickname absent)" \
        in captured
    code, report = run_json(proj, "db.verify")
    assert (code, report["differences"]) == (0, [])
    assert report["summary"]["pending_in_production"] == ["7 nickname", "8 drop_index"]
    code, report = run_json(proj, "db.diff", "--source", "migrations", "--target", "profile")
    assert (code, report["differences"], report["summary"]["pending_in_production"]) == (
        0, [], ["7 nickname", "8 drop_index"])

    # A hot fix by hand in production: verify names it, fix writes only it, and verify is green after.
    production.execute("ALTER TABLE orders ADD COLUMN note text")
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert code == 1 and [(d["scope"], d["object"], d["name"], d["status"]) for d in report["differences"]] == [
        ("production", "public.orders", "note", "missing_in_local")]
    ok(proj, "db.fix")
    fix = (proj.root / "migrations" / "009_fix_production_drift.sql").read_text()
    assert fix.startswith("-- pgparity: in-production\n")
    assert "ADD COLUMN \"note\" text" in fix and "nickname" not in fix and "DROP" not in fix.split("-- Rollback (the same")[0]
    code, report = run_json(proj, "db.verify")
    assert (code, report["differences"]) == (0, [])
    assert report["summary"]["pending_in_production"] == ["7 nickname", "8 drop_index"]
    # Deployed to production, the fix changes nothing there.
    production.execute(fix)
    assert production.execute("SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'") == [(1,)]


def test_an_unreadable_match_is_called_partial_and_stamp_settles_it(proj: Project, production: Production):
    production.execute(first(EIGHT, 2) + "ALTER TABLE users ADD COLUMN nickname text;")
    write(proj, {**{name: EIGHT[name] for name in list(EIGHT)[:2]}, "003_backfill.sql": "UPDATE users SET id = id;\n",
                 "004_nickname.sql": EIGHT["007_nickname.sql"]})
    ok(proj, "db.sync")
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert (code, report["production_position"]["pending"]) == (0, [])

    production.execute("ALTER TABLE users DROP COLUMN nickname")
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    position = report["production_position"]
    assert position["pending"] == ["3 backfill", "4 nickname"]
    assert any("ambiguous" in note and "003_backfill.sql" in note for note in position["notes"])

    refused = proj.run("db.stamp", "3")
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    assert "no migration in migrations/ has version 12" in one_error_line(proj.run("db.stamp", "12", "--yes"))
    (proj.root / "pgparity.toml").write_text("# kept\n[verify]\nignore = []\n")
    ok(proj, "db.stamp", "003", "--yes")
    text = (proj.root / "pgparity.toml").read_text()
    assert text.startswith("# kept\n") and 'applied_through = "003"' in text
    code, report = run_json(proj, "db.verify")
    assert report["production_position"]["pending"] == ["4 nickname"] and code == 0


# --- real servers: dev after a dump of a production without a ledger ---------------------------------


def test_a_restored_dump_records_where_production_stood(proj: Project, production: Production):
    production.execute(first(EIGHT, 6) + "INSERT INTO users (mail) VALUES ('a@x'), ('b@x')")
    write(proj, EIGHT)
    env = {"PGPARITY_SANITIZE_SECRET": "position-test-secret-0123"}
    (proj.root / "pgparity.toml").write_text('[sanitize.columns]\n"public.users.mail" = "email"\n')
    dumped = proj.run("db.dump", extra=env)
    assert dumped.returncode == 0, dumped.stderr
    [archive] = (proj.root / "dumps").glob("*.zip")
    with zipfile.ZipFile(archive) as opened:
        assert json.loads(opened.read("manifest.json"))["ledger"] is None

    synced = proj.run("db.sync", "--from-dump", f"dumps/{archive.name}")
    assert synced.returncode == 0, synced.stderr
    assert "production matches 001_users.sql … 006_rename.sql" in synced.stderr
    assert "2 migrations applied to app" in synced.stdout
    migrated = ok(proj, "db.migrate")
    assert "0 migrations applied" in migrated
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert (code, [d for d in report["differences"] if d["scope"] == "local"]) == (0, [])
