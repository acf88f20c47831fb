"""Inspect against a real server, and the snapshot's JSON form."""

from __future__ import annotations

import dataclasses
import json

import psycopg
import pytest
from conftest import major_of
from psycopg import sql
from schema_cases import view_as_printed_by

from pgparity.errors import SnapshotError
from pgparity.schema import introspect
from pgparity.schema.introspect import function_row, inspect, stored_tables, without_options
from pgparity.schema.model import (
    Column,
    Extension,
    Index,
    Ledger,
    LedgerEntry,
    Operator,
    OperatorClass,
    OperatorFamily,
    Privilege,
    RoleSetting,
    Schema,
    ServerVersion,
    Setting,
    Snapshot,
    Table,
    TextSearchConfiguration,
    TextSearchDictionary,
)
from pgparity.schema.serialize import Head, dump_snapshot, load_head, load_snapshot

SCHEMA = """
CREATE EXTENSION citext VERSION '1.6';  -- every supported major has 1.6, not all as default
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer NOT NULL DEFAULT 1 CONSTRAINT posint_positive CHECK (VALUE > 0);
CREATE TYPE address AS (street text, zip varchar(10) COLLATE "C");
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email varchar(255) NOT NULL UNIQUE,
    nick citext,
    feeling mood DEFAULT 'ok',
    shout text GENERATED ALWAYS AS (upper(email)) STORED,
    created timestamptz DEFAULT now()
);
COMMENT ON TABLE users IS 'people';
COMMENT ON COLUMN users.email IS 'login';
CREATE TABLE posts (
    id serial PRIMARY KEY,
    user_id bigint REFERENCES users ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    body text
);
CREATE INDEX posts_body_idx ON posts (lower(body)) WHERE body IS NOT NULL;
CREATE VIEW shouting AS SELECT id,
       email   FROM users WHERE email <> 'two  spaces';
CREATE MATERIALIZED VIEW post_counts AS SELECT user_id, count(*) FROM posts GROUP BY user_id;
CREATE UNIQUE INDEX post_counts_user_idx ON post_counts (user_id);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE PROCEDURE tidy(days int) LANGUAGE sql AS 'SELECT 1';
ALTER TABLE posts ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY mine ON posts FOR UPDATE TO PUBLIC USING (user_id > 0) WITH CHECK (body <> '');
GRANT SELECT ON posts TO PUBLIC;
GRANT UPDATE (body) ON posts TO PUBLIC;
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_at_idx ON events (at);
CREATE UNLOGGED TABLE scratch (x int);
CREATE SEQUENCE tickets INCREMENT 5 MINVALUE 10 START 10 CACHE 3 CYCLE;
CREATE SCHEMA pgparity;
CREATE TABLE pgparity.schema_migrations (version bigint, name text, checksum text,
    applied_at timestamptz DEFAULT now(), execution_ms integer, tool_version text);
INSERT INTO pgparity.schema_migrations (version, name, checksum) VALUES (2, 'posts', 'bbb'), (1, 'init', 'aaa');
"""


def inspected(url: str, ddl: str) -> Snapshot:
    """The snapshot of the database at `url` once `ddl` has run there."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ddl)
    with psycopg.connect(url) as conn:
        return inspect(conn)


@pytest.fixture
def snapshot(fresh_db) -> Snapshot:
    return inspected(fresh_db, SCHEMA)


def by_name(objects, name):
    (found,) = (obj for obj in objects if obj.name == name)
    return found


def test_column_types_are_exactly_format_type(snapshot: Snapshot):
    users = by_name(snapshot.tables, "users")
    assert [(c.name, c.type) for c in users.columns] == [
        ("id", "bigint"), ("email", "character varying(255)"), ("nick", "public.citext"),
        ("feeling", "public.mood"), ("shout", "text"), ("created", "timestamp with time zone"),
    ]
    id_, email, _, feeling, shout, created = users.columns
    assert (id_.identity, id_.nullable, email.nullable, email.comment) == ("always", False, False, "login")
    assert (feeling.default, created.default) == ("'ok'::public.mood", "now()")
    assert (shout.generated, shout.default) == ("upper((email)::text)", None)
    assert users.comment == "people"


def test_constraints_indexes_and_partitions(snapshot: Snapshot):
    posts = by_name(snapshot.tables, "posts")
    fk = by_name(posts.constraints, "posts_user_id_fkey")
    assert (fk.type, fk.on_update, fk.on_delete, fk.deferrable, fk.deferred) == (
        "foreign key", "CASCADE", "SET NULL", True, True,
    )
    assert [c.name for c in by_name(snapshot.tables, "users").constraints] == ["users_email_key", "users_pkey"]
    # Indexes backing constraints are the constraints' business.
    assert posts.indexes == (Index("posts_body_idx", False, "USING btree (lower(body)) WHERE (body IS NOT NULL)", None),)
    events, partition = by_name(snapshot.tables, "events"), by_name(snapshot.tables, "events_2024")
    assert (events.partition_key, [i.definition for i in events.indexes]) == ("RANGE (at)", ["USING btree (at)"])
    assert (partition.parents, partition.partition_bound) == (
        ("public.events",), "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    )
    # What a partition inherits (columns, the attached index) belongs to its parent.
    assert (partition.columns, partition.indexes) == ((), ())
    assert by_name(snapshot.tables, "scratch").unlogged


def test_security_triggers_and_privileges(snapshot: Snapshot):
    posts = by_name(snapshot.tables, "posts")
    assert (posts.rls_enabled, posts.rls_forced) == (True, True)
    (policy,) = posts.policies
    assert (policy.command, policy.roles, policy.using, policy.with_check) == (
        "UPDATE", ("PUBLIC",), "(user_id > 0)", "(body <> ''::text)",
    )
    (trigger,) = posts.triggers
    assert trigger.definition.endswith("ON public.posts FOR EACH ROW EXECUTE FUNCTION public.touch()")
    # The owner's own privileges are left out; only real grants remain.
    assert posts.privileges == (Privilege("", "PUBLIC", "SELECT", False), Privilege("body", "PUBLIC", "UPDATE", False))


def test_views_sequences_functions_and_types(snapshot: Snapshot, image_major: int):
    (view,) = snapshot.views
    assert view.definition == view_as_printed_by(
        image_major, "SELECT users.id, users.email FROM public.users WHERE ((users.email)::text <> 'two  spaces'::text)"
    )
    (materialized,) = snapshot.materialized_views
    assert [i.name for i in materialized.indexes] == ["post_counts_user_idx"]
    serial, tickets = snapshot.sequences  # the identity column's sequence is part of the column
    assert (serial.name, serial.owned_by) == ("posts_id_seq", "public.posts.id")
    assert (tickets.increment, tickets.minimum, tickets.start, tickets.cache, tickets.cycle) == (5, 10, 10, 3, True)
    tidy, touch = snapshot.functions
    assert (tidy.kind, tidy.arguments, tidy.result) == ("procedure", "days integer", None)
    assert (touch.kind, touch.result, touch.language, touch.security_definer) == ("function", "trigger", "plpgsql", True)
    assert touch.definition.startswith("CREATE OR REPLACE FUNCTION public.touch()")
    assert snapshot.enums[0].labels == ("sad", "ok", "happy")
    (domain,) = snapshot.domains
    assert (domain.type, domain.nullable, domain.default) == ("integer", False, "1")
    assert [(c.name, c.definition) for c in domain.constraints] == [("posint_positive", "CHECK ((VALUE > 0))")]
    (address,) = snapshot.types
    assert [(c.name, c.type, c.collation) for c in address.columns] == [
        ("street", "text", None), ("zip", "character varying(10)", '"C"'),
    ]


def test_extension_members_are_left_out(snapshot: Snapshot):
    citext = by_name(snapshot.extensions, "citext")
    assert (citext.schema, citext.version) == ("public", "1.6")
    assert {f.name for f in snapshot.functions} == {"touch", "tidy"}
    assert not any("citext" in t.name for t in snapshot.types + snapshot.domains)
    assert snapshot.operators == snapshot.operator_classes == snapshot.operator_families == ()
    assert snapshot.casts == ()  # citext's own casts


def test_ledger_is_read_and_its_schema_left_out(snapshot: Snapshot):
    assert snapshot.ledger == Ledger("pgparity", "pgparity.schema_migrations", (
        LedgerEntry("1", "init", "aaa", False, False), LedgerEntry("2", "posts", "bbb", False, False)))
    assert [s.name for s in snapshot.schemas] == ["public"]


def test_settings_and_version(snapshot: Snapshot, image_major: int):
    settings = {s.name: s.value for s in snapshot.settings}
    assert set(settings) == {
        "server_encoding", "lc_collate", "lc_ctype", "TimeZone", "DateStyle",
        "default_text_search_config", "standard_conforming_strings",
    }
    assert settings["server_encoding"] == "UTF8"
    assert snapshot.server.version_num // 10000 == image_major
    assert snapshot.server.version.startswith(f"PostgreSQL {image_major}.")


def test_virtual_generated_columns_are_read_as_virtual(fresh_db):
    if major_of(fresh_db) < 18:
        pytest.skip("virtual generated columns are PostgreSQL 18's: run with PGPARITY_IMAGE of an 18 image")
    (table,) = inspected(fresh_db, "CREATE TABLE t (a int NOT NULL, v int GENERATED ALWAYS AS (a * 2) VIRTUAL,"
                                   " s int GENERATED ALWAYS AS (a * 3) STORED)").tables
    assert [(c.name, c.generated, c.virtual, c.nullable) for c in table.columns] == [
        ("a", None, False, False), ("v", "(a * 2)", True, True), ("s", "(a * 3)", False, True)]
    assert table.constraints == ()  # 18 keeps a's NOT NULL in pg_constraint: it is the column's nullability


def test_aggregates_casts_and_collations_are_read_by_their_parts(fresh_db):
    snapshot = inspected(fresh_db, """
        CREATE AGGREGATE median(ORDER BY float8) (SFUNC = ordered_set_transition, STYPE = internal,
            FINALFUNC = percentile_cont_float8_final, FINALFUNC_EXTRA);
        CREATE AGGREGATE rows_seen(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0', PARALLEL = SAFE);
        CREATE TYPE pair AS (a int); CREATE CAST (pair AS text) WITH INOUT AS ASSIGNMENT;
        CREATE COLLATION bytewise (locale = 'C');
    """)
    median, rows_seen = snapshot.aggregates
    assert (median.arguments, median.kind, median.final_function, median.final_extra, median.final_modify) == (
        "ORDER BY double precision", "ordered-set", "percentile_cont_float8_final", True, "read_write")
    assert (rows_seen.arguments, rows_seen.state_type, rows_seen.initial_condition, rows_seen.parallel) == (
        "", "bigint", "0", "safe")
    (cast,) = snapshot.casts
    assert (cast.source, cast.target, cast.method, cast.function, cast.context) == (
        "public.pair", "text", "inout", None, "assignment")
    (collation,) = snapshot.collations
    assert (collation.provider, collation.lc_collate, collation.lc_ctype, collation.locale) == ("libc", "C", "C", None)


def test_role_and_database_settings_are_read_by_name(fresh_db, reader):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        database = sql.Identifier(conn.info.dbname)
        conn.execute(sql.SQL("ALTER DATABASE {} SET app.tenant = 'acme'").format(database))
        conn.execute(sql.SQL("ALTER DATABASE {} SET statement_timeout = '5s'").format(database))
        conn.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} SET work_mem = '8MB'").format(sql.Identifier(reader), database))
    with psycopg.connect(fresh_db) as conn:
        snapshot = inspect(conn)
    settings = {s.name: s.value for s in snapshot.settings}
    assert (settings["app.tenant"], settings["statement_timeout"]) == ("acme", "5s")
    assert RoleSetting(reader, True, "work_mem", "8MB") in snapshot.role_settings


def test_options_of_tables_views_and_indexes_are_read(fresh_db):
    snapshot = inspected(
        fresh_db, "CREATE TABLE t (a int, b text) WITH (fillfactor = 70, toast.autovacuum_enabled = false);"
                  "CREATE INDEX t_a ON t (a) WITH (fillfactor = 60) WHERE a > 0;"
                  "CREATE VIEW v WITH (security_barrier = true) AS SELECT a FROM t WITH CASCADED CHECK OPTION;")
    (table,), (view,) = snapshot.tables, snapshot.views
    assert table.options == ("fillfactor=70", "toast.autovacuum_enabled=false")
    assert [(i.definition, i.options) for i in table.indexes] == [("USING btree (a) WHERE (a > 0)", ("fillfactor=60",))]
    assert view.options == ("check_option=cascaded", "security_barrier=true")


def test_sizes_are_the_planners_statistics_read_only_when_asked(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id int PRIMARY KEY, body text);"
                     "INSERT INTO events SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g;"
                     "CREATE TABLE log (at date) PARTITION BY RANGE (at);"
                     "CREATE TABLE log_1 PARTITION OF log FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');"
                     "INSERT INTO log SELECT '2024-01-05' FROM generate_series(1, 300);"
                     "CREATE MATERIALIZED VIEW counts AS SELECT count(*) FROM events;")
        conn.execute("VACUUM ANALYZE")
    with psycopg.connect(fresh_db) as conn:
        assert inspect(conn).sizes == ()
        sizes = {(s.schema, s.name): s for s in inspect(conn, sizes=True).sizes}
    events, index = sizes[("public", "events")], sizes[("public", "events_pkey")]
    assert (events.kind, events.rows, events.table) == ("table", 5000, None)
    assert events.pages > 0 and events.bytes > events.pages * 8192  # with its index and TOAST table
    assert (index.kind, index.table, index.rows) == ("index", "events", 5000)
    assert (sizes[("public", "log")].rows, sizes[("public", "log_1")].rows) == (300, 300)
    assert sizes[("public", "counts")].kind == "materialized view"


def test_statistics_and_rules_are_read_under_their_relation(fresh_db):
    snapshot = inspected(
        fresh_db,
        "CREATE SCHEMA stats; CREATE TABLE t (a int, b int);"
        "CREATE STATISTICS stats.t_ab (dependencies, mcv) ON a, b FROM t;"
        "CREATE MATERIALIZED VIEW m AS SELECT a, b FROM t; CREATE STATISTICS m_ab ON a, b FROM m;"
        "ALTER STATISTICS m_ab SET STATISTICS 300; COMMENT ON STATISTICS m_ab IS 'pairs';"
        "CREATE VIEW v AS SELECT a FROM t;"
        "CREATE RULE v_insert AS ON INSERT TO v DO INSTEAD INSERT INTO t (a) VALUES (NEW.a);"
        "CREATE RULE t_keep AS ON DELETE TO t DO INSTEAD NOTHING; ALTER TABLE t DISABLE RULE t_keep;")
    (table,), (view,), (materialized,) = snapshot.tables, snapshot.views, snapshot.materialized_views
    assert [(s.schema, s.name, s.kinds, s.target, s.comment) for s in table.statistics + materialized.statistics] == [
        ("stats", "t_ab", ("dependencies", "mcv"), None, None),
        ("public", "m_ab", ("ndistinct", "dependencies", "mcv"), 300, "pairs")]
    assert materialized.statistics[0].definition == "CREATE STATISTICS public.m_ab ON a, b FROM public.m"
    assert [(r.name, r.enabled) for r in table.rules] == [("t_keep", "disabled")]
    assert [r.definition for r in view.rules] == [
        "CREATE RULE v_insert AS ON INSERT TO public.v DO INSTEAD INSERT INTO public.t (a) VALUES (new.a)"]
    assert materialized.rules == ()  # its _RETURN rule is its definition


def test_operators_classes_and_text_search_objects_are_read(fresh_db):
    snapshot = inspected(
        fresh_db, "CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq, COMMUTATOR = ===,"
                  " NEGATOR = !==, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);"
                  "CREATE OPERATOR CLASS int4_eq FOR TYPE int4 USING hash AS OPERATOR 1 ===, FUNCTION 1 hashint4(int);"
                  "CREATE OPERATOR FAMILY mixed USING btree;"
                  "ALTER OPERATOR FAMILY mixed USING btree ADD OPERATOR 1 < (int4, int8);"
                  "CREATE TEXT SEARCH DICTIONARY plain (TEMPLATE = simple, StopWords = english, Accept = false);"
                  "CREATE TEXT SEARCH CONFIGURATION docs (PARSER = default);"
                  "ALTER TEXT SEARCH CONFIGURATION docs ADD MAPPING FOR word WITH plain, simple;")
    assert snapshot.operators == (Operator(
        "public", "===", "integer", "integer", "int4eq", "public.===(integer,integer)", "public.!==(integer,integer)",
        "eqsel", "eqjoinsel", True, True, "postgres", None),)  # the negator, a shell, is named but not listed
    assert snapshot.operator_classes == (OperatorClass(
        "public", "int4_eq", "hash", "integer", False, "public.int4_eq", None, ("1 public.===(integer,integer)",),
        ("1 (integer, integer) hashint4(integer)",), "postgres", None),)
    assert snapshot.operator_families == (OperatorFamily(
        "public", "mixed", "btree", ("1 <(integer,bigint)",), (), "postgres", None),)
    assert snapshot.text_search_dictionaries == (TextSearchDictionary(
        "public", "plain", "pg_catalog.simple", ("accept = 'false'", "stopwords = 'english'"), "postgres", None),)
    assert snapshot.text_search_configurations == (TextSearchConfiguration(
        "public", "docs", 'pg_catalog."default"', ("word: public.plain, simple",), "postgres", None),)


def test_the_dump_reads_types_schema_qualified_whatever_the_session_search_path(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE t (m mood)")
    with psycopg.connect(fresh_db) as conn:
        conn.execute("SET search_path TO public")
        (column,) = stored_tables(conn)["columns"]
        assert conn.execute("SHOW search_path").fetchone() == ("public",)
    assert column["type"] == "public.mood"


REPLICATED = """
CREATE TABLE t (a int PRIMARY KEY, b text);
CREATE PUBLICATION p FOR TABLE t WITH (publish = 'insert, delete');
CREATE SUBSCRIPTION s CONNECTION 'dbname=nowhere password=secret' PUBLICATION q, p WITH (connect = false);
"""


def test_publications_and_subscriptions_are_read_without_any_connection_string(fresh_db, production_db, image_major,
                                                                               tmp_path):
    inspected(production_db, "CREATE SUBSCRIPTION elsewhere CONNECTION 'dbname=nowhere' PUBLICATION p"
                             " WITH (connect = false)")
    filtered = "CREATE PUBLICATION r FOR TABLE t (b, a) WHERE (a > 0);" if image_major >= 15 else ""
    snapshot = inspected(fresh_db, REPLICATED + filtered)
    p = snapshot.publications[0]
    assert (p.name, p.all_tables, p.publish, p.publish_via_partition_root, p.schemas) == (
        "p", False, ("insert", "delete"), False, ())
    assert [(m.schema, m.name, m.columns, m.row_filter) for m in p.members] == [("public", "t", (), None)]
    if filtered:
        (member,) = snapshot.publications[1].members
        assert (member.columns, member.row_filter) == (("a", "b"), "(a > 0)")
    (s,) = snapshot.subscriptions  # only this database's
    assert (s.name, s.enabled, s.publications, s.slot_name) == ("s", False, ("p", "q"), "s")
    text = dump_snapshot(snapshot)
    assert "secret" not in text and "nowhere" not in text
    path = tmp_path / "production.json"
    path.write_text(json.dumps(without_fields(json.loads(text), {"publications", "subscriptions"})))
    assert load_snapshot(path) == dataclasses.replace(snapshot, publications=(), subscriptions=())


def test_inspect_only_reads_and_leaves_the_session_as_it_was(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (a int)")
    with psycopg.connect(fresh_db) as conn:
        conn.read_only = True
        with conn.transaction():
            conn.execute("SET LOCAL search_path TO public")
            assert [t.name for t in inspect(conn).tables] == ["t"]
            assert conn.execute("SHOW search_path").fetchone() == ("public",)


def test_json_round_trip_is_exact_and_deterministic(snapshot: Snapshot, tmp_path):
    text = dump_snapshot(snapshot)
    path = tmp_path / "production.json"
    path.write_text(text)
    assert load_snapshot(path) == snapshot
    assert dump_snapshot(load_snapshot(path)) == text
    assert text.endswith("}\n") and text.startswith('{\n  "format": 4,\n')


def without_fields(value: object, names: set[str]) -> object:
    if isinstance(value, dict):
        return {key: without_fields(item, names) for key, item in value.items() if key not in names}
    return [without_fields(item, names) for item in value] if isinstance(value, list) else value


def before_format_4(snapshot: Snapshot) -> dict:
    """The snapshot as format 3 wrote it: no privileges of schemas, functions and types, no default privileges."""
    document = json.loads(dump_snapshot(snapshot))
    for kind in ("schemas", "functions", "enums", "domains", "types"):
        document[kind] = [without_fields(each, {"privileges"}) for each in document[kind]]
    return without_fields(document, {"default_privileges"})


def test_a_format_2_profile_loads_with_the_fields_added_since_at_their_defaults(snapshot: Snapshot, tmp_path):
    document = without_fields(before_format_4(snapshot), {"role_settings", "options", "virtual"})
    path = tmp_path / "production.json"
    path.write_text(json.dumps({**document, "format": 2}))
    assert load_snapshot(path) == snapshot


def test_a_format_3_profile_assumes_the_privileges_a_fresh_object_has(fresh_db, tmp_path):
    fresh = inspected(
        fresh_db, "CREATE SCHEMA app; CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
                  "CREATE PROCEDURE app.p() LANGUAGE sql AS 'SELECT 1'; CREATE TYPE app.mood AS ENUM ('ok');"
                  "CREATE DOMAIN app.positive AS int CHECK (VALUE > 0); CREATE TYPE app.pair AS (a int, b int)")
    path = tmp_path / "production.json"
    path.write_text(json.dumps({**before_format_4(fresh), "format": 3}))
    assert load_snapshot(path) == fresh


def minimal(**changes) -> Snapshot:
    empty = Snapshot(
        server=ServerVersion("PostgreSQL 15", 150000), settings=(), roles=(), extensions=(),
        schemas=(Schema("public", "postgres", None),), tables=(), views=(), materialized_views=(),
        sequences=(), functions=(), enums=(), domains=(), types=(), ledger=None,
    )
    return dataclasses.replace(empty, **changes)


def test_collections_are_kept_in_key_order_but_columns_in_table_order():
    def table(name):
        return Table("public", name, "o", False, None, (), None, False, False, None,
                     (Column("b", "int", True, None, None, None, None, None),
                      Column("a", "int", True, None, None, None, None, None)), (), (), (), (), ())
    snapshot = minimal(tables=(table("z"), table("a")))
    assert [t.name for t in snapshot.tables] == ["a", "z"]
    assert [c.name for c in snapshot.tables[0].columns] == ["b", "a"]
    assert snapshot == minimal(tables=(table("a"), table("z")))


@pytest.mark.parametrize(("content", "message"), [
    ('{"format": 99, "tables": []}', "format 99"),
    ('{"tables": []}', "not a pgparity snapshot"),
    ("[1, 2]", "not a pgparity snapshot"),
    ("not json", "invalid JSON"),
    ('{"format": 1, "tables": []}', "not a valid pgparity snapshot"),
])
def test_loading_something_else_raises_snapshot_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "odd.json"
    path.write_text(content)
    with pytest.raises(SnapshotError, match=message) as raised:
        load_snapshot(path)
    assert str(path) in str(raised.value)


def test_wrong_field_type_is_located(tmp_path):
    document = json.loads(dump_snapshot(minimal()))
    document["schemas"][0]["owner"] = 7
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SnapshotError, match=r"snapshot\.schemas\[0\]\.owner should be str"):
        load_snapshot(path)


def test_the_head_of_a_profile_is_what_its_whole_says_of_the_server(tmp_path):
    """Every command that reaches dev reads the head alone; it must agree with the whole and check its shape."""
    path = tmp_path / "production.json"
    profile = minimal(server=ServerVersion("PostgreSQL 17.6", 170006),
                      settings=(Setting("TimeZone", "Europe/Paris"), Setting("server_encoding", "UTF8")))
    path.write_text(dump_snapshot(profile))
    assert load_head(path) == Head.of(load_snapshot(path)) == Head(17, {"timezone": "Europe/Paris",
                                                                        "server_encoding": "UTF8"})
    document = json.loads(path.read_text())
    document["settings"] = [{"name": "TimeZone"}]
    path.write_text(json.dumps(document))
    with pytest.raises(SnapshotError, match=r"production\.json is not a valid pgparity snapshot: snapshot\.settings"):
        load_head(path)
    path.write_text('{"format": 99}')
    with pytest.raises(SnapshotError, match="format 99"):
        load_head(path)


def test_missing_file_raises_snapshot_error(tmp_path):
    with pytest.raises(SnapshotError, match="absent.json"):
        load_snapshot(tmp_path / "absent.json")


def test_the_in_mode_is_left_out_of_identity_arguments():
    row = function_row({"arguments": "IN p_id bigint, INOUT total numeric, OUT note text, VARIADIC rest text[]"})
    assert row["arguments"] == "p_id bigint, INOUT total numeric, OUT note text, VARIADIC rest text[]"


@pytest.mark.parametrize(("definition", "expected"), [
    ("USING btree (a) WITH (fillfactor='70')", "USING btree (a)"),
    ("USING btree (a) INCLUDE (b) WITH (fillfactor='70', deduplicate_items=off) WHERE (b <> ' WITH (x)')",
     "USING btree (a) INCLUDE (b) WHERE (b <> ' WITH (x)')"),
    ('USING btree (" WITH (") WITH (fillfactor=\'70\')', 'USING btree (" WITH (")'),
])
def test_an_index_definition_is_compared_without_its_options(definition, expected):
    assert without_options(definition) == expected


def test_a_row_that_does_not_fit_its_class_is_refused_by_name():
    with pytest.raises(TypeError, match=r"Extension from columns name, version: missing \['schema'\]"):
        introspect.build(Extension, {"name": "citext", "version": "1.6"})
    with pytest.raises(TypeError, match=r"unknown \['colour'\]"):
        introspect.build(Extension, {"name": "citext", "version": "1.6", "schema": "public", "colour": "red"})
    assert introspect.build(Extension, {"name": "citext", "version": "1.6", "schema": "public"}) == \
        Extension("citext", "1.6", "public")
