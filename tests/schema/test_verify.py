"""db.snapshot / db.diff / db.verify through the real command line.

Production is a separate database on the session's `pg_server`, reached as its superuser, so the
only thing keeping pgparity from writing to it is pgparity itself. One dev container serves the
whole module (each test resets the project folder); the template cache keys replays by content,
so sharing it across tests is exactly what happens on a developer's machine.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET

import psycopg
import pytest
from commands import ok, one_error_line, run_json, write
from conftest import Production, Project, scratch_database

from pgparity.database import connect_read_only
from pgparity.schema.serialize import FORMAT

VC = "character varying"

# The seed story: dev was built from the old schema, production was migrated since.
OLD_SCHEMA = """
CREATE TABLE users (id serial PRIMARY KEY, email varchar, password_hash varchar);
CREATE TABLE auth_tokens (id serial PRIMARY KEY, user_id int REFERENCES users, token varchar, token_type varchar);
CREATE TABLE roles (id serial PRIMARY KEY, name varchar, description varchar);
"""
MIGRATED_SCHEMA = """
CREATE TABLE users (id serial PRIMARY KEY, email varchar(255), password_hash varchar(255),
                    first_name varchar(100), last_name varchar(100), is_admin boolean DEFAULT false);
CREATE TABLE auth_tokens (id serial PRIMARY KEY, user_id int REFERENCES users, token varchar(255),
                          token_type varchar(50));
CREATE TABLE roles (id serial PRIMARY KEY, name varchar(100), description text);
"""
# (object, name, attribute, local, production, status), in the order verify reports them.
SEED_DIFFERENCES = [
    ("public.auth_tokens", "token", "type", VC, f"{VC}(255)", "different"),
    ("public.auth_tokens", "token_type", "type", VC, f"{VC}(50)", "different"),
    ("public.roles", "description", "type", VC, "text", "different"),
    ("public.roles", "name", "type", VC, f"{VC}(100)", "different"),
    ("public.users", "email", "type", VC, f"{VC}(255)", "different"),
    ("public.users", "first_name", None, None, f"{VC}(100)", "missing_in_local"),
    ("public.users", "is_admin", None, None, "boolean", "missing_in_local"),
    ("public.users", "last_name", None, None, f"{VC}(100)", "missing_in_local"),
    ("public.users", "password_hash", "type", VC, f"{VC}(255)", "different"),
]

# The ledger exactly as pgparity creates it (src/pgparity/ledger.py), made by hand in production.
LEDGER_DDL = """
CREATE SCHEMA pgparity;
CREATE TABLE pgparity.schema_migrations (
    version bigint NOT NULL, name text NOT NULL, checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(), execution_ms integer NOT NULL,
    tool_version text NOT NULL, PRIMARY KEY (version, name));
"""

STEPS = {
    "001_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);\n",
    "002_roles.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text);\n"
                     "ALTER TABLE users ADD COLUMN role_id int REFERENCES roles;\n",
    "003_audit.sql": "CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz DEFAULT now());\n",
}


# --- fixtures --------------------------------------------------------------------------------


# --- helpers ---------------------------------------------------------------------------------


def checksum(project: Project, file: str) -> str:
    return hashlib.sha256((project.root / "migrations" / file).read_bytes()).hexdigest()


def prepare(project: Project, migrations: dict[str, str], up: bool = False) -> None:
    """Migrations written, the dev database rebuilt from them, production's profile captured."""
    write(project, migrations)
    if up:  # sync starts the container itself; the seed story spells the step out
        ok(project, "db.up")
    ok(project, "db.sync")
    ok(project, "db.snapshot", "--from", "prod")


def rows(report: dict) -> list[tuple]:
    return [(d["scope"], d["kind"], d["object"], d["name"], d["attribute"], d["local"], d["production"],
             d["status"], d["ignored"]) for d in report["differences"]]


def dev_execute(project: Project, statement: str) -> None:
    with psycopg.connect(project.url(), autocommit=True) as conn:
        conn.execute(statement)


# --- db.snapshot --from prod -------------------------------------------------------------------


def footprint(production: Production) -> dict[str, object]:
    """What a write to production would change: relations, schemas, catalog rows, row counters, rows."""
    return {
        "relations": production.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
            " ORDER BY 1, 2"),
        "schemas": production.execute("SELECT nspname FROM pg_namespace ORDER BY 1"),
        "tuples": production.execute(
            "SELECT schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables ORDER BY 1, 2"),
        "objects": production.execute(
            "SELECT (SELECT count(*) FROM pg_proc), (SELECT count(*) FROM pg_type),"
            " (SELECT count(*) FROM pg_attribute), (SELECT count(*) FROM pg_constraint)"),
        "ledger": production.execute("SELECT version, name, checksum FROM pgparity.schema_migrations ORDER BY 1"),
        "users": production.execute("SELECT * FROM users ORDER BY id"),
    }


def test_snapshot_from_prod_is_deterministic_sorted_complete_and_never_writes(proj, production, image_major):
    # Tables created out of alphabetical order, ledger rows inserted newest first.
    production.execute(MIGRATED_SCHEMA + LEDGER_DDL)
    production.execute("INSERT INTO pgparity.schema_migrations (version, name, checksum, execution_ms, tool_version)"
                       " VALUES (2, 'roles', 'bbbb', 3, '0.1.0'), (1, 'users', 'aaaa', 5, '0.1.0')")
    production.execute("INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')")
    # Wait until the setup's own row counts are visible, so the comparison below is about pgparity alone.
    before = footprint(production)
    for _ in range(100):
        if ("public", "users", 2, 0, 0) in before["tuples"]:
            break
        production.execute("SELECT pg_sleep(0.05)")
        before = footprint(production)
    assert ("public", "users", 2, 0, 0) in before["tuples"]

    first = proj.run("db.snapshot", "--from", "prod")
    assert first.returncode == 0, first.stderr
    profile = proj.root / "parity" / "production.json"
    assert first.stdout.startswith(f"wrote parity/production.json (3 tables, PostgreSQL {image_major}.")  # named once
    text = profile.read_bytes()
    second = proj.run("db.snapshot", "--from", "prod")
    assert second.returncode == 0, second.stderr
    assert profile.read_bytes() == text

    document = json.loads(text)
    assert document["format"] == FORMAT
    assert [(t["schema"], t["name"]) for t in document["tables"]] == [
        ("public", "auth_tokens"), ("public", "roles"), ("public", "users")]
    users = next(t for t in document["tables"] if t["name"] == "users")
    assert [(c["name"], c["type"]) for c in users["columns"]] == [
        ("id", "integer"), ("email", f"{VC}(255)"), ("password_hash", f"{VC}(255)"),
        ("first_name", f"{VC}(100)"), ("last_name", f"{VC}(100)"), ("is_admin", "boolean")]
    assert [s["name"] for s in document["sequences"]] == ["auth_tokens_id_seq", "roles_id_seq", "users_id_seq"]
    assert document["ledger"] == {"kind": "pgparity", "table": "pgparity.schema_migrations", "entries": [
        {"version": "1", "name": "users", "checksum": "aaaa", "through": False, "failed": False},
        {"version": "2", "name": "roles", "checksum": "bbbb", "through": False, "failed": False}]}
    assert "pgparity" not in [s["name"] for s in document["schemas"]]  # the ledger is data, not schema
    assert "a@example.com" not in text.decode()  # schema only, never rows

    # A session like the one snapshot used refuses writes although the role is a superuser.
    with connect_read_only(production.url) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (True,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE written_by_pgparity (id int)")
    assert footprint(production) == before


def test_snapshot_without_a_usable_production_url_says_so_in_one_line(proj, production):
    unset = {k: v for k, v in proj.env.items() if k != "PGPARITY_PROD_URL"}
    line = one_error_line(Project(proj.name, proj.root, unset).run("db.snapshot", "--from", "prod"))
    assert "PGPARITY_PROD_URL" in line

    wrong = production.url.replace(":test-secret@", ":Wr0ng-Pa55w0rd@")
    assert wrong != production.url
    result = proj.run("db.snapshot", "--from", "prod", extra={"PGPARITY_PROD_URL": wrong})
    line = one_error_line(result)
    assert "Wr0ng-Pa55w0rd" not in result.stdout + result.stderr
    assert "postgres:****@" in line and production.name in line and "password authentication failed" in line
    assert not (proj.root / "parity").exists()


# --- db.verify: production drift -------------------------------------------------------------


def test_seed_story_verify_reports_the_nine_production_differences(proj, production):
    production.execute(MIGRATED_SCHEMA)
    prepare(proj, {"001_init.sql": OLD_SCHEMA}, up=True)

    code, report = run_json(proj, "db.verify")
    assert code == 1 and report["status"] == "drift"
    assert rows(report) == [("production", "column", *d, False) for d in SEED_DIFFERENCES]
    assert report["summary"] == {"differences": 9, "ignored": 0, "by_scope": {"production": 9},
                                 "pending_in_production": []}
    # Production keeps no ledger and none was created for it.
    assert production.execute("SELECT nspname FROM pg_namespace WHERE nspname = 'pgparity'") == []

    human = proj.run("db.verify")
    assert human.returncode == 1, human.stderr
    out = human.stdout
    assert "Production drift" in out and "Local drift" not in out
    for heading in ("public.users", "public.auth_tokens", "public.roles"):
        assert heading in out
    for header in ("Column", "Local", "Production", "Status"):
        assert header in out
    lines = out.splitlines()
    email = next(line for line in lines if " email " in line)
    assert "Different" in email and f"{VC}(255)" in email
    first_name = next(line for line in lines if " first_name " in line)
    assert "Missing in local" in first_name and f"{VC}(100)" in first_name
    assert sum("Different" in line for line in lines) == 6
    assert sum("Missing in local" in line for line in lines) == 3
    assert lines[-1].startswith("drift: 9 differences"), lines[-1]


def test_verify_prints_junit_and_markdown_for_ci(proj, production):
    production.execute(MIGRATED_SCHEMA)
    prepare(proj, {"001_init.sql": OLD_SCHEMA}, up=True)
    summary = proj.root / "summary.md"
    junit = proj.run("db.verify", "--format", "junit", extra={"CI": "1", "GITHUB_STEP_SUMMARY": str(summary)})
    assert junit.returncode == 1, junit.stderr
    suites = {suite.get("name"): suite for suite in ET.fromstring(junit.stdout).findall("testsuite")}
    assert list(suites) == ["local drift", "production drift", "server version"]
    production_drift = suites["production drift"]
    assert (production_drift.get("tests"), production_drift.get("failures")) == ("9", "9")
    assert [case.get("name") for case in suites["local drift"].iter("testcase")] == ["no differences"]
    cases = {(case.get("classname"), case.get("name")) for case in production_drift.iter("testcase")}
    assert ("pgparity.production.public.users", "email") in cases
    assert json.loads((proj.root / "pgparity-report.json").read_text())["summary"]["differences"] == 9

    markdown = proj.run("db.verify", "--format", "markdown", extra={"CI": ""})
    assert markdown.returncode == 1, markdown.stderr
    assert markdown.stdout.startswith("## pgparity: drift\n\ndrift: 9 differences (production 9)\n")
    assert markdown.stdout.count("\n| column | `public.") == 9
    assert "| column | `public.users` | `email` type | `character varying` | `character varying(255)` | Different |" \
        in markdown.stdout
    assert summary.read_text() == markdown.stdout  # the job summary got the same report


def test_db_up_mirrors_production_roles_and_names_what_it_cannot_mirror(proj, production, reader, image_major,
                                                                        image_repository):
    """Roles named by production's grants are created on the dev server without a password; what the image
    cannot give (another major, an extension it lacks) is a warning naming production's value."""
    production.execute(OLD_SCHEMA + f"GRANT SELECT ON users TO {reader};")
    prepare(proj, {"001_init.sql": OLD_SCHEMA})
    profile = proj.root / "parity" / "production.json"
    document = json.loads(profile.read_text())
    document["server"]["version_num"] = 990001
    document["extensions"].append({"name": "no_such_extension", "version": "1.0", "schema": "public"})
    profile.write_text(json.dumps(document))

    up = proj.run("db.up")
    assert up.returncode == 0, up.stderr
    assert f"production runs PostgreSQL 99.1, dev runs {image_major}." in up.stderr
    assert f"unset PGPARITY_IMAGE so that db.up runs {image_repository}:99" in up.stderr
    assert "extension no_such_extension 1.0 is used in production but not available in" in up.stderr
    with psycopg.connect(proj.url(), autocommit=True) as conn:
        assert conn.execute("SELECT rolcanlogin, rolpassword IS NULL FROM pg_authid WHERE rolname = %s",
                            (reader,)).fetchall() == [(False, True)]


def test_a_profile_captured_after_db_up_is_mirrored_before_verify_compares(proj, production):
    """The seed story in its natural order against a production whose server settings differ from
    pgparity's defaults (TimeZone=Etc/UTC, the session server's own, vs the dev default UTC).

    `db.up` created the dev container before any profile existed; once `db.snapshot` has captured
    production's settings, verify must compare a replay made on a server that mirrors them. Otherwise
    a tenth, spurious `setting TimeZone` difference appears in the production scope, which no
    migration can fix.
    """
    production.execute(f"ALTER DATABASE {production.name} RESET timezone")
    assert production.execute("SHOW TimeZone") == [("Etc/UTC",)]
    production.execute(MIGRATED_SCHEMA)
    prepare(proj, {"001_init.sql": OLD_SCHEMA}, up=True)

    code, report = run_json(proj, "db.verify")
    assert [d for d in report["differences"] if d["kind"] == "setting"] == []
    assert code == 1
    assert rows(report) == [("production", "column", *d, False) for d in SEED_DIFFERENCES]


def test_another_minor_release_in_production_is_a_warning_not_drift(proj, production):
    production.execute(OLD_SCHEMA)
    prepare(proj, {"001_init.sql": OLD_SCHEMA})
    profile = proj.root / "parity" / "production.json"
    document = json.loads(profile.read_text())
    dev_num = document["server"]["version_num"]
    document["server"]["version_num"] = dev_num + 2
    profile.write_text(json.dumps(document))

    code, report = run_json(proj, "db.verify")
    assert (code, report["status"], report["differences"]) == (0, "parity", [])
    dev_release, prod_release = (f"{dev_num // 10000}.{dev_num % 10000 + bump}" for bump in (0, 2))
    assert report["server_version"] == {
        "local": dev_release, "production": prod_release, "status": "minor_mismatch",
        "message": f"production runs PostgreSQL {prod_release}, dev runs {dev_release}"}
    human = proj.run("db.verify")
    assert human.returncode == 0 and human.stdout.strip() == "parity: no differences"
    assert f"pgparity: warning: production runs PostgreSQL {prod_release}, dev runs {dev_release}" in human.stderr


def test_production_on_another_major_fails_verify_in_its_own_section_and_fix_writes_nothing(proj, newer_server):
    """Production runs a newer major than dev's pinned image: no schema rows, a version section, exit 1."""
    with scratch_database(newer_server) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(OLD_SCHEMA)
        newer = Project(proj.name, proj.root, {**proj.env, "PGPARITY_PROD_URL": url})
        prepare(newer, {"001_init.sql": OLD_SCHEMA})
        production = json.loads((proj.root / "parity" / "production.json").read_text())["server"]["version_num"]
        prod_release = f"{production // 10000}.{production % 10000}"

        code, report = run_json(newer, "db.verify")
        drift = [row for row in report["differences"] if not row["version_only"]]  # initdb's own, between 13 and 15+
        assert (code, report["status"], drift) == (1, "version_mismatch", [])
        assert report["summary"]["differences"] == 0
        version = report["server_version"]
        assert (version["production"], version["status"]) == (prod_release, "major_mismatch")
        assert version["message"] == f"production runs PostgreSQL {prod_release}, dev runs {version['local']}"
        human = newer.run("db.verify")
        assert human.returncode == 1
        assert f"Server version\nproduction runs PostgreSQL {prod_release}" in human.stdout
        assert "unset PGPARITY_IMAGE" in human.stdout and "Different" not in human.stdout

        before = sorted(path.name for path in (proj.root / "migrations").iterdir())
        fixed = newer.run("db.fix")
        assert fixed.returncode == 2 and "nothing to apply" in fixed.stderr
        assert sorted(path.name for path in (proj.root / "migrations").iterdir()) == before


def test_production_built_from_the_same_migrations_is_parity(proj, production):
    production.execute(OLD_SCHEMA)
    prepare(proj, {"001_init.sql": OLD_SCHEMA})

    code, report = run_json(proj, "db.verify")
    assert (code, report["status"], report["differences"]) == (0, "parity", [])
    assert report["summary"]["differences"] == 0

    human = proj.run("db.verify")
    assert human.returncode == 0, human.stderr
    assert human.stdout.strip() == "parity: no differences"


def test_production_ledger_sets_what_is_compared_and_pending(proj, production):
    write(proj, STEPS)
    production.execute(STEPS["001_users.sql"] + STEPS["002_roles.sql"] + LEDGER_DDL)
    for version, name, file in ((1, "users", "001_users.sql"), (2, "roles", "002_roles.sql")):
        production.execute(
            "INSERT INTO pgparity.schema_migrations (version, name, checksum, execution_ms, tool_version)"
            " VALUES (%s, %s, %s, 1, '0.1.0')", (version, name, checksum(proj, file)))
    prepare(proj, {})

    code, report = run_json(proj, "db.verify")
    assert (code, report["status"], report["differences"]) == (0, "parity", [])
    assert report["summary"]["pending_in_production"] == ["3 audit"]
    human = proj.run("db.verify")
    assert human.returncode == 0, human.stderr
    assert human.stdout.strip().splitlines()[-1] == (
        "parity: no differences; 1 migration pending in production: 3 audit")

    # Production recorded another file under number 2 than the one in migrations/.
    production.execute("UPDATE pgparity.schema_migrations SET checksum = repeat('0', 64) WHERE version = '2'")
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert code == 1 and report["status"] == "drift"
    assert rows(report) == [("production", "migration", "pgparity.schema_migrations", "2 roles", "checksum",
                             checksum(proj, "002_roles.sql"), "0" * 64, "different", False)]
    assert report["summary"]["pending_in_production"] == ["3 audit"]


# --- db.verify: local drift ------------------------------------------------------------------


def test_local_drift_from_a_hand_edit_and_from_a_forgotten_sync(proj, production):
    production.execute(OLD_SCHEMA)
    prepare(proj, {"001_init.sql": OLD_SCHEMA})
    dev_execute(proj, "ALTER TABLE users ADD COLUMN nickname text")

    code, report = run_json(proj, "db.verify")
    assert code == 1 and report["status"] == "drift"
    assert rows(report) == [
        ("local", "column", "public.users", "nickname", None, "text", None, "missing_in_production", False)]
    assert report["summary"]["by_scope"] == {"local": 1}

    human = proj.run("db.verify")
    assert human.returncode == 1
    assert "Local drift" in human.stdout and "Production drift" not in human.stdout
    assert "Dev" in human.stdout and "Migrations" in human.stdout
    nickname = next(line for line in human.stdout.splitlines() if " nickname " in line)
    assert "Missing in migrations" in nickname
    assert human.stdout.strip().splitlines()[-1] == "drift: 1 difference (local 1)"

    # A new migration pulled in but never synced: dev lacks its column and its ledger row.
    write(proj, {"002_bio.sql": "ALTER TABLE users ADD COLUMN bio text;\n"})
    code, report = run_json(proj, "db.verify")
    assert code == 1
    found = rows(report)
    assert ("local", "column", "public.users", "bio", None, None, "text", "missing_in_local", False) in found
    assert ("local", "migration", "pgparity.schema_migrations", "2 bio", None, None, checksum(proj, "002_bio.sql"),
            "missing_in_local", False) in found
    assert ("local", "column", "public.users", "nickname", None, "text", None, "missing_in_production",
            False) in found
    # Production keeps no ledger and lacks bio: its position is inferred as 001, and 002 is pending there.
    assert [r for r in found if r[0] == "production"] == []
    assert report["summary"]["by_scope"] == {"local": 3}
    assert report["summary"]["pending_in_production"] == ["2 bio"]
    assert report["production_position"]["evidence"] == (
        "production matches 001_init.sql; 002_bio.sql is not applied (users.bio absent)")


# --- the ignore list -------------------------------------------------------------------------


def test_fix_for_dev_speaks_of_the_dev_database_and_the_migrations(proj, production):
    write(proj, {"001_users.sql": STEPS["001_users.sql"]})
    ok(proj, "db.sync")
    dev_execute(proj, "ALTER TABLE users ADD COLUMN nickname text; CREATE TABLE notes (id int)")
    fixed = ok(proj, "db.fix", "--target", "dev")
    assert "wrote migrations/002_fix_local_drift.sql (2 changes)" in fixed
    text = (proj.root / "migrations" / "002_fix_local_drift.sql").read_text()
    assert "makes the database it runs on (the migrations' schema) match the dev database." in text
    assert "only in the dev database" in text and "production" not in text
    rollback = (proj.root / "migrations" / "002_fix_local_drift.down.sql").read_text()
    assert "match the migrations' schema again once the destructive statements commented out below" in rollback


def test_ignored_differences_are_reported_but_not_counted(proj, production):
    production.execute(MIGRATED_SCHEMA)
    prepare(proj, {"001_init.sql": OLD_SCHEMA})
    (proj.root / "pgparity.toml").write_text('[verify]\nignore = ["column:public.users.first_name"]\n')

    code, report = run_json(proj, "db.verify")
    assert code == 1 and report["status"] == "drift"
    assert len(report["differences"]) == 9
    ignored = [d for d in report["differences"] if d["ignored"]]
    assert [(d["object"], d["name"]) for d in ignored] == [("public.users", "first_name")]
    assert report["summary"]["differences"] == 8 and report["summary"]["ignored"] == 1
    assert report["summary"]["by_scope"] == {"production": 8}

    # Production now differs from the migrations only by that accepted column.
    production.execute("""
        ALTER TABLE users ALTER email TYPE varchar, ALTER password_hash TYPE varchar, DROP last_name, DROP is_admin;
        ALTER TABLE auth_tokens ALTER token TYPE varchar, ALTER token_type TYPE varchar;
        ALTER TABLE roles ALTER name TYPE varchar, ALTER description TYPE varchar;
    """)
    ok(proj, "db.snapshot", "--from", "prod")
    code, report = run_json(proj, "db.verify")
    assert (code, report["status"]) == (0, "parity")
    assert rows(report) == [("production", "column", "public.users", "first_name", None, None, f"{VC}(100)",
                             "missing_in_local", True)]
    assert report["summary"]["differences"] == 0 and report["summary"]["ignored"] == 1
    human = proj.run("db.verify")
    assert human.returncode == 0, human.stderr
    assert "Missing in local (ignored)" in human.stdout
    assert human.stdout.strip().splitlines()[-1] == "parity: no differences; 1 ignored"


# --- db.diff ---------------------------------------------------------------------------------


def test_diff_between_any_two_endpoints(proj, production):
    production.execute(MIGRATED_SCHEMA)
    prepare(proj, {"001_init.sql": OLD_SCHEMA})

    code, report = run_json(proj, "db.diff", "--source", "dev", "--target", "profile")
    assert code == 1 and report["status"] == "drift"
    assert {r[0] for r in rows(report)} == {"diff"}
    assert {r[1] for r in rows(report)} <= {"column", "migration"}  # dev's ledger row, if anything else
    columns = [r[2:8] for r in rows(report) if r[1] == "column"]
    assert columns == list(SEED_DIFFERENCES)

    code, report = run_json(proj, "db.diff", "--source", "migrations", "--target", "dev")
    assert (code, report["status"], report["differences"]) == (0, "parity", [])

    ok(proj, "db.snapshot", "--from", "dev", "--output", "snap.json")
    assert json.loads((proj.root / "snap.json").read_text())["ledger"]["entries"][0]["name"] == "init"
    code, report = run_json(proj, "db.diff", "--source", "snap.json", "--target", "dev")
    assert (code, report["differences"]) == (0, [])

    dev_execute(proj, "ALTER TABLE roles ADD COLUMN archived boolean")
    code, report = run_json(proj, "db.diff", "--source", "snap.json", "--target", "dev")
    assert code == 1
    assert rows(report) == [("diff", "column", "public.roles", "archived", None, None, "boolean",
                             "missing_in_local", False)]
    human = proj.run("db.diff", "--source", "snap.json", "--target", "dev")
    assert human.returncode == 1
    assert "Source" in human.stdout and "Target" in human.stdout and "Missing in source" in human.stdout
    assert human.stdout.strip().splitlines()[-1] == "drift: 1 difference (diff 1)"

    line = one_error_line(proj.run("db.diff", "--source", "missing.json", "--target", "dev"))
    assert "missing.json" in line
    (proj.root / "corrupt.json").write_text('{"format": 1, "server": ')
    line = one_error_line(proj.run("db.diff", "--source", "dev", "--target", "corrupt.json"))
    assert "corrupt.json" in line and "invalid JSON" in line


# --- lint first ------------------------------------------------------------------------------


def test_lint_errors_stop_verify_before_any_database_is_touched(project, docker_client):
    """A project whose container does not exist yet: verify must refuse without creating it."""
    write(project, {"001_init.sql": OLD_SCHEMA, "002_bad.sql": "\\i other.sql\nSELECT 1;\n"})
    label = {"label": f"pgparity.project={project.name}"}

    result = project.run("db.verify", "--json")
    line = one_error_line(result)
    assert "lint error" in line and "002_bad.sql:1" in line and "meta-command" in line

    human = project.run("db.verify")
    assert human.returncode == 2 and human.stdout == ""
    assert human.stderr.count("002_bad.sql:1") == 1  # the finding, listed once; the last line only counts
    assert human.stderr.strip().splitlines()[-1] == "pgparity: migrations/: 1 lint error, listed above"
    assert not [text for text in human.stderr.splitlines() if text.startswith(("drift", "parity"))]
    assert docker_client.containers.list(all=True, filters=label) == []
    assert docker_client.volumes.list(filters=label) == []
