"""Schemas for the diff and fix tests: pairs of DDL that differ in one thing, and hand-built snapshots."""

from __future__ import annotations

import dataclasses
import re

import psycopg
import pytest
from conftest import READER

from pgparity.schema.diff import Difference
from pgparity.schema.introspect import inspect
from pgparity.schema.model import Column, Constraint, Index, Schema, ServerVersion, Snapshot, Table


def snapshot_of(url: str, ddl: str) -> Snapshot:
    """Runs the DDL, then inspects from a new session (database-level SETs apply to new ones)."""
    if ddl:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ddl)
    with psycopg.connect(url) as conn:
        return inspect(conn)


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


# The cases are written as PostgreSQL 15 prints them. Since 16 a view over one table prints its
# columns without the table's name (the view's query no longer carries OLD and NEW entries).
UNQUALIFIED_VIEWS = 16


def view_as_printed_by(major: int, definition: str) -> str:
    """A view over `users`, written as 15 prints it, as a server of `major` prints it."""
    return definition if major < UNQUALIFIED_VIEWS else re.sub(r"\busers\.", "", definition)


def as_printed_by(major: int, expected: Difference) -> Difference:
    """A case's expected difference as a server of `major` prints it."""
    if expected.kind != "view":
        return expected
    return dataclasses.replace(expected, source=view_as_printed_by(major, expected.source),
                               target=view_as_printed_by(major, expected.target))


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
PROCEDURE_P = "CREATE PROCEDURE p(a int) LANGUAGE sql AS 'SELECT 1';"
ENUM_MOOD = "CREATE TYPE mood AS ENUM ('calm');"
FK = "ALTER TABLE users ADD CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles"
RLS = "ALTER TABLE users ENABLE ROW LEVEL SECURITY;"


def in_this_database(statement: str) -> str:
    """ALTER DATABASE/ROLE … SET naming the database the DDL runs in (`%I`), whatever its name."""
    return f"DO $$ BEGIN EXECUTE format($s${statement}$s$, current_database()); END $$;"


UNIQUE_EMAIL = "CREATE UNIQUE INDEX email ON users (email);"
CHECK_ID = "ALTER TABLE users ADD CONSTRAINT positive_id CHECK (id > 0)"
TOUCH = "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();"
DDL_LOG = "CREATE FUNCTION ddl_log() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;"
EVENT_TRIGGER = ("CREATE EVENT TRIGGER ddl_log ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')"
                 " EXECUTE FUNCTION ddl_log();")

# Foreign data on postgres_fdw, whose own wrapper is the extension's and never compared.
POSTGRES_FDW = "CREATE EXTENSION postgres_fdw;"
SERVER = "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'app', host '{}');"
ON_REMOTE = POSTGRES_FDW + SERVER.format("db.internal")
MAPPING = f"CREATE USER MAPPING FOR {READER} SERVER remote OPTIONS (user '{{}}');"
FOREIGN_TABLE = ("CREATE FOREIGN TABLE remote_users (id int OPTIONS (column_name '{}'), email text) SERVER remote"
                 " OPTIONS (schema_name 'public', table_name '{}');")

SET_TIMEZONE = in_this_database("ALTER DATABASE %I SET timezone = 'Europe/Berlin'")

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
                           "CREATE TRIGGER users_touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION "
                           "public.touch()")),
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
    case("extension", "CREATE EXTENSION citext VERSION '1.6';", "",
         *missing_in_production("extension", "citext", "", "1.6")),
    case("row level security", "", RLS, *diff("table", "public.users", "", "rls_enabled", "false", "true")),
    case("policy", RLS + "CREATE POLICY own ON users USING (id > 0);", RLS + "CREATE POLICY own ON users USING (id > 1);",
         *diff("policy", "public.users", "own", "using", "(id > 0)", "(id > 1)")),
    case("table privilege", "", f"GRANT SELECT ON users TO {READER};",
         *missing_in_local("privilege", "public.users", f"SELECT TO {READER}", "granted")),
    case("column privilege", f"GRANT UPDATE (email) ON users TO {READER} WITH GRANT OPTION;",
         f"GRANT UPDATE (email) ON users TO {READER};",
         *diff("privilege", "public.users", f"UPDATE (email) TO {READER}", "grantable", "true", "false")),
    case("schema privilege", "CREATE SCHEMA app;", f"CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO {READER};",
         *missing_in_local("schema_privilege", "app", f"USAGE TO {READER}", "granted")),
    case("function privilege", FUNCTION_F.format(1), FUNCTION_F.format(1) + "REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;",
         *missing_in_production("function_privilege", "public.f()", "EXECUTE TO PUBLIC", "granted")),
    case("procedure privilege", PROCEDURE_P, PROCEDURE_P + f"GRANT EXECUTE ON PROCEDURE p(int) TO {READER};",
         *missing_in_local("function_privilege", "public.p(a integer)", f"EXECUTE TO {READER}", "granted")),
    case("function without public execute", "", FUNCTION_F.format(1) + "REVOKE ALL ON FUNCTION f() FROM PUBLIC;",
         *missing_in_local("function", "public.f()", "", "returns integer")),
    case("sequence privilege", "CREATE SEQUENCE s;", f"CREATE SEQUENCE s; GRANT USAGE, SELECT ON SEQUENCE s TO {READER};"
         f"REVOKE SELECT ON SEQUENCE s FROM {READER};",
         *missing_in_local("sequence_privilege", "public.s", f"USAGE TO {READER}", "granted")),
    case("type privilege", ENUM_MOOD, ENUM_MOOD + "REVOKE USAGE ON TYPE mood FROM PUBLIC;",
         *missing_in_production("type_privilege", "public.mood", "USAGE TO PUBLIC", "granted")),
    case("domain privilege", f"CREATE DOMAIN code AS text; GRANT USAGE ON DOMAIN code TO {READER} WITH GRANT OPTION;",
         f"CREATE DOMAIN code AS text; GRANT USAGE ON DOMAIN code TO {READER};",
         *diff("type_privilege", "public.code", f"USAGE TO {READER}", "grantable", "true", "false")),
    case("composite type without public usage", "", "CREATE TYPE pair AS (a int); REVOKE USAGE ON TYPE pair FROM PUBLIC;",
         *missing_in_local("type", "public.pair", "", "(a integer)")),
    case("default privilege", "", f"ALTER DEFAULT PRIVILEGES FOR ROLE {READER} IN SCHEMA public "
         f"GRANT SELECT ON TABLES TO {READER} WITH GRANT OPTION;",
         *missing_in_local("default_privilege", f"for role {READER} in schema public: SELECT ON TABLES TO {READER}", "",
                           "granted with grant option")),
    case("default privilege revoked", f"ALTER DEFAULT PRIVILEGES FOR ROLE {READER} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
         "", *missing_in_production("default_privilege", f"for role {READER}: EXECUTE ON FUNCTIONS TO PUBLIC", "",
                                    "revoked")),
    case("default privilege grant option", f"ALTER DEFAULT PRIVILEGES FOR ROLE {READER} GRANT USAGE ON TYPES TO postgres;",
         f"ALTER DEFAULT PRIVILEGES FOR ROLE {READER} GRANT USAGE ON TYPES TO postgres WITH GRANT OPTION;",
         *diff("default_privilege", f"for role {READER}: USAGE ON TYPES TO postgres", "", "grantable", "false", "true")),
    case("table comment", "COMMENT ON TABLE users IS 'people';", "COMMENT ON TABLE users IS 'humans';",
         *diff("comment", "public.users", "", "text", "people", "humans")),
    case("column comment", "", "COMMENT ON COLUMN users.email IS 'login';",
         *missing_in_local("comment", "public.users", "email", "login")),
    case("function comment", FUNCTION_F.format(1) + "COMMENT ON FUNCTION f() IS 'one';", FUNCTION_F.format(1),
         *missing_in_production("comment", "public.f()", "", "one")),
    case("setting", "", SET_TIMEZONE, *diff("setting", "TimeZone", "", "value", "Etc/UTC", "Europe/Berlin")),
    case("database setting", in_this_database("ALTER DATABASE %I SET statement_timeout = '5s'"),
         in_this_database("ALTER DATABASE %I SET statement_timeout = '7s'"),
         *diff("setting", "statement_timeout", "", "value", "5s", "7s")),
    case("custom database setting", "", in_this_database("ALTER DATABASE %I SET app.tenant = 'acme'"),
         *missing_in_local("setting", "app.tenant", "", "acme")),
    case("role setting", "", in_this_database(f"ALTER ROLE {READER} IN DATABASE %I SET work_mem = '8MB'"),
         *missing_in_local("role_setting", f"work_mem for role {READER} in this database", "", "8MB")),
    case("table options", "CREATE TABLE cache (k text) WITH (fillfactor = 70);",
         "CREATE TABLE cache (k text) WITH (fillfactor = 80, toast.autovacuum_enabled = false);",
         *diff("table", "public.cache", "", "options", "fillfactor=70",
               "fillfactor=80, toast.autovacuum_enabled=false")),
    case("view options", "CREATE VIEW named AS SELECT id FROM users;",
         "CREATE VIEW named WITH (security_barrier) AS SELECT id FROM users WITH LOCAL CHECK OPTION;",
         *diff("view", "public.named", "", "options", "", "check_option=local, security_barrier=true")),
    case("index options", "CREATE INDEX users_email_idx ON users (email) WITH (fillfactor = 60) WHERE id > 0;",
         "CREATE INDEX users_email_idx ON users (email) WHERE id > 0;",
         *diff("index", "public.users", "users_email_idx", "options", "fillfactor=60", "")),
    case("column storage", "ALTER TABLE users ALTER email SET STORAGE MAIN;", "",
         *diff("column", "public.users", "email", "storage", "main", None)),
    case("column statistics", "", "ALTER TABLE users ALTER email SET STATISTICS 500;",
         *diff("column", "public.users", "email", "statistics", None, "500")),
    case("replica identity", "", "ALTER TABLE users REPLICA IDENTITY FULL;",
         *diff("table", "public.users", "", "replica_identity", "default", "full")),
    case("replica identity index", UNIQUE_EMAIL, UNIQUE_EMAIL + "ALTER TABLE users REPLICA IDENTITY USING INDEX email;",
         *diff("table", "public.users", "", "replica_identity", "default", "index email")),
    case("constraint not valid", CHECK_ID + ";", CHECK_ID + " NOT VALID;",
         *diff("constraint", "public.users", "positive_id", "validated", "true", "false")),
    case("constraint validated", FK + " NOT VALID;", FK + ";",
         *diff("constraint", "public.users", "users_role_fk", "validated", "false", "true")),
    case("trigger enabled", TOUCH, TOUCH + "ALTER TABLE users ENABLE REPLICA TRIGGER users_touch;",
         *diff("trigger", "public.users", "users_touch", "enabled", "origin", "replica")),
    case("event trigger", DDL_LOG, DDL_LOG + EVENT_TRIGGER,
         *missing_in_local("event_trigger", "ddl_log", "", "ON ddl_command_end EXECUTE FUNCTION public.ddl_log()")),
    case("event trigger enabled", DDL_LOG + EVENT_TRIGGER,
         DDL_LOG + EVENT_TRIGGER + "ALTER EVENT TRIGGER ddl_log ENABLE ALWAYS;",
         *diff("event_trigger", "ddl_log", "", "enabled", "origin", "always")),
    case("foreign data wrapper", "", "CREATE FOREIGN DATA WRAPPER plain_fdw;",
         *missing_in_local("foreign_data_wrapper", "plain_fdw", "", "no handler")),
    case("foreign server", POSTGRES_FDW, POSTGRES_FDW + SERVER.format("db.internal"),
         *missing_in_local("foreign_server", "remote", "", "FOREIGN DATA WRAPPER postgres_fdw")),
    case("foreign server options", POSTGRES_FDW + SERVER.format("db.internal"), POSTGRES_FDW + SERVER.format("db2"),
         *diff("foreign_server", "remote", "", "options", "dbname=app, host=db.internal", "dbname=app, host=db2")),
    case("foreign server version", ON_REMOTE + "ALTER SERVER remote VERSION '16';", ON_REMOTE,
         *diff("foreign_server", "remote", "", "version", "16", None)),
    case("user mapping", "", MAPPING.format("app"),
         *missing_in_local("user_mapping", f"for {READER} server remote", "", "user=app"), base=ON_REMOTE),
    case("user mapping options", MAPPING.format("app"), MAPPING.format("reporting"),
         *diff("user_mapping", f"for {READER} server remote", "", "options", "user=app", "user=reporting"),
         base=ON_REMOTE),
    case("foreign server privilege", "", f"GRANT USAGE ON FOREIGN SERVER remote TO {READER} WITH GRANT OPTION;",
         *missing_in_local("foreign_server_privilege", "remote", f"USAGE TO {READER}", "granted with grant option"),
         base=ON_REMOTE),
    case("foreign table", "", FOREIGN_TABLE.format("uid", "users"),
         *missing_in_local("foreign_table", "public.remote_users", "", "(id integer, email text) SERVER remote"),
         base=ON_REMOTE),
    case("foreign table options", FOREIGN_TABLE.format("uid", "users"), FOREIGN_TABLE.format("uid", "people"),
         *diff("foreign_table", "public.remote_users", "", "options", "schema_name=public, table_name=users",
               "schema_name=public, table_name=people"), base=ON_REMOTE),
    case("foreign column", FOREIGN_TABLE.format("uid", "users"), FOREIGN_TABLE.format("uid", "users")
         + "ALTER FOREIGN TABLE remote_users ADD COLUMN name text OPTIONS (column_name 'full_name') NOT NULL;",
         *missing_in_local("column", "public.remote_users", "name", "text"), base=ON_REMOTE),
    case("foreign column options", FOREIGN_TABLE.format("uid", "users"), FOREIGN_TABLE.format("user_id", "users"),
         *diff("column", "public.remote_users", "id", "options", "column_name=uid", "column_name=user_id"),
         base=ON_REMOTE),
    case("schema", "", "CREATE SCHEMA audit; CREATE TABLE audit.log (id int);",
         *missing_in_local("schema", "audit", "", "schema")),
    case("migration checksum", LEDGER, LEDGER.replace("'aaa'", "'bbb'"),
         *diff("migration", "pgparity.schema_migrations", "1 init", "checksum", "aaa", "bbb")),
    case("migration missing", LEDGER,
         LEDGER + "INSERT INTO pgparity.schema_migrations (version, name, checksum) VALUES (2, 'names', 'ccc');",
         *missing_in_local("migration", "pgparity.schema_migrations", "2 names", "ccc")),
]


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


def snapshot(**changes) -> Snapshot:
    empty = Snapshot(
        server=ServerVersion("PostgreSQL 15", 150000), settings=(), roles=(), extensions=(),
        schemas=(Schema("public", "postgres", None),), tables=(), views=(), materialized_views=(),
        sequences=(), functions=(), enums=(), domains=(), types=(), ledger=None,
    )
    return dataclasses.replace(empty, **changes)


def column(name: str, type: str = "text") -> Column:
    return Column(name, type, True, None, None, None, None, None)


def table(name: str, *columns: Column, schema: str = "public") -> Table:
    return Table(schema, name, "postgres", False, None, (), None, False, False, None,
                 columns, (), (), (), (), ())


def namesakes(constraint_comment: str | None, index_comment: str | None) -> Snapshot:
    """A table whose CHECK constraint and index are both named foo, each with its own comment."""
    check = Constraint("foo", "check", "CHECK ((a > 0))", False, False, None, None, constraint_comment)
    index = Index("foo", False, "USING btree (a)", index_comment)
    t = dataclasses.replace(table("t", column("a", "integer")), constraints=(check,), indexes=(index,))
    return snapshot(tables=(t,))
