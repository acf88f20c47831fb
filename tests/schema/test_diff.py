"""Diff: pairs of real databases that differ in exactly one thing, plus pure-logic cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from conftest import READER, scratch_database
from schema_cases import (
    BASE,
    CASES,
    DDL_LOG,
    ENGLISH,
    EVENT_TRIGGER,
    KEEP_USERS,
    MOOD_TEXT,
    NEWER_CASES,
    ON_REMOTE,
    PLAIN_DICTIONARY,
    POSTGRES_FDW,
    REVERSED_CLASS,
    REVERSED_CMP,
    SEED_LOCAL,
    SEED_PRODUCTION,
    TOTAL,
    as_printed_by,
    column,
    in_this_database,
    namesakes,
    snapshot,
    snapshot_of,
    table,
)

from pgparity.cli.report import difference_json, summary_line, verdict_json
from pgparity.schema.diff import KINDS, Difference, compare
from pgparity.schema.model import Extension, Ledger, LedgerEntry, Schema, ServerVersion, Snapshot, View
from pgparity.schema.serialize import dump_snapshot
from pgparity.schema.verify import ServerCheck, diff_verdict, rows, verdict
from pgparity.versions import release

Build = Callable[[str, str, str], tuple[Snapshot, Snapshot]]


def differences(source: Snapshot, target: Snapshot) -> tuple[Difference, ...]:
    """What the report shows of the changes."""
    return rows(compare(source, target))


@pytest.fixture
def build(reader, config_extension, fresh_db, production_db) -> Build:
    """Builds local from base + local DDL and production from base + production DDL."""
    def build(base: str, local: str, production: str) -> tuple[Snapshot, Snapshot]:
        return snapshot_of(fresh_db, base + local), snapshot_of(production_db, base + production)
    return build


@pytest.mark.parametrize(("base", "local", "production", "expected"), CASES)
def test_one_injected_difference_is_reported_alone(build: Build, base, local, production, expected, image_major):
    local_snapshot, production_snapshot = build(base, local, production)
    assert differences(local_snapshot, production_snapshot) == (as_printed_by(image_major, expected),)
    assert expected.kind in KINDS


@pytest.mark.parametrize(("since", "base", "local", "production", "expected"), NEWER_CASES)
def test_what_only_newer_majors_hold_is_reported_alone(build: Build, since, base, local, production, expected,
                                                       image_major):
    if image_major < since:
        pytest.skip(f"PostgreSQL {since}'s")
    local_snapshot, production_snapshot = build(base, local, production)
    assert differences(local_snapshot, production_snapshot) == (expected,)
    assert expected.kind in KINDS


RENDERED = r"""
CREATE TABLE bookings (
    at timestamptz DEFAULT '2024-03-01 12:00:00+00', span interval DEFAULT '1 day 02:03:04',
    ratio float8 DEFAULT 0.1, day date DEFAULT '2024-03-01', raw bytea DEFAULT '02',
    CONSTRAINT after_launch CHECK (at > '2024-01-01 00:00:00+00'), CONSTRAINT brief CHECK (span < '3 days')
);
CREATE VIEW upcoming AS SELECT at FROM bookings WHERE at > '2024-06-01 00:00:00+00'::timestamptz AND ratio > 0.3;
"""
# name: (as ALTER DATABASE … SET takes it, as the database then reports it)
SESSION_DEFAULTS = {
    "TimeZone": ("'Asia/Tokyo'", "Asia/Tokyo"), "DateStyle": ("'SQL, DMY'", "SQL, DMY"),
    "IntervalStyle": ("sql_standard", "sql_standard"), "search_path": ("pg_catalog, public", "pg_catalog, public"),
    "extra_float_digits": ("0", "0"), "bytea_output": ("escape", "escape"),
}


def test_database_session_defaults_change_no_printed_definition(build: Build):
    defaults = "".join(in_this_database(f"ALTER DATABASE %I SET {name} = {value}")
                       for name, (value, _) in SESSION_DEFAULTS.items())
    local, production = build(RENDERED, "", defaults)
    assert {(d.kind, d.object, d.target) for d in differences(local, production)} == {
        ("setting", name, shown) for name, (_, shown) in SESSION_DEFAULTS.items()}


def test_a_named_not_null_constraint_is_column_nullability_only(build: Build):
    local, production = build("", "CREATE TABLE t (a int NOT NULL);", "CREATE TABLE t (a int CONSTRAINT a_required NOT NULL);")
    assert differences(local, production) == ()


ALERT = "CREATE RULE users_alert AS ON UPDATE TO users DO ALSO NOTIFY users;"


@pytest.mark.parametrize(("local", "production"), [
    ("CREATE STATISTICS s (ndistinct, dependencies, mcv) ON id, role_id FROM users;",
     "CREATE STATISTICS s ON id, role_id FROM users;"),
    (KEEP_USERS + ALERT, ALERT + KEEP_USERS),
], ids=["statistics kinds spelled out", "rules in another order"])
def test_statistics_and_rules_written_another_way_are_no_difference(build: Build, local, production):
    assert differences(*build(BASE, local, production)) == ()


def test_foreign_server_options_in_another_order_are_the_same(build: Build):
    server = "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({});"
    local, production = build(POSTGRES_FDW, server.format("host 'db', dbname 'app', port '5433'"),
                              server.format("port '5433', dbname 'app', host 'db'"))
    assert differences(local, production) == ()


SECRET_MAPPING = (f"CREATE USER MAPPING FOR {READER} SERVER remote"
                  " OPTIONS (user 'app', password '{}', sslkey '/keys/{}.key', sslpassword '{}');")


def test_user_mapping_secrets_compare_as_set_and_never_leave_the_server(build: Build):
    local, production = build(ON_REMOTE, SECRET_MAPPING.format(*["hunter2-local"] * 3),
                              SECRET_MAPPING.format(*["hunter2-production"] * 3))
    assert differences(local, production) == ()
    (mapping,) = local.user_mappings
    assert mapping.options == ("password=(hidden)", "sslkey=(hidden)", "sslpassword=(hidden)", "user=app")
    assert "hunter2" not in dump_snapshot(local) + dump_snapshot(production)


def test_a_user_mapping_secret_is_reported_as_set_never_by_its_value(build: Build):
    local, production = build(ON_REMOTE, "", SECRET_MAPPING.format(*["hunter2"] * 3))
    verdict = diff_verdict(local, production, ())
    assert [d.target for d in differences(local, production)] == [
        "password=(hidden), sslkey=(hidden), sslpassword=(hidden), user=app"]
    assert "hunter2" not in repr(verdict_json(verdict)) + summary_line(verdict) + dump_snapshot(production)


# What the issue saw differ between majors: a single-table view's text, a procedure's IN mode, pg_trgm's version.
ACROSS_MAJORS = """
CREATE EXTENSION pg_trgm;
CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'open', placed timestamptz DEFAULT now());
CREATE VIEW open_orders AS SELECT o.id FROM orders o WHERE o.status = 'open';
CREATE MATERIALIZED VIEW order_counts AS SELECT o.status, count(*) FROM orders o GROUP BY o.status;
CREATE PROCEDURE cancel_order(p_id bigint) LANGUAGE sql AS $$UPDATE orders SET status = 'cancelled' WHERE id = p_id$$;
CREATE INDEX orders_status ON orders USING gin (status gin_trgm_ops);
"""


def test_between_majors_the_same_schema_differs_only_by_version(fresh_db, other_server, tmp_path):
    with scratch_database(other_server) as other:
        local, production = snapshot_of(fresh_db, ACROSS_MAJORS), snapshot_of(other, ACROSS_MAJORS)
    changes = compare(local, production)
    assert [c.difference for c in changes if not c.version_only and c.kind != "setting"] == []
    result = diff_verdict(local, production, ("setting:*",))
    assert not result.drift and result.server.status == "major_mismatch"


def test_role_attributes_are_compared(build: Build):
    grant = f"GRANT SELECT ON users TO {READER};"
    local, production = build(BASE, grant, grant)
    (role,) = production.roles
    production = dataclasses.replace(production, roles=(dataclasses.replace(role, login=True),))
    assert differences(local, production) == (
        Difference("role", READER, "", "login", "false", "true", "different"),
    )


@pytest.mark.parametrize(("production_num", "status"), [
    (150018, "same"), (150020, "minor_mismatch"), (170012, "major_mismatch")])
def test_the_server_version_is_its_own_verdict_never_a_schema_difference(production_num, status):
    local = snapshot(server=ServerVersion("PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu", 150018))
    production = snapshot(server=ServerVersion(f"PostgreSQL {release(production_num)} elsewhere", production_num))
    assert compare(local, production) == ()
    result = diff_verdict(local, production, ())
    assert (result.server.status, result.failed) == (status, status == "major_mismatch")
    document = verdict_json(result)
    assert document["server_version"]["local"] == "15.18"
    assert document["server_version"]["production"] == release(production_num)
    assert document["server_version"]["status"] == status
    assert document["differences"] == [] and document["summary"]["differences"] == 0
    assert document["status"] == {"major_mismatch": "version_mismatch"}.get(status, "parity")


def test_verify_says_in_one_sentence_which_release_each_side_runs():
    check = ServerCheck("production", ServerVersion("PostgreSQL 17.12 (Debian …) on x86_64 …", 170012),
                        ServerVersion("PostgreSQL 15.20 (Debian …) on x86_64 …", 150020))
    document = verdict_json(verdict((), (), None, (), check))
    assert document["server_version"]["message"] == "production runs PostgreSQL 15.20, dev runs 17.12"
    assert "unset PGPARITY_IMAGE" in document["server_version"]["advice"]
    assert summary_line(verdict((), (), None, (), check)).startswith("version mismatch: no schema differences")


def test_seed_story_gives_exactly_nine_differences(build: Build):
    local, production = build("", SEED_LOCAL, SEED_PRODUCTION)
    vc = "character varying"
    assert differences(local, production) == (
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
    assert differences(local, production) == ()


SETTINGS_TABLE = "CREATE TABLE t (a text PRIMARY KEY, n int) WITH (fillfactor = 70, autovacuum_enabled = false);"
VIEW = "CREATE VIEW v {}AS SELECT a FROM t;"
TRIGGERED = ("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;"
             "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();")
CASTS = ("CREATE CAST (mood AS text) WITH FUNCTION mood_text(mood) AS ASSIGNMENT;",
         "CREATE CAST (mood AS integer) WITH INOUT;")
DEFAULTS_SPELLED_OUT = [
    pytest.param("CREATE TABLE t (a int) WITH (fillfactor = 70, autovacuum_enabled = false, toast.autovacuum_enabled = on);",
                 "CREATE TABLE t (a int) WITH (toast.autovacuum_enabled = on, autovacuum_enabled = false, fillfactor = 70);",
                 id="options in another order"),
    pytest.param(SETTINGS_TABLE + "ALTER TABLE t ALTER a SET STORAGE EXTENDED, ALTER n SET STORAGE PLAIN;", SETTINGS_TABLE,
                 id="storage of the type"),
    pytest.param(SETTINGS_TABLE + "ALTER TABLE t ALTER n SET STATISTICS 100, ALTER n SET STATISTICS -1;", SETTINGS_TABLE,
                 id="statistics target reset"),
    pytest.param(SETTINGS_TABLE + "ALTER TABLE t REPLICA IDENTITY DEFAULT;", SETTINGS_TABLE, id="replica identity default"),
    pytest.param(SETTINGS_TABLE + VIEW.format("WITH (security_barrier = false) "), SETTINGS_TABLE + VIEW.format(""),
                 id="security_barrier false"),
    pytest.param(SETTINGS_TABLE + VIEW.format("WITH (security_barrier = on) "),
                 SETTINGS_TABLE + VIEW.format("WITH (security_barrier = true) "), id="security_barrier spelled on"),
    pytest.param(SETTINGS_TABLE + TRIGGERED + "ALTER TABLE t ENABLE TRIGGER t_touch;", SETTINGS_TABLE + TRIGGERED,
                 id="enable trigger"),
    pytest.param(DDL_LOG + EVENT_TRIGGER + "ALTER EVENT TRIGGER ddl_log ENABLE;", DDL_LOG + EVENT_TRIGGER,
                 id="enable event trigger"),
    pytest.param("CREATE TABLE a (x int); CREATE TABLE b (x int); CREATE PUBLICATION p FOR TABLE a, b;",
                 "CREATE TABLE b (x int); CREATE TABLE a (x int); CREATE PUBLICATION p FOR TABLE b, a;",
                 id="publication tables in another order"),
    pytest.param(SETTINGS_TABLE + "CREATE PUBLICATION p FOR TABLE t WITH (publish = 'insert, update, delete, truncate');",
                 SETTINGS_TABLE + "CREATE PUBLICATION p FOR TABLE t;", id="publish spelled out"),
    pytest.param(SETTINGS_TABLE + "ALTER TABLE t ADD CONSTRAINT short CHECK (length(a) < 9) NOT VALID;"
                 "ALTER TABLE t VALIDATE CONSTRAINT short;",
                 SETTINGS_TABLE + "ALTER TABLE t ADD CONSTRAINT short CHECK (length(a) < 9);", id="validated later"),
    pytest.param(MOOD_TEXT + CASTS[0] + CASTS[1], MOOD_TEXT + CASTS[1] + CASTS[0], id="casts in another order"),
    pytest.param("CREATE COLLATION bytewise (locale = 'C');",
                 "CREATE COLLATION bytewise (lc_collate = 'C', lc_ctype = 'C');", id="collation locale in two parts"),
    pytest.param(TOTAL.format(", PARALLEL = UNSAFE"), TOTAL.format(""), id="aggregate parallel unsafe"),
]


@pytest.mark.parametrize(("local", "production"), DEFAULTS_SPELLED_OUT)
def test_defaults_spelled_out_differ_in_nothing(build: Build, local, production):
    local_snapshot, production_snapshot = build("", local, production)
    assert differences(local_snapshot, production_snapshot) == ()


LESS = "CREATE OPERATOR <<< (LEFTARG = int, RIGHTARG = int, FUNCTION = int4lt, COMMUTATOR = >>>, NEGATOR = >>>=);"
MORE = "CREATE OPERATOR >>> (LEFTARG = int, RIGHTARG = int, FUNCTION = int4gt, COMMUTATOR = <<<);"
SPELLED_OUT_ENGLISH = "CREATE TEXT SEARCH CONFIGURATION docs (PARSER = pg_catalog.default);" + "".join(
    f"ALTER TEXT SEARCH CONFIGURATION docs ADD MAPPING FOR {token} WITH {dictionary};"
    for token, dictionary in reversed(ENGLISH.items()))


@pytest.mark.parametrize(("local", "production"), [
    pytest.param(LESS + MORE, MORE + LESS, id="operators in another order"),
    pytest.param("CREATE TEXT SEARCH CONFIGURATION docs (COPY = english);", SPELLED_OUT_ENGLISH,
                 id="text search configuration copied or spelled out"),
    pytest.param(PLAIN_DICTIONARY.format("StopWords = english, Accept = false"),
                 PLAIN_DICTIONARY.format("accept = 'false', stopwords = 'english'"), id="dictionary options in another order"),
    pytest.param(REVERSED_CMP + "CREATE OPERATOR FAMILY int4_rev USING btree;" + REVERSED_CLASS.format(" FAMILY int4_rev"),
                 REVERSED_CMP + REVERSED_CLASS.format(""), id="operator class family made first"),
])
def test_operators_and_text_search_made_another_way_differ_in_nothing(build: Build, local, production):
    local_snapshot, production_snapshot = build("", local, production)
    assert differences(local_snapshot, production_snapshot) == ()


def test_compression_spelled_as_the_default_differs_in_nothing(build: Build, image_major):
    if image_major < 14:
        pytest.skip("column compression is PostgreSQL 14's")
    table = "CREATE TABLE t (a text);"
    local, production = build("", table + "ALTER TABLE t ALTER a SET COMPRESSION pglz, ALTER a SET COMPRESSION default;",
                              table)
    assert differences(local, production) == ()
    local, production = build("", "ALTER TABLE t ALTER a SET COMPRESSION pglz;", "")
    assert differences(local, production) == (
        Difference("column", "public.t", "a", "compression", "pglz", None, "different"),)


def test_extension_objects_are_left_out_but_the_extension_is_reported(build: Build):
    local, production = build("", "CREATE EXTENSION pg_trgm;", "")
    (only,) = differences(local, production)
    assert (only.kind, only.object, only.status) == ("extension", "pg_trgm", "missing_in_production")


def test_pgparity_schema_is_ignored(build: Build):
    local, production = build("", "CREATE SCHEMA pgparity; CREATE TABLE pgparity.locks (id int);", "")
    assert differences(local, production) == ()


GRANTED_OBJECTS = """
CREATE SCHEMA app; CREATE SEQUENCE app.s; CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TYPE app.mood AS ENUM ('calm'); CREATE DOMAIN app.code AS text; CREATE TYPE app.pair AS (a int);
"""
GRANTS = [f"GRANT USAGE, CREATE ON SCHEMA app TO {READER}", f"GRANT USAGE ON SEQUENCE app.s TO {READER}",
          f"GRANT SELECT ON SEQUENCE app.s TO {READER} WITH GRANT OPTION", "REVOKE EXECUTE ON FUNCTION app.f() FROM PUBLIC",
          f"GRANT EXECUTE ON FUNCTION app.f() TO {READER}", f"GRANT USAGE ON TYPE app.mood TO {READER}",
          "REVOKE USAGE ON DOMAIN app.code FROM PUBLIC", f"GRANT USAGE ON TYPE app.pair TO {READER}",
          f"ALTER DEFAULT PRIVILEGES FOR ROLE {READER} IN SCHEMA app GRANT SELECT, UPDATE ON TABLES TO PUBLIC",
          f"ALTER DEFAULT PRIVILEGES FOR ROLE {READER} REVOKE USAGE ON TYPES FROM PUBLIC"]
# The built-in defaults spelled out, and the owner's own rights, which no grant changes.
DEFAULTS = """
GRANT EXECUTE ON FUNCTION app.f() TO PUBLIC; GRANT USAGE ON TYPE app.mood TO PUBLIC;
REVOKE USAGE ON DOMAIN app.code FROM PUBLIC; GRANT USAGE ON DOMAIN app.code TO PUBLIC;
GRANT ALL ON SCHEMA app TO CURRENT_USER; GRANT ALL ON SEQUENCE app.s TO CURRENT_USER;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC; ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO PUBLIC;
"""


@pytest.mark.parametrize(("local", "production"), [
    pytest.param(";".join(GRANTS) + ";", ";".join(reversed(GRANTS)) + ";", id="grants in another order"),
    pytest.param(DEFAULTS, "", id="defaults spelled out"),
    pytest.param("GRANT EXECUTE ON FUNCTION app.f() TO PUBLIC;", "", id="public execute spelled out"),
])
def test_privileges_compare_as_acl_entries(build: Build, local, production):
    local_snapshot, production_snapshot = build(GRANTED_OBJECTS, local, production)
    assert differences(local_snapshot, production_snapshot) == ()
    mood = next(enum for enum in production_snapshot.enums if enum.name == "mood")
    assert [(g.grantee, g.privilege) for g in mood.privileges][:1] == [("PUBLIC", "USAGE")]


# Pure logic on hand-built snapshots.

def test_missing_table_is_one_difference_not_one_per_column():
    production = snapshot(tables=(table("users", column("id"), column("email")),))
    assert differences(snapshot(), production) == (
        Difference("table", "public.users", "", None, None, "(id text, email text)", "missing_in_local"),
    )


def test_column_position_and_owner_do_not_matter():
    local = snapshot(tables=(dataclasses.replace(table("t", column("b"), column("a")), owner="me"),))
    production = snapshot(tables=(table("t", column("a"), column("b")),))
    assert differences(local, production) == ()


def test_renames_are_not_guessed():
    local = snapshot(tables=(table("t", column("mail")),))
    production = snapshot(tables=(table("t", column("email")),))
    assert [(d.name, d.status) for d in differences(local, production)] == [
        ("email", "missing_in_local"), ("mail", "missing_in_production"),
    ]


def test_objects_of_a_missing_schema_are_covered_by_the_schema():
    production = snapshot(
        schemas=(Schema("public", "postgres", None), Schema("audit", "postgres", None)),
        tables=(table("log", column("id"), schema="audit"),),
    )
    assert differences(snapshot(), production) == (
        Difference("schema", "audit", "", None, None, "schema", "missing_in_local"),
    )


def test_order_is_by_object_kind_name_attribute():
    local = snapshot(
        tables=(table("b", column("x", "int")), table("a", column("y"))),
        ledger=Ledger("pgparity", "pgparity.schema_migrations", (LedgerEntry("1", "init", "aaa", False, False),)),
    )
    production = snapshot(tables=(table("a", column("y", "int")), table("b", column("x"))),
                          ledger=Ledger("pgparity", "pgparity.schema_migrations", ()))
    assert [(d.object, d.kind, d.name) for d in differences(local, production)] == [
        ("pgparity.schema_migrations", "migration", "1 init"),
        ("public.a", "column", "y"),
        ("public.b", "column", "x"),
    ]


def test_difference_json_has_exactly_the_report_fields():
    difference = Difference("column", "public.users", "email", "type", "text", "varchar", "different")
    assert difference_json(difference) == {
        "kind": "column", "object": "public.users", "name": "email", "attribute": "type",
        "local": "text", "production": "varchar", "status": "different", "version_only": False,
    }


def test_comments_of_a_constraint_and_an_index_of_one_name_are_two_changes():
    """The report rows are alike; the changes know which object each comment is on."""
    changes = compare(namesakes("one", "one"), namesakes("two", None))
    assert [(c.node.kind, c.status) for c in changes] == [
        ("index", "missing_in_production"), ("constraint", "different"),
    ]
    assert rows(changes) == (
        Difference("comment", "public.t", "foo", None, "one", None, "missing_in_production"),
        Difference("comment", "public.t", "foo", "text", "one", "two", "different"),
    )


def on_major(version_num: int, definition: str, extension_version: str) -> Snapshot:
    view = View("public", "v", "postgres", definition, None, (), (), ())
    return snapshot(server=ServerVersion(f"PostgreSQL {version_num}", version_num), views=(view,),
                    extensions=(Extension("pg_trgm", extension_version, "public"),))


def test_text_printed_differently_by_two_majors_is_version_only_not_drift():
    local = on_major(150018, "SELECT o.id FROM public.orders o", "1.6")
    production = on_major(170002, "SELECT id FROM public.orders o", "1.5")
    assert [(c.kind, c.attribute, c.version_only) for c in compare(local, production)] == [
        ("extension", "version", True), ("view", "definition", True)]
    result = diff_verdict(local, production, ())
    assert result.drift == () and result.server.status == "major_mismatch"
    assert difference_json(differences(local, production)[0])["version_only"] is True


def test_on_one_major_the_same_text_changes_are_drift():
    local, production = on_major(150018, "SELECT 1", "1.6"), on_major(150020, "SELECT 2", "1.5")
    assert [(c.kind, c.version_only) for c in compare(local, production)] == [
        ("extension", False), ("view", False)]
