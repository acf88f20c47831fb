"""Deploy-safety analysis without a server: type rules, sizes and thresholds, allow comments, files in order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT

from pgparity.config import load_project_file
from pgparity.errors import ConfigError, HazardError, MigrationError
from pgparity.migrations import hazards
from pgparity.migrations.content import Content
from pgparity.migrations.hazards import Context, Reviewed, analyse, review, rewrites
from pgparity.migrations.lint import lint_sql
from pgparity.migrations.model import HazardPolicy, Migration, Version
from pgparity.schema.serialize import load_snapshot

PROFILE = load_snapshot(ROOT / "examples" / "seed-drift" / "parity" / "production.json")
SEED = Context(PROFILE)  # users: 250k rows, auth_tokens: 600k, roles: 40


@pytest.mark.parametrize(("old", "new", "rewritten"), [
    ("character varying(10)", "character varying(20)", False),
    ("character varying(20)", "character varying(10)", True),
    ("character varying", "character varying(255)", True),
    ("character varying(255)", "character varying", False),
    ("character varying(255)", "text", False),
    ("text", "character varying", False),
    ("text", "character varying(50)", True),
    ("numeric(10,2)", "numeric(12,2)", False),
    ("numeric(10,2)", "numeric(12,3)", True),
    ("numeric(10,2)", "numeric", False),
    ("integer", "bigint", True),
    ("timestamp(3) without time zone", "timestamp(6) without time zone", False),
    ("timestamp without time zone", "timestamp with time zone", True),
    ("cidr", "inet", False),
    ("integer", "integer", False),
])
def test_type_changes_rewrite_unless_binary_coercible(old, new, rewritten):
    assert rewrites(old, new) is rewritten


def codes(sql: str, context: Context = SEED) -> list[tuple[str, str]]:
    return [(h.code, h.severity) for h in analyse(sql, context)]


def test_size_from_the_profile_decides_the_severity():
    assert codes("SET lock_timeout = '5s'; ALTER TABLE users ALTER COLUMN email TYPE varchar(100);") == [
        ("rewrite", "high")]
    assert codes("SET lock_timeout = '5s'; ALTER TABLE roles ALTER COLUMN name TYPE varchar(50);") == [
        ("rewrite", "low")]
    # Widening what production has is the catalog alone.
    assert codes("SET lock_timeout = '5s'; ALTER TABLE users ALTER COLUMN email TYPE varchar(300);") == [
        ("lock", "low")]
    [found] = analyse("SET lock_timeout = '5s'; ALTER TABLE users ALTER COLUMN email TYPE varchar(100);", SEED)
    assert found.sized == ("rewrites public.users (email character varying(255) → character varying(100)): "
                           "250k rows, 50 MB")
    higher = replace(SEED, thresholds=HazardPolicy(rows=1_000_000, bytes=1 << 40))
    assert codes("SET lock_timeout = '5s'; ALTER TABLE users ALTER COLUMN email TYPE varchar(100);", higher) == [
        ("rewrite", "low")]


def test_unknown_size_is_medium_and_said():
    [found] = analyse("SET lock_timeout = '1s'; CREATE INDEX ON elsewhere (a);", SEED)
    assert (found.code, found.severity, found.lock) == ("index", "medium", "SHARE")
    assert found.sized.endswith("size unknown (not in the profile)")


def test_safe_forms_are_low_and_a_missing_lock_timeout_is_told():
    sql = ("ALTER TABLE auth_tokens ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
           "CREATE INDEX CONCURRENTLY ON users (last_name);\n")
    assert codes(sql) == []
    assert codes("ALTER TABLE users ADD COLUMN nickname text;") == [("lock", "low"), ("timeout", "medium")]


def test_a_lock_taken_earlier_in_the_file_is_held_to_its_end():
    alone = analyse("ALTER TABLE users VALIDATE CONSTRAINT c;", SEED)
    assert [(h.code, h.lock, h.severity) for h in alone] == [("scan", "SHARE UPDATE EXCLUSIVE", "low")]
    after = analyse("SET lock_timeout = '5s';\nALTER TABLE users ADD CONSTRAINT c CHECK (email <> '') NOT VALID;\n"
                    "ALTER TABLE users VALIDATE CONSTRAINT c;\n", SEED)
    # The brief lock of line 2 says nothing the scan under it does not.
    assert [(h.code, h.lock, h.severity, h.line) for h in after] == [("scan", "ACCESS EXCLUSIVE", "high", 3)]
    assert "holds it until it commits" in after[0].message


def test_tables_created_by_the_file_or_an_earlier_pending_one_are_empty():
    assert codes("CREATE TABLE events (id int); CREATE INDEX ON events (id); "
                 "ALTER TABLE events ALTER COLUMN id TYPE bigint;") == []
    first = migration(1, "CREATE TABLE events (id int);")
    second = migration(2, "ALTER TABLE events ADD COLUMN at timestamptz DEFAULT clock_timestamp();\n"
                          "ALTER TABLE users ADD COLUMN at timestamptz DEFAULT clock_timestamp();")
    _, later = review([first, second], SEED)
    assert [(h.code, h.relation, h.line) for h in later.hazards] == [
        ("rewrite", ("public", "users"), 2), ("timeout", None, 2)]


def test_data_loss_rename_and_enum():
    sql = ("SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN last_name;\nDROP TABLE roles;\n"
           "ALTER TABLE users RENAME COLUMN first_name TO given_name;\nALTER TYPE mood ADD VALUE 'calm';\n"
           "DELETE FROM auth_tokens;\n")
    assert codes(sql) == [("data-loss", "high"), ("data-loss", "high"), ("rename", "medium"), ("enum", "low"),
                          ("data-loss", "high")]


def test_allow_comments_accept_a_file_or_one_statement():
    header = "-- pgparity: allow rewrite, timeout\nALTER TABLE users ALTER COLUMN id TYPE bigint;\n"
    assert [(h.code, h.allowed) for h in analyse(header, SEED)] == [("rewrite", True), ("timeout", True)]
    above = ("SET lock_timeout = '5s';\n-- pgparity: allow rewrite\nALTER TABLE users ALTER COLUMN id TYPE bigint;\n"
             "ALTER TABLE auth_tokens ALTER COLUMN id TYPE bigint;\n")
    assert [(h.relation[1], h.allowed) for h in analyse(above, SEED)] == [("users", True), ("auth_tokens", False)]
    # Lint reads the header's allow line as no option of its own.
    assert lint_sql(Path("001_x.sql"), header).findings == ()


def test_an_allow_comment_naming_no_hazard_is_refused():
    with pytest.raises(MigrationError, match=r"migrations/001_x.sql:1: `-- pgparity: allow rewirte` names no hazard"):
        hazards.refuse_unknown_allowances([migration(1, "-- pgparity: allow rewirte\nSELECT 1;")])


def test_fail_on_names_the_first_hazard_and_skips_in_production_fixes():
    pending = review([migration(3, "ALTER TABLE users ALTER COLUMN id TYPE bigint;")], SEED)
    hazards.refuse(pending, None)
    with pytest.raises(HazardError, match=r"^2 hazards at or above medium: migrations/003_x.sql:1: high rewrite: "
                                          r"rewrites public.users \(id integer → bigint\): 250k rows"):
        hazards.refuse(pending, "medium")
    elsewhere = tuple(Reviewed(item.migration, item.hazards, elsewhere=True) for item in pending)
    hazards.refuse(elsewhere, "low")


def test_hazards_settings_are_checked(tmp_path):
    path = tmp_path / "pgparity.toml"
    path.write_text('[hazards]\nrewrite_rows = 5000\nfail_on = "medium"\n')
    assert load_project_file(path).hazards == HazardPolicy(rows=5000, fail_on="medium")
    for text, message in (('rewrite_rows = "many"', "hazards.rewrite_rows must be a whole number"),
                          ('fail_on = "severe"', "hazards.fail_on must be one of low, medium, high"),
                          ("rows = 1", "unknown key hazards.rows")):
        path.write_text(f"[hazards]\n{text}\n")
        with pytest.raises(ConfigError, match=message):
            load_project_file(path)


def test_a_statement_the_parser_cannot_read_marks_the_file_and_leaves_the_others_told():
    [item] = review([migration(1, "CREATE TABLE;\nDROP TABLE users;\nINSERT INTO roles VALUES (1);")], SEED)
    assert not item.readable
    assert [(h.code, h.line) for h in item.hazards] == [("data-loss", 2), ("timeout", 2)]


def migration(number: int, sql: str) -> Migration:
    return Migration(Version.of(number), "x", Path(f"migrations/{number:03d}_x.sql"), Content.of(sql), "", False,
                     None)
