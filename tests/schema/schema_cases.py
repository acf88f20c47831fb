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


def case(kind, local, production, *expected, base=BASE, marks=()):
    return pytest.param(base, local, production, Difference(*expected), id=kind, marks=marks)


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

USERS_STATS = "CREATE STATISTICS users_stats ON id, role_id FROM users;"
USERS_STATS_DEFINITION = "CREATE STATISTICS public.users_stats ON id, role_id FROM public.users"
KEEP_USERS = "CREATE RULE users_keep AS ON DELETE TO users DO INSTEAD NOTHING;"
KEEP_USERS_DEFINITION = "CREATE RULE users_keep AS ON DELETE TO public.users DO INSTEAD NOTHING"
CONFIG_EXTENSION = "CREATE EXTENSION pgparity_config;"  # tests/conftest.py installs it on the server
CONFIG_FILTERED = "SET pgparity.config_filter = 'WHERE NOT standard';"
OPERATOR_EQ = "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq{});"
REVERSED_CMP = "CREATE FUNCTION int4_rev_cmp(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT btint4cmp(b, a)';"
REVERSED_CLASS = ("CREATE OPERATOR CLASS int4_rev FOR TYPE int4 USING btree{} AS OPERATOR 1 >, OPERATOR 2 >=,"
                  " OPERATOR 3 =, OPERATOR 4 <=, OPERATOR 5 <, FUNCTION 1 int4_rev_cmp(int, int);")
FAMILY = "CREATE OPERATOR FAMILY fam USING btree;"
DOCS = "CREATE TEXT SEARCH CONFIGURATION docs (COPY = english);"
# The english configuration's mapping, token type -> dictionaries, as every major from 13 on has it.
ENGLISH = {token: "english_stem" for token in ("asciihword", "asciiword", "hword", "hword_asciipart", "hword_part",
                                               "word")} | {
    token: "simple" for token in ("email", "file", "float", "host", "hword_numpart", "int", "numhword", "numword",
                                  "sfloat", "uint", "url", "url_path", "version")}


def mapping_text(mapping: dict[str, str]) -> str:
    return ", ".join(f"{token}: {mapping[token]}" for token in sorted(mapping))


PLAIN_DICTIONARY = "CREATE TEXT SEARCH DICTIONARY plain (TEMPLATE = simple, {});"
PARSER = ("CREATE TEXT SEARCH PARSER words (START = prsd_start, GETTOKEN = prsd_nexttoken, END = prsd_end,"
          " LEXTYPES = prsd_lextype);")
TEMPLATE = "CREATE TEXT SEARCH TEMPLATE bare (LEXIZE = dsimple_lexize);"
TOTAL = "CREATE AGGREGATE total(int) (SFUNC = int4pl, STYPE = int{});"
MOOD_TEXT = ENUM_MOOD + "CREATE FUNCTION mood_text(mood) RETURNS text LANGUAGE sql AS 'SELECT $1::text';"
MOOD_CAST = MOOD_TEXT + "CREATE CAST (mood AS text) WITH FUNCTION mood_text(mood) AS {};"
CI = "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = {});"
ICU = pytest.mark.icu  # skipped on a server built without ICU
PUBLICATION = "CREATE PUBLICATION p FOR TABLE {};"
# connect = false: no publisher is reached and no slot made; only a superuser creates one (the test server's user is).
SUBSCRIPTION = "CREATE SUBSCRIPTION s CONNECTION 'dbname=nowhere' PUBLICATION {} WITH (connect = false{});"
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
    case("statistics missing", "", USERS_STATS,
         *missing_in_local("statistics", "public.users", "public.users_stats", USERS_STATS_DEFINITION)),
    case("statistics kinds", "CREATE STATISTICS users_stats (ndistinct) ON id, role_id FROM users;", USERS_STATS,
         *diff("statistics", "public.users", "public.users_stats", "kinds", "ndistinct",
               "ndistinct, dependencies, mcv")),
    case("statistics target", USERS_STATS, USERS_STATS + "ALTER STATISTICS users_stats SET STATISTICS 200;",
         *diff("statistics", "public.users", "public.users_stats", "target", None, "200")),
    case("rule missing", KEEP_USERS, "",
         *missing_in_production("rule", "public.users", "users_keep", KEEP_USERS_DEFINITION)),
    case("rule definition", KEEP_USERS, KEEP_USERS.replace(" DO ", " WHERE old.id > 0 DO "),
         *diff("rule", "public.users", "users_keep", "definition", KEEP_USERS_DEFINITION,
               KEEP_USERS_DEFINITION.replace(" DO ", " WHERE (old.id > 0) DO "))),
    case("rule disabled", KEEP_USERS, KEEP_USERS + "ALTER TABLE users DISABLE RULE users_keep;",
         *diff("rule", "public.users", "users_keep", "enabled", "origin", "disabled")),
    case("rule on view", "CREATE VIEW active AS SELECT id, email FROM users;",
         "CREATE VIEW active AS SELECT id, email FROM users;"
         "CREATE RULE active_insert AS ON INSERT TO active DO INSTEAD INSERT INTO users VALUES (NEW.id, NEW.email);",
         *missing_in_local("rule", "public.active", "active_insert",
                           "CREATE RULE active_insert AS ON INSERT TO public.active DO INSTEAD INSERT INTO "
                           "public.users (id, email) VALUES (new.id, new.email)")),
    case("statistics on materialized view", "CREATE MATERIALIZED VIEW pairs AS SELECT id, role_id FROM users;",
         "CREATE MATERIALIZED VIEW pairs AS SELECT id, role_id FROM users;"
         "CREATE STATISTICS pairs_stats (mcv) ON id, role_id FROM pairs;",
         *missing_in_local("statistics", "public.pairs", "public.pairs_stats",
                           "CREATE STATISTICS public.pairs_stats (mcv) ON id, role_id FROM public.pairs")),
    case("extension schema", "CREATE SCHEMA ext; CREATE EXTENSION citext SCHEMA ext;",
         "CREATE SCHEMA ext; CREATE EXTENSION citext;",
         *diff("extension", "citext", "", "schema", "ext", "public")),
    case("extension config table", CONFIG_FILTERED + CONFIG_EXTENSION, CONFIG_EXTENSION,
         *diff("extension", "pgparity_config", "", "config_tables", "public.config_rows WHERE NOT standard",
               "public.config_rows")),
    case("operator missing", "", OPERATOR_EQ.format(", COMMUTATOR = ==="),
         *missing_in_local("operator", "public.=== (integer, integer)", "", "FUNCTION = int4eq")),
    case("operator commutator", OPERATOR_EQ.format(""), OPERATOR_EQ.format(", COMMUTATOR = ==="),
         *diff("operator", "public.=== (integer, integer)", "", "commutator", None, "public.===(integer,integer)")),
    case("operator class missing", REVERSED_CMP, REVERSED_CMP + REVERSED_CLASS.format(""),
         *missing_in_local("operator_class", "public.int4_rev USING btree", "", "FOR TYPE integer")),
    case("operator family member", FAMILY, FAMILY + "ALTER OPERATOR FAMILY fam USING btree ADD OPERATOR 1 < (int, int);",
         *diff("operator_family", "public.fam USING btree", "", "operators", "", "1 <(integer,integer)")),
    case("text search configuration missing", "", DOCS,
         *missing_in_local("text_search_configuration", "public.docs", "", 'PARSER = pg_catalog."default"')),
    case("text search mapping", DOCS, DOCS + "ALTER TEXT SEARCH CONFIGURATION docs ALTER MAPPING FOR word WITH simple;",
         *diff("text_search_configuration", "public.docs", "", "mapping", mapping_text(ENGLISH),
               mapping_text(ENGLISH | {"word": "simple"}))),
    case("text search dictionary options", PLAIN_DICTIONARY.format("StopWords = english"),
         PLAIN_DICTIONARY.format("Accept = false"),
         *diff("text_search_dictionary", "public.plain", "", "options", "stopwords = 'english'", "accept = 'false'")),
    case("text search parser missing", "", PARSER,
         *missing_in_local("text_search_parser", "public.words", "", "GETTOKEN = prsd_nexttoken")),
    case("text search template missing", TEMPLATE, "",
         *missing_in_production("text_search_template", "public.bare", "", "LEXIZE = dsimple_lexize")),
    case("aggregate missing", "", TOTAL.format(""),
         *missing_in_local("aggregate", "public.total(integer)", "", "state integer by int4pl")),
    case("aggregate initial condition", TOTAL.format(", INITCOND = '0'"), TOTAL.format(", INITCOND = '1'"),
         *diff("aggregate", "public.total(integer)", "", "initial_condition", "0", "1")),
    case("aggregate privilege", TOTAL.format(""),
         TOTAL.format("") + "REVOKE EXECUTE ON FUNCTION total(int) FROM PUBLIC;",
         *missing_in_production("function_privilege", "public.total(integer)", "EXECUTE TO PUBLIC", "granted")),
    case("cast missing", MOOD_TEXT, MOOD_CAST.format("ASSIGNMENT"),
         *missing_in_local("cast", "(public.mood AS text)", "",
                           "WITH FUNCTION public.mood_text(public.mood) AS ASSIGNMENT")),
    case("cast context", MOOD_CAST.format("ASSIGNMENT"), MOOD_CAST.format("IMPLICIT"),
         *diff("cast", "(public.mood AS text)", "", "context", "assignment", "implicit")),
    case("cast comment", MOOD_CAST.format("ASSIGNMENT") + "COMMENT ON CAST (mood AS text) IS 'readable';",
         MOOD_CAST.format("ASSIGNMENT"), *missing_in_production("comment", "(public.mood AS text)", "", "readable")),
    case("collation missing", "CREATE COLLATION bytewise (locale = 'C');", "",
         *missing_in_production("collation", "public.bytewise", "", "libc C")),
    case("collation deterministic", CI.format("false"), CI.format("true"),
         *diff("collation", "public.ci", "", "deterministic", "false", "true"), marks=ICU),
    case("publication missing", "", PUBLICATION.format("users"),
         *missing_in_local("publication", "p", "", "FOR TABLE public.users")),
    case("publication publish", PUBLICATION.format("users"), PUBLICATION.format("users WITH (publish = 'insert')"),
         *diff("publication", "p", "", "publish", "insert, update, delete, truncate", "insert")),
    case("publication table added", PUBLICATION.format("users"), PUBLICATION.format("users, roles"),
         *missing_in_local("publication_table", "p", "public.roles", "every column")),
    case("subscription slot", SUBSCRIPTION.format("p", ""), SUBSCRIPTION.format("p", ", slot_name = 'other'"),
         *diff("subscription", "s", "", "slot_name", "s", "other")),
    case("subscription publications", SUBSCRIPTION.format("p", ""), SUBSCRIPTION.format("p, q", ""),
         *diff("subscription", "s", "", "publications", "p", "p, q")),
    case("subscription missing", "", SUBSCRIPTION.format("p", ""),
         *missing_in_local("subscription", "s", "", "PUBLICATION p")),
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



def since(major: int, param):
    """A case only servers from `major` on can hold: the major first, then the case's values."""
    return pytest.param(major, *param.values, id=param.id)


# Cases of what only newer majors have, each with the first major that has it.
NEWER_CASES = [
    since(15, case("publication column list", PUBLICATION.format("users"), PUBLICATION.format("users (id, email)"),
                   *diff("publication_table", "p", "public.users", "columns", "", "email, id"))),
    since(15, case("publication row filter", PUBLICATION.format("users WHERE (id > 0)"),
                   PUBLICATION.format("users WHERE (id > 1)"),
                   *diff("publication_table", "p", "public.users", "row_filter", "(id > 0)", "(id > 1)"))),
    since(15, case("publication schema", "CREATE SCHEMA audit;" + PUBLICATION.format("users"),
                   "CREATE SCHEMA audit;" + PUBLICATION.format("users, TABLES IN SCHEMA audit"),
                   *diff("publication", "p", "", "schemas", "", "audit"))),
    since(18, case("publication generated columns", PUBLICATION.format("users"),
                   PUBLICATION.format("users WITH (publish_generated_columns = stored)"),
                   *diff("publication", "p", "", "publish_generated_columns", "none", "stored"))),
    since(14, case("subscription binary", SUBSCRIPTION.format("p", ""), SUBSCRIPTION.format("p", ", binary = true"),
                   *diff("subscription", "s", "", "binary", "false", "true"))),
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
