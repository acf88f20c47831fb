"""Diff: pairs of real databases that differ in exactly one thing, plus pure-logic cases."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql

from pgparity.catalog import Snapshot, inspect
from pgparity.catalog.model import Column, Migration, Schema, ServerVersion, Table
from pgparity.diff import KINDS, Difference, compare

READER = "pgparity_test_reader"

Build = Callable[[str, str, str], tuple[Snapshot, Snapshot]]


@pytest.fixture(scope="session")
def reader(pg_server) -> str:
    """A role for grants and policies; roles are cluster-wide, so one serves every test."""
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(READER)))
    yield READER
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(READER)))


@pytest.fixture
def production_db(pg_server) -> str:
    """A second fresh database, playing production next to `fresh_db`."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield pg_server.url(name)
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def snapshot_of(url: str, ddl: str) -> Snapshot:
    """Runs the DDL, then inspects from a new session (database-level SETs apply to new ones)."""
    if ddl:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ddl)
    with psycopg.connect(url) as conn:
        return inspect(conn)


@pytest.fixture
def build(reader, fresh_db, production_db) -> Build:
    """Builds local from base + local DDL and production from base + production DDL."""
    def build(base: str, local: str, production: str) -> tuple[Snapshot, Snapshot]:
        return snapshot_of(fresh_db, base + local), snapshot_of(production_db, base + production)
    return build


BASE = """
CREATE TABLE roles (id int PRIMARY KEY);
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, role_id int);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
"""
LEDGER = """
CREATE SCHEMA pgparity;
CREATE TABLE pgparity.schema_migrations (version bigint, name text, checksum text,
    applied_at timestamptz DEFAULT now(), execution_ms integer, tool_version text);
INSERT INTO pgparity.schema_migrations (version, name, checksum) VALUES (1, 'init', 'aaa');
"""


def case(kind, local, production, *expected, base=BASE):
    return pytest.param(base, local, production, Difference(*expected), id=kind)


def diff(kind, obj, name, attribute, local, production, status="different"):
    return (kind, obj, name, attribute, local, production, status)


def missing_in_local(kind, obj, name, production):
    return (kind, obj, name, None, None, production, "missing_in_local")


def missing_in_production(kind, obj, name, local):
    return (kind, obj, name, None, local, None, "missing_in_production")


FUNCTION_F = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT {}';"
F_DEFINITION = "CREATE OR REPLACE FUNCTION public.f()\n RETURNS integer\n LANGUAGE sql\nAS $function${}$function$\n"
FK = "ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles"
RLS = "ALTER TABLE users ENABLE ROW LEVEL SECURITY;"
SET_TIMEZONE = (
    "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(),"
    " 'Europe/Berlin'); END $$;"
)

CASES = [
    case("table missing in local", "", "CREATE TABLE audit (id int, at timestamptz);",
         *missing_in_local("table", "public.audit", "", "(id integer, at timestamp with time zone)")),
    case("table missing in production", "CREATE TABLE scratch (x int);", "",
         *missing_in_production("table", "public.scratch", "", "(x integer)")),
    case("unlogged", "CREATE UNLOGGED TABLE cache (k text);", "CREATE TABLE cache (k text);",
         *diff("table", "public.cache", "", "unlogged", "true", "false")),
    case("partition", "",
         "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
         *missing_in_local("table", "public.events_2024", "",
                           "partition of public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")),
    case("partition key", "CREATE TABLE logs (at date) PARTITION BY RANGE (at);",
         "CREATE TABLE logs (at date) PARTITION BY LIST (at);",
         *diff("table", "public.logs", "", "partition_key", "RANGE (at)", "LIST (at)")),
    case("column missing", "ALTER TABLE users ADD nickname varchar(100);", "",
         *missing_in_production("column", "public.users", "nickname", "character varying(100)")),
    case("column nullable", "ALTER TABLE users ALTER email DROP NOT NULL;", "",
         *diff("column", "public.users", "email", "nullable", "true", "false")),
    case("column default", "", "ALTER TABLE users ALTER email SET DEFAULT 'x';",
         *diff("column", "public.users", "email", "default", None, "'x'::text")),
    case("column identity", "ALTER TABLE users ALTER id ADD GENERATED ALWAYS AS IDENTITY;",
         "ALTER TABLE users ALTER id ADD GENERATED BY DEFAULT AS IDENTITY;",
         *diff("column", "public.users", "id", "identity", "always", "by default")),
    case("column generated", "ALTER TABLE users ADD g text GENERATED ALWAYS AS (lower(email)) STORED;",
         "ALTER TABLE users ADD g text GENERATED ALWAYS AS (upper(email)) STORED;",
         *diff("column", "public.users", "g", "generated", "lower(email)", "upper(email)")),
    case("column collation", 'ALTER TABLE users ALTER email TYPE text COLLATE "C";', "",
         *diff("column", "public.users", "email", "collation", '"C"', None)),
    case("check constraint", "", "ALTER TABLE users ADD CONSTRAINT positive_id CHECK (id > 0);",
         *missing_in_local("constraint", "public.users", "positive_id", "CHECK ((id > 0))")),
    case("foreign key action", FK + ";", FK + " ON DELETE CASCADE;",
         *diff("constraint", "public.users", "users_role_fk", "on_delete", "NO ACTION", "CASCADE")),
    case("deferrable", FK + ";", FK + " DEFERRABLE;",
         *diff("constraint", "public.users", "users_role_fk", "deferrable", "false", "true")),
    case("unique constraint", "ALTER TABLE users ADD CONSTRAINT email_unique UNIQUE (email);", "",
         *missing_in_production("constraint", "public.users", "email_unique", "UNIQUE (email)")),
    case("index missing", "", "CREATE INDEX users_email_idx ON users (lower(email));",
         *missing_in_local("index", "public.users", "users_email_idx", "USING btree (lower(email))")),
    case("index definition", "CREATE INDEX users_email_idx ON users (email);",
         "CREATE INDEX users_email_idx ON users (lower(email));",
         *diff("index", "public.users", "users_email_idx", "definition",
               "USING btree (email)", "USING btree (lower(email))")),
    case("sequence", "CREATE SEQUENCE counter;", "CREATE SEQUENCE counter INCREMENT 10;",
         *diff("sequence", "public.counter", "", "increment", "1", "10")),
    case("view", "CREATE VIEW active AS SELECT id FROM users;",
         "CREATE VIEW active AS SELECT id FROM users WHERE id > 0;",
         *diff("view", "public.active", "", "definition", "SELECT users.id FROM public.users",
               "SELECT users.id FROM public.users WHERE (users.id > 0)")),
    case("materialized view", "", "CREATE MATERIALIZED VIEW counts AS SELECT count(*) FROM users;",
         *missing_in_local("materialized_view", "public.counts", "",
                           "SELECT count(*) AS count FROM public.users")),
    case("function body", FUNCTION_F.format(1), FUNCTION_F.format(2),
         *diff("function", "public.f()", "", "definition",
               F_DEFINITION.format("SELECT 1"), F_DEFINITION.format("SELECT 2"))),
    case("function volatility", FUNCTION_F.format(1), FUNCTION_F.format(1) + "ALTER FUNCTION f() IMMUTABLE;",
         *diff("function", "public.f()", "", "volatility", "volatile", "immutable")),
    case("trigger", "", "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();",
         *missing_in_local("trigger", "public.users", "users_touch",
                           "CREATE TRIGGER users_touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE F…")),
    case("enum", "CREATE TYPE mood AS ENUM ('sad', 'happy');", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');",
         *diff("enum", "public.mood", "", "labels", "sad, happy", "sad, ok, happy")),
    case("domain", "CREATE DOMAIN code AS varchar(10);", "CREATE DOMAIN code AS varchar(20);",
         *diff("domain", "public.code", "", "type", "character varying(10)", "character varying(20)")),
    case("domain check", "CREATE DOMAIN code AS text;",
         "CREATE DOMAIN code AS text CONSTRAINT code_upper CHECK (VALUE = upper(VALUE));",
         *missing_in_local("constraint", "public.code", "code_upper", "CHECK ((VALUE = upper(VALUE)))")),
    case("composite type", "CREATE TYPE address AS (street text, zip int);",
         "CREATE TYPE address AS (street text, zip text);",
         *diff("column", "public.address", "zip", "type", "integer", "text")),
    case("extension", "CREATE EXTENSION citext;", "",
         *missing_in_production("extension", "citext", "", "1.6")),
    case("row level security", "", RLS, *diff("table", "public.users", "", "rls_enabled", "false", "true")),
    case("policy", RLS + "CREATE POLICY own ON users USING (id > 0);", RLS + "CREATE POLICY own ON users USING (id > 1);",
         *diff("policy", "public.users", "own", "using", "(id > 0)", "(id > 1)")),
    case("table privilege", "", f"GRANT SELECT ON users TO {READER};",
         *missing_in_local("privilege", "public.users", f"SELECT TO {READER}", "granted")),
    case("column privilege", f"GRANT UPDATE (email) ON users TO {READER} WITH GRANT OPTION;",
         f"GRANT UPDATE (email) ON users TO {READER};",
         *diff("privilege", "public.users", f"UPDATE (email) TO {READER}", "grantable", "true", "false")),
    case("table comment", "COMMENT ON TABLE users IS 'people';", "COMMENT ON TABLE users IS 'humans';",
         *diff("comment", "public.users", "", "text", "people", "humans")),
    case("column comment", "", "COMMENT ON COLUMN users.email IS 'login';",
         *missing_in_local("comment", "public.users", "email", "login")),
    case("function comment", FUNCTION_F.format(1) + "COMMENT ON FUNCTION f() IS 'one';", FUNCTION_F.format(1),
         *missing_in_production("comment", "public.f()", "", "one")),
    case("setting", "", SET_TIMEZONE, *diff("setting", "TimeZone", "", "value", "Etc/UTC", "Europe/Berlin")),
    case("schema", "", "CREATE SCHEMA audit; CREATE TABLE audit.log (id int);",
         *missing_in_local("schema", "audit", "", "schema")),
    case("migration checksum", LEDGER, LEDGER.replace("'aaa'", "'bbb'"),
         *diff("migration", "pgparity.schema_migrations", "1 init", "checksum", "aaa", "bbb")),
    case("migration missing", LEDGER,
         LEDGER + "INSERT INTO pgparity.schema_migrations (version, name, checksum) VALUES (2, 'names', 'ccc');",
         *missing_in_local("migration", "pgparity.schema_migrations", "2 names", "ccc")),
]


@pytest.mark.parametrize(("base", "local", "production", "expected"), CASES)
def test_one_injected_difference_is_reported_alone(build: Build, base, local, production, expected):
    local_snapshot, production_snapshot = build(base, local, production)
    assert compare(local_snapshot, production_snapshot) == (expected,)
    assert expected.kind in KINDS


def test_role_attributes_are_compared(build: Build):
    grant = f"GRANT SELECT ON users TO {READER};"
    local, production = build(BASE, grant, grant)
    (role,) = production.roles
    production = dataclasses.replace(production, roles=(dataclasses.replace(role, login=True),))
    assert compare(local, production) == (
        Difference("role", READER, "", "login", "false", "true", "different"),
    )


def test_server_version_is_compared_by_number_only(build: Build):
    local, production = build(BASE, "", "")
    production = dataclasses.replace(production, server=ServerVersion("PostgreSQL 16.2 elsewhere", 160002))
    assert compare(local, production) == (
        Difference("version", "server", "", "version_num", str(local.server.version_num), "160002", "different"),
    )


SEED_LOCAL = """
CREATE TABLE users (email varchar, password_hash varchar);
CREATE TABLE auth_tokens (token varchar, token_type varchar);
CREATE TABLE roles (name varchar, description varchar);
"""
SEED_PRODUCTION = """
CREATE TABLE users (email varchar(255), password_hash varchar(255), first_name varchar(100),
                    last_name varchar(100), is_admin boolean DEFAULT false);
CREATE TABLE auth_tokens (token varchar(255), token_type varchar(50));
CREATE TABLE roles (name varchar(100), description text);
"""


def test_seed_story_gives_exactly_nine_differences(build: Build):
    local, production = build("", SEED_LOCAL, SEED_PRODUCTION)
    vc = "character varying"
    assert compare(local, production) == (
        Difference("column", "public.auth_tokens", "token", "type", vc, f"{vc}(255)", "different"),
        Difference("column", "public.auth_tokens", "token_type", "type", vc, f"{vc}(50)", "different"),
        Difference("column", "public.roles", "description", "type", vc, "text", "different"),
        Difference("column", "public.roles", "name", "type", vc, f"{vc}(100)", "different"),
        Difference("column", "public.users", "email", "type", vc, f"{vc}(255)", "different"),
        Difference("column", "public.users", "first_name", None, None, f"{vc}(100)", "missing_in_local"),
        Difference("column", "public.users", "is_admin", None, None, "boolean", "missing_in_local"),
        Difference("column", "public.users", "last_name", None, None, f"{vc}(100)", "missing_in_local"),
        Difference("column", "public.users", "password_hash", "type", vc, f"{vc}(255)", "different"),
    )


ORDER_INLINE = """
CREATE TABLE roles (id int PRIMARY KEY, name text UNIQUE);
CREATE TABLE users (
    id bigint PRIMARY KEY, email text NOT NULL UNIQUE, age int CHECK (age > 0),
    role_id int REFERENCES roles ON DELETE SET NULL, created timestamptz DEFAULT now()
);
CREATE INDEX users_created_idx ON users (created);
CREATE VIEW adults AS SELECT id, email FROM users WHERE age >= 18;
CREATE TABLE events (id int NOT NULL, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_at_idx ON events (at);
"""
ORDER_SEPARATE = """
CREATE TABLE users (created timestamptz, email text, doomed int);
CREATE VIEW placeholder AS SELECT 1 AS x;
CREATE TABLE roles (name text, id int);
ALTER TABLE roles ADD PRIMARY KEY (id);
ALTER TABLE roles ADD UNIQUE (name);
ALTER TABLE users ADD age int, ADD role_id int, ADD id bigint, DROP doomed;
ALTER TABLE users ALTER created SET DEFAULT now(), ALTER email SET NOT NULL;
CREATE INDEX users_created_idx ON users (created);
ALTER TABLE users ADD FOREIGN KEY (role_id) REFERENCES roles ON DELETE SET NULL;
ALTER TABLE users ADD CHECK (age > 0), ADD UNIQUE (email), ADD PRIMARY KEY (id);
CREATE VIEW adults AS SELECT id, email FROM users WHERE age >= 18;
DROP VIEW placeholder;
CREATE TABLE events_2024 (at date, id int NOT NULL);
CREATE TABLE events (id int NOT NULL, at date) PARTITION BY RANGE (at);
CREATE INDEX events_at_idx ON events (at);
ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
"""


def test_identical_schemas_built_in_another_order_report_nothing(build: Build):
    local, production = build("", ORDER_SEPARATE, ORDER_INLINE)
    assert compare(local, production) == ()


def test_extension_objects_are_left_out_but_the_extension_is_reported(build: Build):
    local, production = build("", "CREATE EXTENSION pg_trgm;", "")
    (only,) = compare(local, production)
    assert (only.kind, only.object, only.status) == ("extension", "pg_trgm", "missing_in_production")


def test_pgparity_schema_is_ignored(build: Build):
    local, production = build("", "CREATE SCHEMA pgparity; CREATE TABLE pgparity.locks (id int);", "")
    assert compare(local, production) == ()


# Pure logic on hand-built snapshots.

def snapshot(**changes) -> Snapshot:
    empty = Snapshot(
        server=ServerVersion("PostgreSQL 15", 150000), settings=(), roles=(), extensions=(),
        schemas=(Schema("public", "postgres", None),), tables=(), views=(), materialized_views=(),
        sequences=(), functions=(), enums=(), domains=(), types=(), migrations=(),
    )
    return dataclasses.replace(empty, **changes)


def column(name: str, type: str = "text") -> Column:
    return Column(name, type, True, None, None, None, None, None)


def table(name: str, *columns: Column, schema: str = "public") -> Table:
    return Table(schema, name, "postgres", False, None, (), None, False, False, None,
                 columns, (), (), (), (), ())


def test_missing_table_is_one_difference_not_one_per_column():
    production = snapshot(tables=(table("users", column("id"), column("email")),))
    assert compare(snapshot(), production) == (
        Difference("table", "public.users", "", None, None, "(id text, email text)", "missing_in_local"),
    )


def test_column_position_and_owner_do_not_matter():
    local = snapshot(tables=(dataclasses.replace(table("t", column("b"), column("a")), owner="me"),))
    production = snapshot(tables=(table("t", column("a"), column("b")),))
    assert compare(local, production) == ()


def test_renames_are_not_guessed():
    local = snapshot(tables=(table("t", column("mail")),))
    production = snapshot(tables=(table("t", column("email")),))
    assert [(d.name, d.status) for d in compare(local, production)] == [
        ("email", "missing_in_local"), ("mail", "missing_in_production"),
    ]


def test_objects_of_a_missing_schema_are_covered_by_the_schema():
    production = snapshot(
        schemas=(Schema("public", "postgres", None), Schema("audit", "postgres", None)),
        tables=(table("log", column("id"), schema="audit"),),
    )
    assert compare(snapshot(), production) == (
        Difference("schema", "audit", "", None, None, "schema", "missing_in_local"),
    )


def test_order_is_by_object_kind_name_attribute():
    local = snapshot(
        tables=(table("b", column("x", "int")), table("a", column("y"))),
        migrations=(Migration(1, "init", "aaa"),),
    )
    production = snapshot(tables=(table("a", column("y", "int")), table("b", column("x"))))
    assert [(d.object, d.kind, d.name) for d in compare(local, production)] == [
        ("pgparity.schema_migrations", "migration", "1 init"),
        ("public.a", "column", "y"),
        ("public.b", "column", "x"),
    ]


def test_difference_json_has_exactly_the_report_fields():
    difference = Difference("column", "public.users", "email", "type", "text", "varchar", "different")
    assert difference.to_json() == {
        "kind": "column", "object": "public.users", "name": "email", "attribute": "type",
        "local": "text", "production": "varchar", "status": "different",
    }
