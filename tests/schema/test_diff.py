"""Diff: pairs of real databases that differ in exactly one thing, plus pure-logic cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from conftest import READER
from schema_cases import (
    BASE,
    CASES,
    SEED_LOCAL,
    SEED_PRODUCTION,
    as_printed_by,
    column,
    namesakes,
    snapshot,
    snapshot_of,
    table,
)

from pgparity.cli.report import difference_json
from pgparity.schema.diff import KINDS, Difference, compare
from pgparity.schema.model import Ledger, LedgerEntry, Schema, ServerVersion, Snapshot
from pgparity.schema.verify import rows

Build = Callable[[str, str, str], tuple[Snapshot, Snapshot]]


def differences(source: Snapshot, target: Snapshot) -> tuple[Difference, ...]:
    """What the report shows of the changes."""
    return rows(compare(source, target))


@pytest.fixture
def build(reader, fresh_db, production_db) -> Build:
    """Builds local from base + local DDL and production from base + production DDL."""
    def build(base: str, local: str, production: str) -> tuple[Snapshot, Snapshot]:
        return snapshot_of(fresh_db, base + local), snapshot_of(production_db, base + production)
    return build


@pytest.mark.parametrize(("base", "local", "production", "expected"), CASES)
def test_one_injected_difference_is_reported_alone(build: Build, base, local, production, expected, image_major):
    local_snapshot, production_snapshot = build(base, local, production)
    assert differences(local_snapshot, production_snapshot) == (as_printed_by(image_major, expected),)
    assert expected.kind in KINDS


def test_role_attributes_are_compared(build: Build):
    grant = f"GRANT SELECT ON users TO {READER};"
    local, production = build(BASE, grant, grant)
    (role,) = production.roles
    production = dataclasses.replace(production, roles=(dataclasses.replace(role, login=True),))
    assert differences(local, production) == (
        Difference("role", READER, "", "login", "false", "true", "different"),
    )


def test_server_version_is_compared_by_number_only(build: Build):
    local, production = build(BASE, "", "")
    production = dataclasses.replace(production, server=ServerVersion("PostgreSQL 16.2 elsewhere", 160002))
    assert differences(local, production) == (
        Difference("version", "server", "", "version_num", str(local.server.version_num), "160002", "different"),
    )


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


def test_extension_objects_are_left_out_but_the_extension_is_reported(build: Build):
    local, production = build("", "CREATE EXTENSION pg_trgm;", "")
    (only,) = differences(local, production)
    assert (only.kind, only.object, only.status) == ("extension", "pg_trgm", "missing_in_production")


def test_pgparity_schema_is_ignored(build: Build):
    local, production = build("", "CREATE SCHEMA pgparity; CREATE TABLE pgparity.locks (id int);", "")
    assert differences(local, production) == ()


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
        "local": "text", "production": "varchar", "status": "different",
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
