"""Fix: pairs of real databases; the fix applied to local must reach parity, its rollback undo it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from conftest import READER, major_of, scratch_database
from schema_cases import (
    CASES,
    DDL_LOG,
    EVENT_TRIGGER,
    NEWER_CASES,
    ON_REMOTE,
    REVERSED_CLASS,
    REVERSED_CMP,
    SEED_LOCAL,
    SEED_PRODUCTION,
    SUBSCRIPTION,
    column,
    namesakes,
    snapshot,
    snapshot_of,
    table,
)

from pgparity.cli.report import FIX_WORDS
from pgparity.errors import FixError, MigrationError
from pgparity.migrations import rollback as rollbacks
from pgparity.migrations.discovery import discover, layout
from pgparity.migrations.lexer import statements
from pgparity.schema.diff import Change, compare
from pgparity.schema.fix.kinds.aggregates import aggregate_as_function
from pgparity.schema.fix.narrowing import NarrowingCheck, check_narrowing
from pgparity.schema.fix.plan import FixPlan, Rename, plan_fix
from pgparity.schema.fix.render import render, render_rollback
from pgparity.schema.fix.write import write_fix
from pgparity.schema.model import Role, ServerVersion, Snapshot, View

WORDS = FIX_WORDS["prod"]  # what db.fix writes by default

UNFIXABLE = {"partition key", "setting", "database setting", "custom database setting", "role setting",
             "migration checksum", "migration missing", "extension config table", "subscription missing"}


@dataclass(frozen=True)
class Pair:
    """Two databases on the session server: local (where fixes run) and production."""

    local: str
    production: str

    def build(self, base: str, local: str, production: str) -> tuple[Snapshot, Snapshot]:
        return snapshot_of(self.local, base + local), snapshot_of(self.production, base + production)

    def plan(self, base: str, local: str, production: str) -> tuple[tuple[Change, ...], FixPlan]:
        mine, theirs = self.build(base, local, production)
        differences = compare(mine, theirs)
        return differences, plan_fix(differences, mine, theirs, WORDS)

    def checks(self, plan: FixPlan) -> tuple[NarrowingCheck, ...]:
        with psycopg.connect(self.local, autocommit=True) as conn:
            return check_narrowing(conn, plan)

    def run(self, text: str) -> None:
        """As the ledger applies a migration: the whole file in one transaction."""
        with psycopg.connect(self.local) as conn, conn.transaction():
            conn.execute(text)

    def differences(self) -> tuple[Change, ...]:
        return compare(snapshot_of(self.local, ""), snapshot_of(self.production, ""))


@pytest.fixture
def pair(reader, config_extension, fresh_db, production_db) -> Pair:
    return Pair(fresh_db, production_db)


def round_trip(pair: Pair, directory: Path, base: str, local: str, production: str) -> tuple[FixPlan, str]:
    """Fix, check parity, roll back, check the differences are back; returns the plan and the fix."""
    differences, plan = pair.plan(base, local, production)
    assert differences
    assert [fix.change for fix in plan.fixes if fix.change] == list(differences)
    checks = pair.checks(plan)
    assert all(check.rows == 0 or check.narrowing.query is None for check in checks), checks
    forward, down = write_fix(directory, plan, checks, allow_destructive=True)
    assert not discover(directory).has_errors, discover(directory).errors
    pair.run(forward.read_text())
    assert pair.differences() == ()
    pair.run(down.read_text())
    assert pair.differences() == differences
    return plan, forward.read_text()


@pytest.mark.parametrize(("base", "local", "production", "expected"),
                         [case for case in CASES if case.id not in UNFIXABLE])
def test_each_kind_of_difference_is_fixed_and_rolled_back(pair, tmp_path, base, local, production, expected):
    round_trip(pair, tmp_path, base, local, production)


@pytest.mark.parametrize(("base", "local", "production", "expected"),
                         [case for case in CASES if case.id in UNFIXABLE])
def test_what_no_migration_fixes_is_explained_and_nothing_is_written(pair, tmp_path, base, local, production,
                                                                     expected):
    _, plan = pair.plan(base, local, production)
    (fix,) = plan.fixes
    assert fix.forward.note and not fix.forward.steps
    assert fix.forward.note.splitlines()[0][:30] in render(plan)
    with pytest.raises(FixError, match="nothing to apply"):
        write_fix(tmp_path, plan)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("since", "base", "local", "production", "expected"), NEWER_CASES)
def test_what_only_newer_majors_hold_is_fixed_and_rolled_back(pair, tmp_path, since, base, local, production,
                                                              expected):
    if major_of(pair.local) < since:
        pytest.skip(f"PostgreSQL {since}'s")
    round_trip(pair, tmp_path, base, local, production)


RICH_TABLE = f"""
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TABLE notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL COLLATE "C",
    loud text GENERATED ALWAYS AS (upper(body)) STORED, area box,
    CONSTRAINT short CHECK (length(body) < 500), EXCLUDE USING gist (area WITH &&)
);
CREATE UNIQUE INDEX notes_body ON notes (lower(body)) WHERE id > 10;
CREATE TRIGGER notes_touch BEFORE UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE notes DISABLE TRIGGER notes_touch, ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY mine ON notes AS RESTRICTIVE FOR UPDATE TO {READER} USING (id > 0) WITH CHECK (id > 1);
GRANT SELECT, UPDATE (body) ON notes TO {READER};
COMMENT ON TABLE notes IS 'notes'; COMMENT ON COLUMN notes.body IS 'text';
COMMENT ON CONSTRAINT short ON notes IS 'short'; COMMENT ON INDEX notes_body IS 'index';
COMMENT ON TRIGGER notes_touch ON notes IS 'trigger'; COMMENT ON POLICY mine ON notes IS 'policy';
"""
MATERIALIZED = "CREATE MATERIALIZED VIEW codes AS SELECT code FROM t;"
IDENTIFIED = ("CREATE TABLE t (a int NOT NULL, b int NOT NULL); CREATE UNIQUE INDEX k ON t ({});"
              "ALTER TABLE t REPLICA IDENTITY USING INDEX k;")

# An operator, which pgparity does not compare, on both sides; `~>` sorts like `>`.
GREATER = """
CREATE FUNCTION greater(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 > $2';
CREATE OPERATOR ~> (LEFTARG = int, RIGHTARG = int, FUNCTION = greater);
"""
# An aggregate of each kind and with each optional part, one read by a view.
AGGREGATES = """
CREATE AGGREGATE highest(int) (SFUNC = int4larger, STYPE = int, COMBINEFUNC = int4larger, SORTOP = ~>,
    PARALLEL = SAFE);
CREATE AGGREGATE rows_seen(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0');
CREATE AGGREGATE median(ORDER BY float8) (SFUNC = ordered_set_transition, STYPE = internal,
    FINALFUNC = percentile_cont_float8_final, FINALFUNC_EXTRA);
CREATE AGGREGATE position_of(VARIADIC "any" ORDER BY VARIADIC "any") (SFUNC = ordered_set_transition_multi,
    STYPE = internal, FINALFUNC = rank_final, FINALFUNC_EXTRA, HYPOTHETICAL);
CREATE AGGREGATE moving_mean(int) (SFUNC = int4_avg_accum, STYPE = int8[], FINALFUNC = int8_avg,
    INITCOND = '{0,0}', MSFUNC = int4_avg_accum, MINVFUNC = int4_avg_accum_inv, MSTYPE = int8[],
    MFINALFUNC = int8_avg, MINITCOND = '{0,0}');
REVOKE EXECUTE ON FUNCTION position_of(VARIADIC "any") FROM PUBLIC;
COMMENT ON AGGREGATE median(ORDER BY float8) IS 'middle';
CREATE TABLE t (n int); CREATE VIEW v AS SELECT highest(n) FROM t;
"""

EXTRA = [
    pytest.param("CREATE TABLE t (n int DEFAULT 0);", "CREATE TABLE t (n bigint DEFAULT 0);",
                 id="type change keeps its default"),
    pytest.param("CREATE TABLE t (n int DEFAULT 0);", "CREATE TABLE t (n text DEFAULT 'zero');",
                 id="type and default change together"),
    pytest.param("CREATE DOMAIN d AS int; CREATE TABLE t (v d DEFAULT 1);",
                 "CREATE DOMAIN d AS int NOT NULL DEFAULT 0; CREATE TABLE t (v d DEFAULT 1);",
                 id="domain default and not null"),
    pytest.param("CREATE DOMAIN d AS varchar(5); CREATE TABLE t (v d DEFAULT 'x'); INSERT INTO t VALUES ('abc');",
                 "CREATE DOMAIN d AS varchar(9); CREATE TABLE t (v d DEFAULT 'x');",
                 id="domain type used by a column"),
    pytest.param("CREATE TYPE pair AS (a int, gone text);", "CREATE TYPE pair AS (a int, b date);",
                 id="composite attributes"),
    pytest.param("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';",
                 "CREATE FUNCTION f() RETURNS bigint LANGUAGE sql AS 'SELECT 1';", id="function result"),
    pytest.param(RICH_TABLE.replace("ALTER TABLE notes DISABLE TRIGGER notes_touch,", "ALTER TABLE notes"),
                 RICH_TABLE, id="trigger disabled"),
    pytest.param("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;",
                 RICH_TABLE, id="table with everything"),
    pytest.param("CREATE TABLE e (at date) PARTITION BY RANGE (at);"
                 "CREATE TABLE e1 PARTITION OF e FOR VALUES FROM ('2024-01-01') TO ('2024-06-01');",
                 "CREATE TABLE e (at date) PARTITION BY RANGE (at);"
                 "CREATE TABLE e1 PARTITION OF e FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
                 id="partition bound"),
    pytest.param("CREATE TABLE t (code varchar);" + MATERIALIZED,
                 "CREATE TABLE t (code varchar(8));" + MATERIALIZED + "CREATE INDEX codes_code ON codes (code);",
                 id="materialized view index done by its rebuild"),
    pytest.param("CREATE SEQUENCE s AS integer;", "CREATE SEQUENCE s AS bigint MAXVALUE 9000000000;",
                 id="sequence type and maximum"),
    pytest.param("CREATE TABLE t (a int); CREATE VIEW v WITH (security_barrier = true) AS SELECT a FROM t;",
                 "CREATE TABLE t (a int); CREATE VIEW v WITH (check_option = cascaded) AS SELECT a FROM t;",
                 id="view options set and reset"),
    pytest.param("", "CREATE TABLE t (a int, b text) WITH (fillfactor = 50, toast.autovacuum_enabled = off);"
                     "CREATE INDEX t_a ON t (a) WITH (fillfactor = 40) WHERE a > 0;"
                     "CREATE VIEW v WITH (security_barrier = true) AS SELECT a FROM t;"
                     "CREATE MATERIALIZED VIEW m WITH (fillfactor = 30) AS SELECT a FROM t;",
                 id="objects created with their options"),
    pytest.param("", "CREATE TABLE t (a int PRIMARY KEY, b text);"
                     "ALTER TABLE t ALTER b SET STORAGE EXTERNAL, ALTER b SET STATISTICS 50,"
                     " REPLICA IDENTITY USING INDEX t_pkey;",
                 id="table created with its column settings and replica identity"),
    pytest.param("CREATE TABLE t (a int);", "CREATE TABLE t (a int, b text); ALTER TABLE t ALTER b SET STORAGE MAIN;",
                 id="column added with its storage"),
    pytest.param("CREATE TABLE t (a varchar(5)); ALTER TABLE t ALTER a SET STORAGE MAIN;",
                 "CREATE TABLE t (a text); ALTER TABLE t ALTER a SET STORAGE MAIN;", id="storage kept over a type change"),
    pytest.param("CREATE TABLE t (a int) WITH (autovacuum_vacuum_scale_factor = 0.1, toast.autovacuum_enabled = false);",
                 "CREATE TABLE t (a int) WITH (autovacuum_vacuum_scale_factor = 0.2, fillfactor = 90);",
                 id="table autovacuum and toast options"),
    pytest.param("CREATE TABLE t (a int);", "CREATE TABLE t (a int); ALTER TABLE t REPLICA IDENTITY NOTHING;",
                 id="replica identity nothing"),
    pytest.param(IDENTIFIED.format("a, b"), IDENTIFIED.format("a"), id="replica identity index made anew"),
    pytest.param("CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE t (r int);",
                 "CREATE TABLE r (id int PRIMARY KEY); CREATE TABLE t (r int);"
                 "ALTER TABLE t ADD CONSTRAINT t_r FOREIGN KEY (r) REFERENCES r NOT VALID;",
                 id="foreign key added not valid"),
    pytest.param("CREATE DOMAIN d AS int; ALTER DOMAIN d ADD CONSTRAINT positive CHECK (VALUE > 0) NOT VALID;",
                 "CREATE DOMAIN d AS int; ALTER DOMAIN d ADD CONSTRAINT positive CHECK (VALUE > 0);",
                 id="domain constraint validated"),
    pytest.param(RICH_TABLE, RICH_TABLE.replace("DISABLE TRIGGER", "ENABLE ALWAYS TRIGGER"), id="trigger always"),
    pytest.param(DDL_LOG, DDL_LOG + "CREATE EVENT TRIGGER gone ON sql_drop EXECUTE FUNCTION ddl_log();"
                 "ALTER EVENT TRIGGER gone DISABLE; COMMENT ON EVENT TRIGGER gone IS 'drops';",
                 id="event trigger disabled with a comment"),
    pytest.param(DDL_LOG + "CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION ddl_log();",
                 DDL_LOG + "CREATE EVENT TRIGGER e ON ddl_command_start WHEN TAG IN ('DROP TABLE')"
                 " EXECUTE FUNCTION ddl_log();", id="event trigger tags"),
    pytest.param("", "CREATE OPERATOR <<< (LEFTARG = int, RIGHTARG = int, FUNCTION = int4lt, COMMUTATOR = >>>,"
                 " NEGATOR = >>>=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);"
                 "CREATE OPERATOR >>> (LEFTARG = int, RIGHTARG = int, FUNCTION = int4gt, COMMUTATOR = <<<);"
                 "COMMENT ON OPERATOR <<< (int, int) IS 'less';", id="operators naming each other"),
    pytest.param(REVERSED_CMP, REVERSED_CMP + "CREATE OPERATOR FAMILY fam USING btree;"
                 "ALTER OPERATOR FAMILY fam USING btree ADD FUNCTION 1 (int4, int8) btint48cmp(int4, int8);"
                 + REVERSED_CLASS.format(" FAMILY fam") + "COMMENT ON OPERATOR CLASS int4_rev USING btree IS 'down';",
                 id="operator class in a family of loose members"),
    pytest.param(REVERSED_CMP + "CREATE DOMAIN rank AS int;", REVERSED_CMP + "CREATE DOMAIN rank AS int;"
                 "CREATE OPERATOR CLASS rank_ops DEFAULT FOR TYPE rank USING hash AS OPERATOR 1 = (int, int),"
                 " FUNCTION 1 hashint4(int);", id="default operator class for a domain"),
    pytest.param("CREATE TEXT SEARCH DICTIONARY plain (TEMPLATE = simple, StopWords = english, Accept = false);",
                 "CREATE TEXT SEARCH DICTIONARY plain (TEMPLATE = simple, StopWords = english);"
                 "CREATE TEXT SEARCH CONFIGURATION docs (COPY = english);"
                 "ALTER TEXT SEARCH CONFIGURATION docs ALTER MAPPING FOR word, asciiword WITH plain, english_stem;"
                 "ALTER TEXT SEARCH CONFIGURATION docs DROP MAPPING FOR email;"
                 "COMMENT ON TEXT SEARCH CONFIGURATION docs IS 'documents';", id="text search configuration on a dictionary"),
    pytest.param("CREATE TEXT SEARCH CONFIGURATION docs (COPY = english);"
                 "ALTER TEXT SEARCH CONFIGURATION docs DROP MAPPING FOR url, host;",
                 "CREATE TEXT SEARCH CONFIGURATION docs (COPY = english);"
                 "ALTER TEXT SEARCH CONFIGURATION docs ALTER MAPPING FOR word WITH simple, english_stem;",
                 id="text search mappings added, altered and dropped"),
    pytest.param("CREATE TABLE t (a int); CREATE MATERIALIZED VIEW m AS SELECT a FROM t;"
                 "CREATE INDEX m_a ON m (a);",
                 "CREATE TABLE t (a int); CREATE MATERIALIZED VIEW m WITH (autovacuum_enabled = false) AS SELECT a FROM t;"
                 "CREATE INDEX m_a ON m (a) WITH (fillfactor = 70);",
                 id="materialized view and its index options in place"),
    pytest.param(GREATER, GREATER + AGGREGATES, id="aggregates of every kind"),
    pytest.param("", "CREATE COLLATION bytewise (lc_collate = 'C', lc_ctype = 'C');"
                     "CREATE DOMAIN code AS text COLLATE bytewise; CREATE TABLE t (a text COLLATE bytewise, c code);"
                     "COMMENT ON COLLATION bytewise IS 'bytes';",
                 id="collation used by a domain and a column"),
    pytest.param("", "CREATE TYPE mood AS ENUM ('calm'); CREATE TYPE pair AS (a int);"
                     "CREATE FUNCTION mood_text(mood) RETURNS text LANGUAGE sql AS 'SELECT $1::text';"
                     "CREATE CAST (mood AS text) WITH FUNCTION mood_text(mood) AS IMPLICIT;"
                     "CREATE CAST (pair AS text) WITH INOUT AS ASSIGNMENT;"
                     "CREATE TABLE t (m mood); CREATE VIEW v AS SELECT upper(m) FROM t;",
                 id="casts with their types and functions"),
    pytest.param("", "CREATE SCHEMA s; CREATE COLLATION s.bytewise (locale = 'C');"
                     "CREATE AGGREGATE s.total(int) (SFUNC = int4pl, STYPE = int);"
                     "CREATE TABLE s.t (a text COLLATE s.bytewise, n int);"
                     "CREATE VIEW s.v AS SELECT s.total(n) FROM s.t;",
                 id="schema with an aggregate and a collation"),
]


@pytest.mark.parametrize(("local", "production"), EXTRA)
def test_more_changes_are_fixed_and_rolled_back(pair, tmp_path, local, production):
    round_trip(pair, tmp_path, "", local, production)


VIRTUAL = [
    pytest.param("CREATE TABLE t (a int);", "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2) VIRTUAL);",
                 id="virtual column missing"),
    pytest.param("CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2) STORED);",
                 "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2) VIRTUAL);", id="stored becomes virtual"),
    pytest.param("CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2) VIRTUAL);",
                 "CREATE TABLE t (a int, v int);", id="virtual becomes plain"),
]


@pytest.mark.parametrize(("local", "production"), VIRTUAL)
def test_virtual_columns_are_fixed_as_virtual(pair, tmp_path, local, production):
    if major_of(pair.local) < 18:
        pytest.skip("virtual generated columns are PostgreSQL 18's: run with PGPARITY_IMAGE of an 18 image")
    _, text = round_trip(pair, tmp_path, "", local, production)
    assert "VIRTUAL" in text


def test_security_invoker_is_set_in_place(pair, tmp_path):
    if major_of(pair.local) < 15:
        pytest.skip("security_invoker views are PostgreSQL 15's")
    view = "CREATE TABLE t (a int); CREATE VIEW v {}AS SELECT a FROM t;"
    _, text = round_trip(pair, tmp_path, "", view.format(""), view.format("WITH (security_invoker = true) "))
    assert 'ALTER VIEW "public"."v" SET ("security_invoker" = \'true\');' in text


def test_column_compression_is_set_in_place(pair, tmp_path):
    if major_of(pair.local) < 14:
        pytest.skip("column compression is PostgreSQL 14's")
    table = "CREATE TABLE t (a text, b text); {}"
    _, text = round_trip(pair, tmp_path, "", table.format("ALTER TABLE t ALTER a SET COMPRESSION pglz;"),
                         table.format("ALTER TABLE t ALTER b SET COMPRESSION pglz;"))
    assert 'ALTER TABLE "public"."t" ALTER COLUMN "a" SET COMPRESSION default;' in text


def test_event_triggers_say_they_need_a_superuser(pair, tmp_path):
    _, text = round_trip(pair, tmp_path, DDL_LOG, "", EVENT_TRIGGER)
    assert "-- note: event trigger ddl_log: only a superuser may create" in text
    assert "WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE') EXECUTE FUNCTION public.ddl_log()" in text


def test_text_search_parsers_say_they_need_a_superuser_and_mappings_are_grouped(pair, tmp_path):
    _, text = round_trip(pair, tmp_path, "", "", "CREATE TEXT SEARCH PARSER words (START = prsd_start,"
                         " GETTOKEN = prsd_nexttoken, END = prsd_end, LEXTYPES = prsd_lextype);"
                         "CREATE TEXT SEARCH CONFIGURATION docs (PARSER = words);"
                         "ALTER TEXT SEARCH CONFIGURATION docs ADD MAPPING FOR word, asciiword WITH english_stem, simple;")
    assert "-- note: text search parser public.words: only a superuser may create, alter or drop it" in text
    assert ('ALTER TEXT SEARCH CONFIGURATION "public"."docs" ADD MAPPING FOR "asciiword", "word" WITH english_stem, simple;'
            in text)


def test_a_subscription_is_dropped_without_touching_its_publisher_and_never_created(pair, tmp_path):
    _, plan = pair.plan("", SUBSCRIPTION.format("p", ", slot_name = 'remote'"), "")
    (fix,) = plan.fixes
    assert [s.sql for s in fix.forward.steps] == [
        'ALTER SUBSCRIPTION "s" DISABLE', 'ALTER SUBSCRIPTION "s" SET (slot_name = NONE)', 'DROP SUBSCRIPTION "s"']
    assert "its replication slot remote stays there" in fix.forward.note
    assert not fix.rollback.steps and "CONNECTION '…' PUBLICATION p" in fix.rollback.note
    forward, _ = write_fix(tmp_path, plan)
    assert "connection" not in "".join(s.sql for s in fix.forward.steps).lower()
    pair.run(forward.read_text())
    assert pair.differences() == ()


PUBLISHED = "CREATE TABLE t (a int PRIMARY KEY, b text); CREATE TABLE u (a int);"
PUBLICATIONS = [
    pytest.param(PUBLISHED + "CREATE PUBLICATION p FOR TABLE t, u;", PUBLISHED + "CREATE PUBLICATION p FOR ALL TABLES;",
                 id="publication for all tables"),
    pytest.param(PUBLISHED + "CREATE PUBLICATION p FOR ALL TABLES;", PUBLISHED + "CREATE PUBLICATION p FOR TABLE u;",
                 id="publication no longer for all tables"),
    pytest.param("CREATE TABLE t (a int);", "CREATE TABLE t (a int); CREATE TABLE n (b int);"
                 "CREATE PUBLICATION p FOR TABLE n, t WITH (publish = '', publish_via_partition_root = true);"
                 "COMMENT ON PUBLICATION p IS 'feed';", id="publication created with its table and options"),
    pytest.param(PUBLISHED + "CREATE PUBLICATION p FOR TABLE t, u WITH (publish = 'insert');",
                 PUBLISHED + "CREATE PUBLICATION p FOR TABLE t WITH (publish_via_partition_root = true);",
                 id="publication table dropped and options changed"),
    pytest.param(SUBSCRIPTION.format("p", ""), SUBSCRIPTION.format("p", "") + "COMMENT ON SUBSCRIPTION s IS 'in';",
                 id="subscription comment"),
]


@pytest.mark.parametrize(("local", "production"), PUBLICATIONS)
def test_publications_are_fixed_in_place_or_made_anew(pair, tmp_path, local, production):
    if "COMMENT ON SUBSCRIPTION" in production and major_of(pair.local) < 14:
        pytest.skip("on PostgreSQL 13 only a superuser may read what a subscription's comment needs")
    round_trip(pair, tmp_path, "", local, production)


def test_a_column_list_is_changed_around_its_columns(pair, tmp_path):
    if major_of(pair.local) < 15:
        pytest.skip("column lists are PostgreSQL 15's")
    _, text = round_trip(pair, tmp_path, "", "CREATE TABLE t (a int, old int); CREATE PUBLICATION p FOR TABLE t (a, old);",
                         "CREATE TABLE t (a int, new int); CREATE PUBLICATION p FOR TABLE t (a, new) WHERE (a > 0);")
    drop, column, add = (text.index(s) for s in ('ALTER PUBLICATION "p" DROP TABLE', 'DROP COLUMN "old"',
                                                 'ALTER PUBLICATION "p" ADD TABLE "public"."t" ("a", "new") WHERE ((a > 0))'))
    assert drop < column < add


def test_foreign_data_wrappers_say_they_need_a_superuser(pair, tmp_path):
    _, text = round_trip(pair, tmp_path, "", "", "CREATE FOREIGN DATA WRAPPER plain_fdw OPTIONS (debug 'true');")
    assert "-- note: foreign data wrapper plain_fdw: only a superuser may create, alter or drop it" in text
    assert 'CREATE FOREIGN DATA WRAPPER "plain_fdw" NO HANDLER NO VALIDATOR OPTIONS ("debug" \'true\')' in text


def test_a_user_mapping_is_made_without_its_secret_and_the_reader_told_to_set_it(pair):
    mapping = f"CREATE USER MAPPING FOR {READER} SERVER remote OPTIONS (user 'app', password 'hunter2');"
    _, plan = pair.plan(ON_REMOTE, "", mapping)
    text = render(plan)
    assert "hunter2" not in text
    assert f'CREATE USER MAPPING FOR "{READER}" SERVER "remote" OPTIONS ("user" \'app\')' in text
    assert (f'set it by hand: ALTER USER MAPPING FOR "{READER}" SERVER "remote" OPTIONS (ADD "password" \'...\')'
            in text)
    pair.run(text)
    assert [(d.kind, d.attribute, d.source, d.target) for d in (c.difference for c in pair.differences())] == [
        ("user_mapping", "options", "user=app", "password=(hidden), user=app")]


def test_a_foreign_column_type_is_changed_under_the_views_reading_it_without_counting_remote_rows(pair, tmp_path):
    table = ("CREATE FOREIGN TABLE remote_users (id {}, email text) SERVER remote;"
             "CREATE VIEW remote_ids AS SELECT id FROM remote_users;")
    _, text = round_trip(pair, tmp_path, ON_REMOTE, table.format("text"), table.format("bigint"))
    assert 'ALTER FOREIGN TABLE "public"."remote_users" ALTER COLUMN "id" TYPE bigint' in text
    assert 'CREATE VIEW "public"."remote_ids" AS' in text


def test_between_majors_db_fix_writes_nothing(fresh_db, other_server, tmp_path):
    from test_diff import ACROSS_MAJORS
    with scratch_database(other_server) as other:
        local, production = snapshot_of(fresh_db, ACROSS_MAJORS), snapshot_of(other, ACROSS_MAJORS)
    plan = plan_fix(compare(local, production), local, production, WORDS)
    assert all(not fix.forward.steps and fix.forward.note for fix in plan.fixes)
    with pytest.raises(FixError, match="nothing to apply"):
        write_fix(tmp_path, plan)


def test_identity_added_to_a_filled_column_continues_after_its_values(pair):
    _, plan = pair.plan("", "CREATE TABLE t (id int NOT NULL); INSERT INTO t VALUES (1), (7);",
                        "CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY);")
    pair.run(render(plan))
    assert pair.differences() == ()
    with psycopg.connect(pair.local) as conn:
        assert conn.execute("INSERT INTO t DEFAULT VALUES RETURNING id").fetchone() == (8,)


def test_changes_two_majors_print_differently_are_explained_and_nothing_is_written(tmp_path):
    def on_major(version_num: int, definition: str) -> Snapshot:
        view = View("public", "v", "postgres", definition, None, (), (), ())
        return snapshot(server=ServerVersion("PostgreSQL", version_num), views=(view,))
    local, production = on_major(150018, "SELECT o.id FROM public.orders o"), on_major(170002, "SELECT id FROM public.orders o")
    plan = plan_fix(compare(local, production), local, production, WORDS)
    assert [fix.forward.steps for fix in plan.fixes] == [()]
    assert "majors, which print the definition differently" in plan.fixes[0].forward.note
    with pytest.raises(FixError, match="nothing to apply"):
        write_fix(tmp_path, plan)


def test_role_attributes_are_explained_not_altered():
    local = snapshot(roles=(Role(READER, False, False, False, False, True, False, False),))
    production = snapshot(roles=(Role(READER, False, True, False, False, True, False, False),))
    (fix,) = plan_fix(compare(local, production), local, production, WORDS).fixes
    assert not fix.forward.steps and "ALTER ROLE by hand" in fix.forward.note


def test_seed_story_reaches_parity(pair, tmp_path):
    (tmp_path / "007_add_roles.sql").write_text("SELECT 1;\n")
    differences, plan = pair.plan("", SEED_LOCAL, SEED_PRODUCTION)
    pair.run("INSERT INTO users VALUES ('ada@example.com', 'hash'); INSERT INTO roles VALUES ('admin', 'all');")
    checks = pair.checks(plan)
    assert {(check.narrowing.target, check.rows) for check in checks} == {
        ("public.users.email", 0), ("public.users.password_hash", 0), ("public.auth_tokens.token", 0),
        ("public.auth_tokens.token_type", 0), ("public.roles.name", 0),
    }
    forward, down = write_fix(tmp_path, plan, checks)
    assert (forward.name, down.name) == ("008_fix_local_drift.sql", "008_fix_local_drift.down.sql")
    assert discover(tmp_path).migrations[-1].rollback == down
    text = forward.read_text()
    assert '\nALTER TABLE "public"."users" ALTER COLUMN "email" TYPE character varying(255);' in text
    assert '\nALTER TABLE "public"."users" ADD COLUMN "is_admin" boolean DEFAULT false;' in text
    assert "USING" not in text  # varchar to varchar(n) converts by assignment: fails, never truncates
    pair.run(text)
    assert pair.differences() == ()
    pair.run(render_rollback(plan, allow_destructive=True))
    assert pair.differences() == differences


def test_too_long_values_are_counted_and_the_fix_refused(pair, tmp_path):
    _, plan = pair.plan("", "CREATE TABLE users (email varchar);"
                            "INSERT INTO users VALUES (repeat('x', 300)), ('a');",
                        "CREATE TABLE users (email varchar(255));")
    checks = pair.checks(plan)
    assert [(check.narrowing.target, check.rows) for check in checks] == [("public.users.email", 1)]
    with pytest.raises(FixError, match=r"^public\.users\.email: 1 row longer than 255 characters, so the fix"):
        write_fix(tmp_path, plan, checks)
    assert list(tmp_path.iterdir()) == []
    forward, _ = write_fix(tmp_path, plan, checks, force=True)
    assert "--   public.users.email: 1 row longer than 255 characters" in forward.read_text()
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        pair.run(forward.read_text())


def test_unchecked_narrowing_is_refused_unless_forced(pair, tmp_path):
    _, plan = pair.plan("", "CREATE TABLE t (a int);", "CREATE TABLE t (a int NOT NULL);")
    with pytest.raises(FixError, match=r"^public\.t\.a: rows holding NULL.* were not counted"):
        write_fix(tmp_path, plan)
    write_fix(tmp_path, plan, force=True)


NARROWING = [
    pytest.param("CREATE TABLE t (a int); INSERT INTO t VALUES (NULL), (1), (NULL);",
                 "CREATE TABLE t (a int NOT NULL);", "public.t.a", 2, id="set not null"),
    pytest.param("CREATE TABLE t (email text); INSERT INTO t VALUES ('a'), ('a'), ('b'), (NULL), (NULL);",
                 "CREATE TABLE t (email text UNIQUE);", "public.t constraint t_email_key", 2, id="unique"),
    pytest.param("CREATE TABLE t (email text); INSERT INTO t VALUES ('A'), ('a'), ('b');",
                 "CREATE TABLE t (email text); CREATE UNIQUE INDEX t_lower ON t (lower(email));",
                 "public.t index t_lower", 2, id="unique index on an expression"),
    pytest.param("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (1), (2);",
                 "CREATE TABLE t (id int PRIMARY KEY);", "public.t constraint t_pkey", 2, id="primary key"),
    pytest.param("CREATE TABLE t (n int); INSERT INTO t VALUES (-1), (5);",
                 "CREATE TABLE t (n int CONSTRAINT positive CHECK (n > 0));", "public.t constraint positive", 1,
                 id="check"),
    pytest.param("CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);",
                 "CREATE TABLE t (id int, age int DEFAULT 0 CONSTRAINT adult CHECK (age >= 18));",
                 "public.t constraint adult", 2, id="check on a column the fix adds"),
    pytest.param("CREATE TABLE t (id int); INSERT INTO t VALUES (1);",
                 "CREATE TABLE t (id int, code text NOT NULL);", "public.t.code", 1, id="new not null column"),
    pytest.param("CREATE TABLE users (id int, role_id int); INSERT INTO users VALUES (1, 5), (2, NULL);",
                 "CREATE TABLE roles (id int PRIMARY KEY);"
                 "CREATE TABLE users (id int, role_id int CONSTRAINT users_role_fk REFERENCES roles);",
                 "public.users constraint users_role_fk", 1, id="foreign key to a new table"),
    pytest.param("CREATE TABLE roles (id int PRIMARY KEY); INSERT INTO roles VALUES (1);"
                 "CREATE TABLE users (role_id int); INSERT INTO users VALUES (1), (2), (NULL);",
                 "CREATE TABLE roles (id int PRIMARY KEY);"
                 "CREATE TABLE users (role_id int CONSTRAINT users_role_fk REFERENCES roles);",
                 "public.users constraint users_role_fk", 1, id="foreign key orphans"),
    pytest.param("CREATE TABLE t (n bigint); INSERT INTO t VALUES (1), (3000000000);",
                 "CREATE TABLE t (n integer);", "public.t.n", 1, id="integer range"),
    pytest.param("CREATE TABLE t (n numeric(8,2)); INSERT INTO t VALUES (123456.78), (1.5);",
                 "CREATE TABLE t (n numeric(5,2));", "public.t.n", 1, id="numeric precision"),
]


@pytest.mark.parametrize(("local", "production", "target", "rows"), NARROWING)
def test_narrowing_counts_the_rows_that_would_fail(pair, tmp_path, local, production, target, rows):
    _, plan = pair.plan("", local, production)
    checks = pair.checks(plan)
    assert [(check.narrowing.target, check.rows) for check in checks if check.rows] == [(target, rows)]
    with pytest.raises(FixError, match=f"^{target}: {rows} row"):
        write_fix(tmp_path, plan, checks)
    forward, _ = write_fix(tmp_path, plan, checks, force=True)
    with pytest.raises(psycopg.Error):  # the count was right: the fix does fail on those rows
        pair.run(forward.read_text())


def test_destructive_changes_are_commented_out_unless_allowed(pair, tmp_path):
    _, plan = pair.plan("", "CREATE TABLE users (id int, nickname text);", "CREATE TABLE users (id int);")
    drop = 'ALTER TABLE "public"."users" DROP COLUMN "nickname";'
    text = render(plan)
    assert f"-- WARNING: destructive: drops column public.users.nickname and its data\n-- {drop}" in text
    assert f"\n{drop}" not in text
    with pytest.raises(FixError, match="nothing to apply: 1 change"):
        write_fix(tmp_path, plan)
    assert f"\n{drop}" in render(plan, allow_destructive=True)


def test_renames_are_suggested_never_applied(pair):
    _, plan = pair.plan("", "CREATE TABLE t (id int, mail text);", "CREATE TABLE t (id int, email text);")
    assert plan.renames == (Rename("public", "t", "mail", "email"),)
    text = render(plan)
    assert '--   ALTER TABLE "public"."t" RENAME COLUMN "mail" TO "email";' in text
    assert '\nALTER TABLE "public"."t" ADD COLUMN "email" text;' in text
    assert '\n-- ALTER TABLE "public"."t" DROP COLUMN "mail";' in text


ORDER_LOCAL = "CREATE TABLE users (id int PRIMARY KEY, role_id int);"
ORDER_PRODUCTION = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN short_text AS varchar(20) CHECK (VALUE <> '');
CREATE TYPE entry AS (mood mood, note short_text);
CREATE TABLE roles (id int PRIMARY KEY, name short_text UNIQUE);
CREATE TABLE users (id int PRIMARY KEY, role_id int REFERENCES roles ON DELETE SET NULL);
CREATE SEQUENCE diary_seq;
CREATE TABLE diary (id int PRIMARY KEY DEFAULT nextval('diary_seq'), mood mood NOT NULL DEFAULT 'sad',
                    entries entry[], author int REFERENCES users);
ALTER SEQUENCE diary_seq OWNED BY diary.id;
CREATE FUNCTION sad_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM diary WHERE mood = ''sad''';
CREATE SCHEMA reports;
CREATE VIEW reports.sad AS SELECT id FROM diary WHERE mood = 'sad';
CREATE VIEW reports.sad_ids AS SELECT id FROM reports.sad;
CREATE MATERIALIZED VIEW reports.totals AS SELECT count(*) AS n FROM reports.sad_ids;
CREATE UNIQUE INDEX totals_n ON reports.totals (n);
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
    PARTITION BY RANGE (id);
CREATE TABLE events_2024_low PARTITION OF events_2024 FOR VALUES FROM (0) TO (100);
"""


def test_dependencies_are_created_first_and_dropped_last(pair, tmp_path):
    """Types before the tables using them, a referenced table before the foreign key, a view after
    the view it reads, partitions after their parents, all dropped in the reverse order."""
    round_trip(pair, tmp_path, "", ORDER_LOCAL, ORDER_PRODUCTION)


def test_views_are_rebuilt_around_a_column_type_change(pair, tmp_path):
    view = (f"CREATE VIEW emails AS SELECT email FROM users; GRANT SELECT ON emails TO {READER};"
            "CREATE VIEW counted AS SELECT count(*) AS n FROM emails;")
    plan, forward = round_trip(pair, tmp_path, "", "CREATE TABLE users (email varchar);" + view,
                               "CREATE TABLE users (email varchar(255));" + view)
    assert [fix.change is None for fix in plan.fixes] == [False, True, True]
    order = [s.text.split(" AS ")[0] for s in statements(forward)]
    assert order.index('DROP VIEW "public"."counted"') < order.index('DROP VIEW "public"."emails"') < \
        order.index('ALTER TABLE "public"."users" ALTER COLUMN "email" TYPE character varying(255)') < \
        order.index('CREATE VIEW "public"."emails"') < order.index('CREATE VIEW "public"."counted"')


def test_removing_an_enum_label_recreates_the_type_and_recasts_its_columns(pair, tmp_path):
    round_trip(pair, tmp_path, "",
               "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"
               "CREATE TABLE t (m mood DEFAULT 'sad'); INSERT INTO t VALUES ('sad'), ('happy');",
               "CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE t (m mood DEFAULT 'sad');")


@pytest.mark.parametrize("made", [
    "CREATE TABLE t (a int); REVOKE SELECT ON t FROM {reader};",
    "CREATE SEQUENCE q; REVOKE SELECT ON SEQUENCE q FROM {reader};",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; REVOKE EXECUTE ON FUNCTION f() FROM {reader};",
    "CREATE TYPE mood AS ENUM ('sad'); REVOKE USAGE ON TYPE mood FROM {reader};",
], ids=["table", "sequence", "function", "type"])
def test_what_default_privileges_grant_an_object_the_fix_makes_is_revoked_where_the_target_lacks_it(
        pair, tmp_path, made):
    defaults = ("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {reader};"
                "ALTER DEFAULT PRIVILEGES GRANT SELECT ON SEQUENCES TO {reader};"
                "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO {reader};"
                "ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO {reader};").format(reader=READER)
    round_trip(pair, tmp_path, defaults, "", made.format(reader=READER))


def test_a_recreated_type_keeps_its_grants_and_public_revoked(pair, tmp_path):
    grants = f"REVOKE USAGE ON TYPE mood FROM PUBLIC; GRANT USAGE ON TYPE mood TO {READER};"
    round_trip(pair, tmp_path, "", "CREATE TYPE mood AS ENUM ('sad', 'ok');" + grants,
               "CREATE TYPE mood AS ENUM ('sad');" + grants)


def test_a_whole_schema_is_dropped_object_by_object(pair, tmp_path):
    """A view in it reads a column dropped elsewhere: the view must go first, the schema last."""
    round_trip(pair, tmp_path, "CREATE TABLE base (id int, note text);",
               "CREATE SCHEMA old; CREATE VIEW old.notes AS SELECT note FROM public.base;"
               "CREATE TABLE old.log (id int); CREATE VIEW old.ids AS SELECT id FROM public.base;",
               "ALTER TABLE base DROP COLUMN note;")


ODD = '"Odd ""Schema"""'


def test_names_and_values_are_quoted(pair, tmp_path):
    round_trip(
        pair, tmp_path, 'CREATE TABLE "Weird Table" ("x y" varchar);',
        "",
        f'CREATE SCHEMA {ODD}; CREATE TABLE {ODD}."Order" ("select" text, "Name; DROP" int);'
        f"COMMENT ON TABLE {ODD}.\"Order\" IS E'it''s\\nline two -- \\\\ not a comment';"
        'ALTER TABLE "Weird Table" ALTER "x y" TYPE varchar(10), ADD "new;col" text DEFAULT \'a;b\';'
        f'GRANT SELECT ("x y") ON "Weird Table" TO {READER};',
    )


def test_plan_is_pure_logic_and_every_difference_gets_one_change():
    local = snapshot(tables=(table("t", column("a")),))
    production = snapshot(tables=(table("t", column("a", "integer"), column("b")),))
    differences = compare(local, production)
    plan = plan_fix(differences, local, production, WORDS)
    assert [fix.change for fix in plan.fixes] == list(differences)
    assert [s.sql for s in plan.fixes[0].forward.steps] == [
        'ALTER TABLE "public"."t" ALTER COLUMN "a" TYPE integer USING "a"::integer']
    assert plan.fixes[0].forward.destructive == "public.t.a: converting text to integer may change values"
    assert [s.sql for s in plan.fixes[1].rollback.steps] == ['ALTER TABLE "public"."t" DROP COLUMN "b"']


def next_number(directory: Path) -> str:
    fmt, files = layout(directory)
    return fmt.new(directory, files, "x", "", None)[-1].path.name.partition("_")[0]


def test_next_number_follows_the_highest_with_its_padding(tmp_path):
    assert next_number(tmp_path) == "001"
    for name in ("001_init.sql", "007_users.sql", "007_users.down.sql", "README.md"):
        (tmp_path / name).write_text("SELECT 1;\n")
    assert next_number(tmp_path) == "008"
    (tmp_path / "0099_wide.sql").write_text("")
    assert next_number(tmp_path) == "0100"
    unpadded = tmp_path / "unpadded"
    unpadded.mkdir()
    for name in ("9_a.sql", "10_b.sql"):
        (unpadded / name).write_text("")
    assert next_number(unpadded) == "11"


def test_written_files_pair_as_migration_and_rollback(tmp_path):
    local, production = snapshot(), snapshot(tables=(table("t", column("a")),))
    plan = plan_fix(compare(local, production), local, production, WORDS)
    forward, down = write_fix(tmp_path / "migrations", plan)
    (migration,) = discover(tmp_path / "migrations").migrations
    assert (migration.path, migration.rollback) == (forward, down)
    assert [s.text for s in statements(forward.read_text())] == [
        "SET lock_timeout = '5s'", "SET statement_timeout = '15min'", 'CREATE TABLE "public"."t" (\n    "a" text\n)']
    assert [s.text for s in statements(down.read_text())] == []  # destructive: commented out
    assert '-- DROP TABLE "public"."t";' in down.read_text()
    assert '-- DROP TABLE "public"."t";' in forward.read_text()  # the rollback, repeated for readers
    assert "match local again once the destructive statements commented out below are uncommented" \
        in down.read_text()
    with pytest.raises(MigrationError, match=r"\.down\.sql:\d+: DROP TABLE is commented out, so this rollback"):
        rollbacks.choose([migration], 1, "app")


def test_empty_plan_has_nothing_to_write(tmp_path):
    with pytest.raises(FixError, match="nothing to apply"):
        write_fix(tmp_path, plan_fix((), snapshot(), snapshot(), WORDS))


NAMESAKES = "CREATE TABLE t (a int CONSTRAINT foo CHECK (a > 0)); CREATE INDEX foo ON t (a);"


def test_a_constraint_and_an_index_of_one_name_get_their_own_comments(pair, tmp_path):
    _, text = round_trip(pair, tmp_path, NAMESAKES,
                         "COMMENT ON CONSTRAINT foo ON t IS 'one'; COMMENT ON INDEX foo IS 'one';",
                         "COMMENT ON CONSTRAINT foo ON t IS 'two';")
    assert "-- 2 differences: 2 fixed below," in text
    assert '\nCOMMENT ON CONSTRAINT "foo" ON "public"."t" IS \'two\';' in text
    assert '\nCOMMENT ON INDEX "public"."foo" IS NULL;' in text


def test_comments_on_namesakes_are_planned_on_each_object():
    source, target = namesakes("one", "one"), namesakes("two", None)
    plan = plan_fix(compare(source, target), source, target, WORDS)
    assert [[s.sql for s in fix.forward.steps] for fix in plan.fixes] == [
        ['COMMENT ON INDEX "public"."foo" IS NULL'], ['COMMENT ON CONSTRAINT "foo" ON "public"."t" IS \'two\''],
    ]
    assert [[s.sql for s in fix.rollback.steps] for fix in plan.fixes] == [
        ['COMMENT ON INDEX "public"."foo" IS \'one\''], ['COMMENT ON CONSTRAINT "foo" ON "public"."t" IS \'one\''],
    ]


def test_the_sides_are_named_as_the_caller_says(tmp_path):
    source, target = snapshot(tables=(table("t", column("a")),)), snapshot()
    plan = plan_fix(compare(source, target), source, target, FIX_WORDS["dev"])
    text = render(plan)
    assert "makes the database it runs on (the migrations' schema) match the dev database." in text
    assert "-- table public.t: only in the migrations' schema\n" in text
    assert "production" not in text and "local" not in text
    with pytest.raises(FixError, match="nothing to apply: the migrations' schema already matches the dev database"):
        write_fix(tmp_path, plan_fix((), source, source, plan.words))


def test_destructive_statements_name_the_flag_as_it_is_typed(tmp_path):
    source, target = snapshot(), snapshot(tables=(table("t", column("a")),))
    plan = plan_fix(compare(source, target), source, target, FIX_WORDS["dev"])
    assert "makes the database match the migrations' schema again." in render_rollback(plan, allow_destructive=True)
    assert "Destructive, applied (--allow-destructive)" in render_rollback(plan, allow_destructive=True)
    assert "write the fix with --allow-destructive to apply" in render(plan_fix(compare(target, source), target,
                                                                              source, WORDS))
    with pytest.raises(FixError, match=r"\(--allow-destructive writes those\)"):
        write_fix(tmp_path, plan_fix(compare(target, source), target, source, WORDS))


OWNED = "CREATE TABLE t (id serial); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';"


def test_owners_are_compared_fixed_and_rolled_back_only_when_asked(pair, tmp_path):
    production = (f"CREATE SCHEMA kept; ALTER TABLE t OWNER TO {READER};"
                  f"CREATE TYPE mood AS ENUM ('calm'); ALTER TYPE mood OWNER TO {READER};"
                  f"CREATE VIEW v AS SELECT 1 AS one; ALTER VIEW v OWNER TO {READER};")
    mine, theirs = pair.build(OWNED, "CREATE SCHEMA kept;", production)
    assert {c.kind for c in compare(mine, theirs)} == {"enum", "view"}
    differences = compare(mine, theirs, owners=True)
    owned = [c.difference for c in differences if c.attribute == "owner"]
    local_owner = mine.tables[0].owner
    assert [(d.kind, d.object, d.source, d.target) for d in owned] == [
        ("table", "public.t", local_owner, READER), ("sequence", "public.t_id_seq", local_owner, READER)]
    plan = plan_fix(differences, mine, theirs, WORDS, owners=True)
    forward, down = write_fix(tmp_path, plan, pair.checks(plan), allow_destructive=True)
    assert f'ALTER TABLE "public"."t" OWNER TO "{READER}";' in forward.read_text()
    pair.run(forward.read_text())
    after = compare(snapshot_of(pair.local, ""), snapshot_of(pair.production, ""), owners=True)
    assert after == ()
    pair.run(down.read_text())
    assert compare(snapshot_of(pair.local, ""), snapshot_of(pair.production, ""), owners=True) == differences


@pytest.mark.parametrize(("arguments", "granted"), [
    ("integer", "integer"), ("", ""), ("ORDER BY integer", "integer"),
    ("double precision ORDER BY anyelement", "double precision, anyelement"),
    ('VARIADIC "any" ORDER BY VARIADIC "any"', 'VARIADIC "any"'),
])
def test_an_aggregate_is_granted_on_as_a_function_of_all_its_argument_types(arguments, granted):
    aggregate = SimpleNamespace(schema="public", name="agg", arguments=arguments)
    assert aggregate_as_function(aggregate).as_string(None) == f'FUNCTION "public"."agg"({granted})'
