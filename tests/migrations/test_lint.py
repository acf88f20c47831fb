"""Discovery, ordering, header options and lint of a migrations directory; no database needed."""

from __future__ import annotations

import hashlib
import random
import tracemalloc
from pathlib import Path

import pytest

from pgparity.errors import LintError, MigrationError
from pgparity.migrations import ledger, lexer
from pgparity.migrations.discovery import discover
from pgparity.migrations.lexer import statements
from pgparity.migrations.lint import lint_sql
from pgparity.migrations.model import Baseline, Finding, MigrationPolicy, Plan
from pgparity.migrations.sync import with_baseline_hint
from pgparity.schema.model import LedgerEntry

HEADER = "-- pgparity: no-transaction\n"


def write(directory: Path, name: str, content: str | bytes = "SELECT 1;\n") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def names(plan: Plan) -> list[str]:
    return [migration.path.name for migration in plan.migrations]


def messages(plan: Plan, level: str, name: str | None = None) -> list[str]:
    return [f.message for f in plan.findings if f.level == level and (name is None or f.path.name == name)]


def only_finding(plan: Plan, level: str) -> Finding:
    found = [f for f in plan.findings if f.level == level]
    assert len(found) == 1, plan.findings
    return found[0]


# --- discovery and ordering ----------------------------------------------------------------


def test_versions_are_ordered_numerically(tmp_path):
    for name in ("10_ten.sql", "2_two.sql", "1_one.sql"):
        write(tmp_path, name)
    plan = discover(tmp_path, MigrationPolicy())
    assert [m.version.number for m in plan.migrations] == [1, 2, 10]
    assert [m.name for m in plan.migrations] == ["one", "two", "ten"]
    assert not plan.has_errors


def test_zero_padded_numbers_are_plain_versions(tmp_path):
    for name in ("0010_ten.sql", "0009_nine.sql", "0001_init.sql"):
        write(tmp_path, name)
    plan = discover(tmp_path)
    assert [m.version.number for m in plan.migrations] == [1, 9, 10]
    assert plan.errors == ()


def test_migration_fields(tmp_path):
    path = write(tmp_path, "001_create_users.sql", "CREATE TABLE users (id int);\r\n")
    (migration,) = discover(tmp_path).migrations
    assert migration.path == path
    assert migration.name == "create_users"
    assert migration.sql == "CREATE TABLE users (id int);\r\n"
    assert migration.checksum == hashlib.sha256(b"CREATE TABLE users (id int);\n").hexdigest()  # endings as LF
    assert migration.raw_checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert migration.no_transaction is False
    assert migration.rollback is None


def test_line_endings_are_not_an_edit_but_content_is(tmp_path):
    path = write(tmp_path, "001_a.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n")
    (lf,) = discover(tmp_path).migrations
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    (crlf,) = discover(tmp_path).migrations
    assert crlf.checksum == lf.checksum == lf.raw_checksum and crlf.raw_checksum != lf.raw_checksum
    assert ledger.matches(crlf.raw_checksum, crlf) and ledger.matches(lf.checksum, crlf)  # rows of either spelling
    path.write_text("CREATE TABLE a (id bigint);\n")
    (edited,) = discover(tmp_path).migrations
    assert not ledger.matches(lf.checksum, edited)


def test_two_files_with_one_version_and_one_content_are_named_as_a_rename(tmp_path):
    write(tmp_path, "002_create_r1.sql", "CREATE TABLE r1 (id int);\n")
    write(tmp_path, "002_renamed.sql", "CREATE TABLE r1 (id int);\r\n")
    (error,) = discover(tmp_path).errors
    assert "version 2 is used by 002_create_r1.sql, 002_renamed.sql; they have the same content" in error.message
    assert "a rename that left the old file behind" in error.message


def test_missing_directory_raises(tmp_path):
    with pytest.raises(MigrationError, match="not found"):
        discover(tmp_path / "nope")


def test_same_number_with_different_padding_is_a_duplicate(tmp_path):
    write(tmp_path, "0001_a.sql")
    write(tmp_path, "1_b.sql")
    assert any("version 1 is used by" in m for m in messages(discover(tmp_path), "error"))


def test_duplicate_versions_are_an_error_naming_both_files(tmp_path):
    write(tmp_path, "004_add_index.sql", "CREATE INDEX i ON t (a);\n")
    write(tmp_path, "004_add_column.sql", "ALTER TABLE t ADD COLUMN a int;\n")
    finding = only_finding(discover(tmp_path), "error")
    assert "004_add_column.sql" in finding.message and "004_add_index.sql" in finding.message
    assert "`order`" in finding.message


def test_order_resolves_a_duplicate_in_the_given_order(tmp_path):
    write(tmp_path, "003_base.sql")
    write(tmp_path, "004_a.sql")
    write(tmp_path, "004_b.sql")
    write(tmp_path, "005_next.sql")
    plan = discover(tmp_path, MigrationPolicy(order=("004_b.sql", "004_a.sql")))
    assert plan.findings == ()
    assert names(plan) == ["003_base.sql", "004_b.sql", "004_a.sql", "005_next.sql"]


def test_order_must_list_every_file_of_the_tie(tmp_path):
    for name in ("004_a.sql", "004_b.sql", "004_c.sql"):
        write(tmp_path, name)
    plan = discover(tmp_path, MigrationPolicy(order=("004_b.sql", "004_a.sql")))
    assert "004_c.sql" in only_finding(plan, "error").message


def test_order_naming_a_missing_file_is_an_error(tmp_path):
    write(tmp_path, "001_a.sql")
    finding = only_finding(discover(tmp_path, MigrationPolicy(order=("002_gone.sql",))), "error")
    assert finding.path == tmp_path and "002_gone.sql" in finding.message


def test_gap_in_numbering_is_a_warning(tmp_path):
    for name in ("001_a.sql", "002_b.sql", "003_c.sql", "005_e.sql", "009_i.sql"):
        write(tmp_path, name)
    plan = discover(tmp_path)
    assert not plan.has_errors
    assert messages(plan, "warning", "005_e.sql") == ["version 4 missing before this file"]
    assert messages(plan, "warning", "009_i.sql") == ["versions 6-8 missing before this file"]
    assert len(plan.migrations) == 5


def test_timestamp_versions_have_no_gap_warnings(tmp_path):
    write(tmp_path, "20240101120000_a.sql")
    write(tmp_path, "20240305093000_b.sql")
    assert discover(tmp_path).findings == ()


# --- rollbacks -----------------------------------------------------------------------------


@pytest.mark.parametrize("rollback", ["002_add_email.down.sql", "002_add_email_rollback.sql", "2_add_email.down.sql"])
def test_rollback_is_paired_and_never_replayed_forward(tmp_path, rollback):
    write(tmp_path, "001_init.sql")
    write(tmp_path, "002_add_email.sql")
    path = write(tmp_path, rollback, "ALTER TABLE users DROP COLUMN email;\n")
    plan = discover(tmp_path)
    assert plan.findings == ()
    assert names(plan) == ["001_init.sql", "002_add_email.sql"]
    assert plan.migrations[1].rollback == path
    assert plan.migrations[0].rollback is None


@pytest.mark.parametrize("rollback", ["002_add_mail.down.sql", "003_add_email_rollback.sql"])
def test_rollback_without_matching_migration_is_a_warning(tmp_path, rollback):
    write(tmp_path, "001_init.sql")
    write(tmp_path, "002_add_email.sql")
    write(tmp_path, rollback)
    plan = discover(tmp_path)
    finding = only_finding(plan, "warning")
    assert finding.path.name == rollback and "rollback without a migration" in finding.message
    assert all(m.rollback is None for m in plan.migrations)
    assert names(plan) == ["001_init.sql", "002_add_email.sql"]


def test_two_rollbacks_for_one_migration_is_a_warning(tmp_path):
    write(tmp_path, "001_init.sql")
    down = write(tmp_path, "001_init.down.sql")
    write(tmp_path, "001_init_rollback.sql")
    plan = discover(tmp_path)
    assert "second rollback" in only_finding(plan, "warning").message
    assert plan.migrations[0].rollback == down


# --- files that are not SQL migrations ----------------------------------------------------


@pytest.mark.parametrize("name", ["002_backfill.py", "002_seed.rb", "002_x.js", "002_x.go", "002_x.sh"])
def test_migration_in_another_language_is_an_error(tmp_path, name):
    write(tmp_path, "001_a.sql")
    write(tmp_path, name, "print('hi')\n")
    write(tmp_path, "003_c.sql")
    plan = discover(tmp_path)
    finding = only_finding(plan, "error")
    assert finding.path.name == name and "another language" in finding.message
    assert names(plan) == ["001_a.sql", "003_c.sql"]


def test_skipped_file_is_reported_not_replayed(tmp_path):
    write(tmp_path, "001_a.sql")
    legacy = write(tmp_path, "002_backfill.py", "print('hi')\n")
    write(tmp_path, "003_c.sql")
    plan = discover(tmp_path, MigrationPolicy(skip=frozenset({"002_backfill.py"})))
    assert not plan.has_errors
    assert messages(plan, "warning") == []  # its number is taken: no gap
    assert only_finding(plan, "info").path == legacy
    assert plan.skipped == (legacy,)
    assert names(plan) == ["001_a.sql", "003_c.sql"]


def test_skipped_sql_migration_is_not_replayed(tmp_path):
    write(tmp_path, "001_a.sql")
    write(tmp_path, "002_broken.sql", b"\xff\xfe")
    plan = discover(tmp_path, MigrationPolicy(skip=frozenset({"002_broken.sql"})))
    assert not plan.has_errors
    assert names(plan) == ["001_a.sql"]


def test_skip_naming_a_missing_file_is_a_warning(tmp_path):
    write(tmp_path, "001_a.sql")
    finding = only_finding(discover(tmp_path, MigrationPolicy(skip=frozenset({"009_old.py"}))), "warning")
    assert "009_old.py" in finding.message


def test_unmatched_files_are_listed_and_ignorable_ones_are_not(tmp_path):
    write(tmp_path, "001_a.sql")
    for name in ("notes.txt", "schema.sql", "002-dash.sql", "README.md", "readme.txt", ".gitkeep", ".hidden.sql"):
        write(tmp_path, name)
    (tmp_path / "old").mkdir()
    plan = discover(tmp_path)
    finding = only_finding(plan, "warning")
    assert finding.path == tmp_path
    for listed in ("002-dash.sql", "notes.txt", "old/", "schema.sql"):
        assert listed in finding.message
    for ignored in ("README", "readme", ".gitkeep", ".hidden"):
        assert ignored not in finding.message
    assert names(plan) == ["001_a.sql"]


# --- file contents -------------------------------------------------------------------------


def test_non_utf8_file_is_an_error_with_its_line(tmp_path):
    write(tmp_path, "001_a.sql", "SELECT 1;\nSELECT 'caf\xe9';\n".encode("latin-1"))
    plan = discover(tmp_path)
    finding = only_finding(plan, "error")
    assert (finding.line, "UTF-8" in finding.message) == (2, True)
    assert plan.migrations == ()


@pytest.mark.parametrize("content", ["", "  \n\n", "-- nothing yet\n/* later */\n", HEADER])
def test_empty_file_is_an_error(tmp_path, content):
    write(tmp_path, "001_a.sql", content)
    assert "no SQL statements" in only_finding(discover(tmp_path), "error").message


def test_byte_order_mark_is_an_error(tmp_path):
    write(tmp_path, "001_a.sql", "\ufeffSELECT 1;\n")
    assert "byte-order mark" in only_finding(discover(tmp_path), "error").message


@pytest.mark.parametrize("command", ["\\i other.sql", "  \\c mydb", "\\set ON_ERROR_STOP on",
                                     "\\connect other", "\\copy t from 'x.csv'"])
def test_psql_meta_command_is_an_error_at_its_line(tmp_path, command):
    write(tmp_path, "001_a.sql", f"CREATE TABLE t (id int);\n{command}\nSELECT 1;\n")
    finding = only_finding(discover(tmp_path), "error")
    assert finding.line == 2
    assert finding.message.startswith(f"psql meta-command {command.split()[0]} ")


def test_meta_command_after_a_query_is_an_error(tmp_path):
    write(tmp_path, "001_a.sql", "SELECT format('CREATE TABLE %I ()', 'x')\n\\gexec\n")
    assert "\\gexec" in only_finding(discover(tmp_path), "error").message


def test_backslashes_in_literals_comments_and_bodies_are_fine(tmp_path):
    write(tmp_path, "001_a.sql", r"""
SELECT 'C:\path\to', E'line\nnext\'s', "odd\name" FROM t;
-- \i in a comment
/* \c in /* a nested */ comment */
CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN
\set not a meta command here
  RETURN '\\';
END
$fn$;
SELECT 'multi
\i line string';
""")
    assert discover(tmp_path).findings == ()


# --- transaction blocks --------------------------------------------------------------------


def test_create_index_concurrently_needs_the_header(tmp_path):
    write(tmp_path, "001_a.sql", "-- add an index\n\nCREATE INDEX CONCURRENTLY\n  users_email ON users (email);\n")
    finding = only_finding(discover(tmp_path), "error")
    assert finding.line == 3
    assert "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in finding.message
    assert "-- pgparity: no-transaction" in finding.message


def test_header_allows_a_lone_non_transactional_statement(tmp_path):
    write(tmp_path, "001_a.sql", f"-- Why: big table.\n{HEADER}\ncreate unique index concurrently u ON users (email);\n")
    plan = discover(tmp_path)
    assert plan.findings == ()
    assert plan.migrations[0].no_transaction is True


def test_header_option_is_case_insensitive_in_its_prefix(tmp_path):
    write(tmp_path, "001_a.sql", "--PgParity:no-transaction\nVACUUM users;\n")
    assert discover(tmp_path).migrations[0].no_transaction is True


def test_no_transaction_file_with_more_statements_is_an_error(tmp_path):
    write(tmp_path, "001_a.sql", f"{HEADER}SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t (c);\n")
    finding = only_finding(discover(tmp_path), "error")
    assert finding.line == 3
    assert "implicit transaction" in finding.message and "file of its own" in finding.message


def test_no_transaction_file_of_ordinary_statements_is_fine(tmp_path):
    write(tmp_path, "001_a.sql", f"{HEADER}CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n")
    plan = discover(tmp_path)
    assert plan.findings == () and plan.migrations[0].no_transaction


def test_header_below_the_first_statement_does_not_count(tmp_path):
    write(tmp_path, "001_a.sql", f"SELECT 1;\n{HEADER}DROP INDEX CONCURRENTLY i;\n")
    plan = discover(tmp_path)
    assert plan.migrations[0].no_transaction is False
    assert "DROP INDEX CONCURRENTLY cannot run" in only_finding(plan, "error").message


@pytest.mark.parametrize("sql, command", [
    ("VACUUM ANALYZE users", "VACUUM"),
    ("vacuum", "VACUUM"),
    ("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"),
    ("CREATE DATABASE reporting", "CREATE DATABASE"),
    ("DROP DATABASE IF EXISTS reporting", "DROP DATABASE"),
    ("CREATE TABLESPACE fast LOCATION '/ssd'", "CREATE TABLESPACE"),
    ("DROP TABLESPACE fast", "DROP TABLESPACE"),
    ("DROP INDEX CONCURRENTLY IF EXISTS i", "DROP INDEX CONCURRENTLY"),
    ("REINDEX INDEX CONCURRENTLY i", "REINDEX CONCURRENTLY"),
    ("REINDEX (VERBOSE) TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"),
    ("REINDEX DATABASE app", "REINDEX DATABASE"),
    ("ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY", "DETACH PARTITION CONCURRENTLY"),
])
def test_non_transactional_statements_are_flagged(tmp_path, sql, command):
    write(tmp_path, "001_a.sql", f"SELECT 1;\n{sql};\n")
    finding = only_finding(discover(tmp_path), "error")
    assert finding.line == 2
    assert finding.message.startswith(f"{command} cannot run inside a transaction block")


def test_words_in_comments_strings_and_bodies_are_not_statements(tmp_path):
    write(tmp_path, "001_a.sql", """
-- VACUUM users;
/* CREATE INDEX CONCURRENTLY i ON t (c); */
COMMENT ON TABLE t IS 'run VACUUM; nightly';
CREATE FUNCTION nightly() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1; -- VACUUM cannot run here anyway
  EXECUTE 'CREATE DATABASE x';
END
$$;
DO $do$ BEGIN RAISE NOTICE 'DROP TABLESPACE'; END $do$;
REINDEX TABLE t;
ALTER TYPE mood ADD VALUE 'meh';
""")
    assert discover(tmp_path).findings == ()


def test_unknown_header_option_is_an_error_naming_file_and_line(tmp_path):
    write(tmp_path, "001_a.sql", "-- Adds things.\n-- pgparity: no-transaction, fast\nSELECT 1;\n")
    plan = discover(tmp_path)
    finding = only_finding(plan, "error")
    assert (finding.path.name, finding.line) == ("001_a.sql", 2)
    assert "'fast'" in finding.message
    assert plan.migrations[0].no_transaction is True


# --- baseline ------------------------------------------------------------------------------


def test_baseline_stands_for_the_versions_it_covers(tmp_path):
    baseline = write(tmp_path, "000_complete_schema.sql", "CREATE TABLE users (id int);\n")
    old = [write(tmp_path, f"00{n}_old_{n}.sql") for n in range(1, 7)]
    write(tmp_path, "003_old_3.down.sql")
    write(tmp_path, "007_new.sql")
    write(tmp_path, "008_newer.sql")
    plan = discover(tmp_path, MigrationPolicy(baseline=Baseline("000_complete_schema.sql", through=6)))
    assert not plan.has_errors and messages(plan, "warning") == []
    assert names(plan) == ["000_complete_schema.sql", "007_new.sql", "008_newer.sql"]
    assert (plan.migrations[0].version.number, plan.migrations[0].name) == (6, "complete_schema")
    assert plan.covered == tuple(old)
    info = only_finding(plan, "info")
    assert info.path == baseline and "6 migrations through version 6" in info.message


def test_baseline_outside_the_directory_and_gap_after_it(tmp_path):
    dump = write(tmp_path, "dumps/schema.sql", "CREATE TABLE t (id int);\n")
    directory = tmp_path / "migrations"
    write(directory, "001_old.sql", b"\xff not even utf-8, but covered\n")
    write(directory, "005_new.sql")
    plan = discover(directory, MigrationPolicy(baseline=Baseline(str(dump), through=3)))
    assert not plan.has_errors
    assert [m.path for m in plan.migrations] == [dump, directory / "005_new.sql"]
    assert messages(plan, "warning", "005_new.sql") == ["version 4 missing before this file"]


def test_duplicates_covered_by_the_baseline_do_not_matter(tmp_path):
    write(tmp_path, "000_schema.sql")
    write(tmp_path, "001_a.sql")
    write(tmp_path, "001_b.sql")
    write(tmp_path, "002_c.sql")
    plan = discover(tmp_path, MigrationPolicy(baseline=Baseline("000_schema.sql", through=1)))
    assert not plan.has_errors
    assert names(plan) == ["000_schema.sql", "002_c.sql"]


def test_missing_baseline_file_is_an_error(tmp_path):
    write(tmp_path, "007_new.sql")
    plan = discover(tmp_path, MigrationPolicy(baseline=Baseline("000_complete_schema.sql", through=6)))
    finding = only_finding(plan, "error")
    assert finding.path == tmp_path / "000_complete_schema.sql" and "baseline" in finding.message
    assert names(plan) == ["007_new.sql"]


def test_a_baseline_lacking_what_a_covered_file_creates_is_an_error(tmp_path):
    baseline = write(tmp_path, "000_schema.sql", "CREATE TABLE users (id int, mail text);\n")
    write(tmp_path, "001_users.sql", "CREATE TABLE users (id int, email text);\n")
    write(tmp_path, "002_rename.sql", "ALTER TABLE users RENAME COLUMN email TO mail;\n")
    write(tmp_path, "003_audit.sql", "CREATE TABLE audit (id int); CREATE INDEX audit_id ON audit (id);\n")
    write(tmp_path, "004_new.sql", "ALTER TABLE users ADD COLUMN nickname text;\n")
    plan = discover(tmp_path, MigrationPolicy(baseline=Baseline("000_schema.sql", through=3)))
    fix = "which 003_audit.sql creates; add it to the baseline, or lower `through` (3) below that file's version"
    assert [(f.path, f.message) for f in plan.errors] == [
        (baseline, f"lacks audit.id, {fix}"), (baseline, f"lacks audit, {fix}"), (baseline, f"lacks audit_id, {fix}")]
    assert not discover(tmp_path, MigrationPolicy(baseline=Baseline("000_schema.sql", through=2))).has_errors


def test_baseline_is_linted_like_a_migration(tmp_path):
    write(tmp_path, "000_schema.sql", "\\restrict abc123\nCREATE TABLE t (id int);\n")
    plan = discover(tmp_path, MigrationPolicy(baseline=Baseline("000_schema.sql", through=0)))
    assert only_finding(plan, "error").line == 1


# --- findings and errors -------------------------------------------------------------------


def test_finding_prints_like_a_compiler_message():
    assert str(Finding("error", Path("migrations/005_x.sql"), 12, "boom")) == "migrations/005_x.sql:12: error: boom"
    assert str(Finding("warning", Path("migrations"), None, "hm")) == "migrations: warning: hm"


def test_raise_for_errors_summarises_in_one_line(tmp_path):
    write(tmp_path, "001_a.sql", "SELECT 1;\n\\i x.sql\n")
    write(tmp_path, "002_b.sql", "")
    plan = discover(tmp_path)
    assert len(plan.errors) == 2
    with pytest.raises(LintError) as raised:
        plan.raise_for_errors()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path}/: 2 lint errors; first: {tmp_path / '001_a.sql'}:2: error: psql")


def test_raise_for_errors_is_quiet_with_warnings_only(tmp_path):
    write(tmp_path, "001_a.sql")
    write(tmp_path, "003_c.sql")
    plan = discover(tmp_path)
    assert plan.findings and not plan.has_errors
    plan.raise_for_errors()


# --- lexer ---------------------------------------------------------------------------------


def split(sql: str) -> list[tuple[int, str]]:
    return [(s.line, s.text) for s in statements(sql)]


def test_lexer_splits_with_starting_lines():
    assert split("SELECT 1;\n\n-- note\nSELECT\n  2;  SELECT 3") == [(1, "SELECT 1"), (4, "SELECT\n  2"), (5, "SELECT 3")]


def test_lexer_skips_empty_statements_and_trailing_comments():
    assert split(";;\nSELECT 1 -- trailing\n;\n-- end\n") == [(2, "SELECT 1")]


def test_lexer_dollar_quotes_with_tags():
    sql = "CREATE FUNCTION f() RETURNS int AS $outer$ SELECT $$;$$; $in$ ; $in$ $outer$ LANGUAGE sql;\nSELECT 2;"
    assert split(sql) == [(1, sql.split(";\nSELECT")[0]), (2, "SELECT 2")]


def test_lexer_dollar_in_identifiers_and_parameters_is_not_a_quote():
    assert split("SELECT a$b$, $1 FROM t;SELECT 2;") == [(1, "SELECT a$b$, $1 FROM t"), (1, "SELECT 2")]


def test_lexer_nested_comments():
    assert split("/* a /* b; */ c; */ SELECT 1; /* x */ SELECT /* ; */ 2;") == [(1, "SELECT 1"), (1, "SELECT /* ; */ 2")]


def test_lexer_strings_identifiers_and_escape_strings():
    sql = r"""SELECT 'it''s; fine', E'it\'s; fine', E'\\', "a;""b" FROM t; SELECT 2;"""
    assert [text for _, text in split(sql)] == [sql.split("; SELECT 2")[0], "SELECT 2"]


def test_lexer_plain_string_backslash_is_not_an_escape():
    assert split("SELECT '\\'; SELECT 2;") == [(1, "SELECT '\\'"), (1, "SELECT 2")]


def test_lexer_keeps_parenthesised_and_atomic_bodies_whole():
    rule = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))"
    atomic = "CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND"
    assert split(f"{rule};\n{atomic};\nSELECT 3;") == [(1, rule), (2, atomic), (7, "SELECT 3")]


def test_lexer_counts_lines_inside_literals_and_comments():
    sql = "SELECT 'a\nb';\n/* c\nd */\nSELECT $$\n$$;\nSELECT 3;"
    assert [line for line, _ in split(sql)] == [1, 5, 7]


def test_lexer_unterminated_literal_runs_to_the_end():
    assert split("SELECT 1; SELECT 'oops; SELECT 3;") == [(1, "SELECT 1"), (1, "SELECT 'oops; SELECT 3;")]


def test_lexer_meta_commands_end_a_statement_and_are_left_out():
    assert split("SELECT 1\n\\gexec\nSELECT 2;") == [(1, "SELECT 1"), (3, "SELECT 2")]


def test_statement_words_leave_out_literals_and_comments():
    (statement,) = statements("create /* VACUUM */ table \"Vacuum\" (v text default 'vacuum' || $$VACUUM$$)")
    assert statement.words == ("CREATE", "TABLE", "V", "TEXT", "DEFAULT")


def test_statement_leading_words_stop_early_and_follow_block_comments():
    columns = ", ".join(f"c{n}" for n in range(200))
    plain, commented = statements(f"create unique index concurrently i on t ({columns});\n"
                                  "create /* x */ index concurrently j on t (b)")
    assert plain.head == ("CREATE", "UNIQUE", "INDEX", "CONCURRENTLY") and "words" not in plain.__dict__
    assert commented.head == ("CREATE", "INDEX", "CONCURRENTLY", "J") == commented.words[:4]
    assert statements("'only a literal'")[0].first == ""


def scanned_only(sql: str) -> list[lexer.Statement | lexer.Meta]:
    """The script as the token scanner alone reads it: what the one-call match must agree with."""
    found: list[lexer.Statement | lexer.Meta] = []
    position, lines = 0, lexer._Lines(sql)
    while position < len(sql):
        scanning = lexer._scanned(sql, position, lines)
        try:
            while True:
                found.append(next(scanning)[0])
        except StopIteration as stop:
            position = stop.value
    return found


FRAGMENTS = ("SELECT", "begin", "ATOMIC", "case", "END", "x", "E", "a$b", "$1", "$", "$$", "$a$", "'", "''", "'a;b'",
             "E'\\''", '"', '"q;"', "--", "-- c;\n", "/*", "*/", "/* a /* b */ c */", "(", "(", ")", ")", ";", ";",
             "\\i f\n", "\n", " ", " ", "1", "12e3", "-", "/", ",", "pgparity", "é", "\r\n", "INDEX", "CONCURRENTLY")


UNENDING = tuple(fragment for fragment in FRAGMENTS if fragment not in (";", "\\i f\n"))


@pytest.mark.parametrize("seed", range(4))
def test_lexer_reads_plain_statements_in_one_match_exactly_as_token_by_token(seed):
    """Random scripts of every token that matters to the split: the fast path may never split differently."""
    chooser = random.Random(seed)
    for _ in range(2500):
        pool = FRAGMENTS if chooser.random() < 0.5 else UNENDING  # long statements are read from their opening
        sql = "".join(chooser.choice(pool) + chooser.choice(("", " ")) for _ in range(chooser.randint(0, 160)))
        fast = list(lexer.pieces(sql))
        assert fast == scanned_only(sql), sql
        statements = [s for s in fast if isinstance(s, lexer.Statement)]
        heads = [s.head for s in statements]  # before the words are read: from the opening alone
        assert [s.words for s in statements] == [s.words for s in scanned_only(sql) if isinstance(s, lexer.Statement)]
        assert heads == [s.words[:4] for s in statements], sql


@pytest.mark.parametrize("seed", range(4))
def test_a_script_read_in_chunks_splits_as_it_does_whole(seed):
    """Wherever the chunks part the script (in a literal, a comment, a `$tag$`, a meta-command), its statements,
    their lines and their words are those of the script read whole."""
    chooser = random.Random(seed)
    for _ in range(1500):
        sql = "".join(chooser.choice(FRAGMENTS) + chooser.choice(("", " ", "\n")) for _ in range(chooser.randint(0, 120)))
        cuts = sorted(chooser.sample(range(len(sql) + 1), min(len(sql) + 1, chooser.randint(0, 6))))
        chunks = [sql[start:end] for start, end in zip([0, *cuts], [*cuts, len(sql)])]
        whole = list(lexer.pieces(sql))
        assert list(lexer.streamed(chunks)) == whole, (sql, cuts)


def test_lint_keeps_one_statement_at_a_time(tmp_path):
    """A large data file is linted with memory that follows its largest statement, not the file."""
    row = "(1, 'a@example.com', 'it''s; (see 1)')"
    statement = f"INSERT INTO notes (id, email, body) VALUES {', '.join([row] * 2000)};\n"
    sql = "CREATE TABLE notes (id int, email text, body text);\n" + statement * 100
    tracemalloc.start()
    try:
        linted = lint_sql(tmp_path / "001_notes.sql", sql)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert linted.findings == ()
    assert peak < 3 * len(statement) < len(sql) / 30


def test_a_deeply_nested_or_commented_statement_is_read_token_by_token_alike():
    sql = "INSERT INTO t VALUES (f(g(h(i(1; 2))))), -- row\n(2);\nSELECT /* a /* b */ ; */ 1;\nSELECT $x$ ; $x$;"
    assert split(sql) == [(1, "INSERT INTO t VALUES (f(g(h(i(1; 2))))), -- row\n(2)"), (3, "SELECT /* a /* b */ ; */ 1"),
                          (4, "SELECT $x$ ; $x$")]


def test_explicit_transaction_control_is_a_warning_outside_no_transaction_files(tmp_path):
    (tmp_path / "001_a.sql").write_text("BEGIN;\ncreate table a (id int);\nCOMMIT;\n")
    (tmp_path / "002_b.sql").write_text(
        "create function f() returns int language plpgsql as $$ begin return 1; end $$;\n")
    plan = discover(tmp_path)
    warnings = [(f.path.name, f.line) for f in plan.findings if f.level == "warning" and "controls" in f.message]
    assert warnings == [("001_a.sql", 1), ("001_a.sql", 3)]
    assert not plan.has_errors


def test_a_squash_that_renamed_a_column_its_history_renames_again_suggests_a_baseline(tmp_path):
    """The file after a squashed schema fails on a column the squash already renamed: the same hint."""
    write(tmp_path, "000_complete_schema.sql", "CREATE TABLE users (mail text);\n")
    write(tmp_path, "001_rename.sql", "ALTER TABLE users RENAME COLUMN email TO mail;\n")
    plan = discover(tmp_path, MigrationPolicy())
    error = MigrationError('migrations/001_rename.sql:1: column "email" does not exist', "42703")
    hinted = with_baseline_hint(error, plan.migrations[:1])
    assert str(hinted).startswith(str(error)) and 'baseline = { file = "000_complete_schema.sql"' in str(hinted)
    assert with_baseline_hint(MigrationError("other", "42601"), plan.migrations[:1]).args == ("other",)


@pytest.mark.parametrize("sql", ["DROP SCHEMA pgparity CASCADE;", "DELETE FROM pgparity.schema_migrations;",
                                 'TRUNCATE "pgparity"."schema_migrations";', "DROP SCHEMA IF EXISTS pgparity;"])
def test_a_migration_touching_the_ledgers_schema_is_an_error(tmp_path, sql):  # B51
    write(tmp_path, "001_a.sql", f"CREATE TABLE a (id int);\n{sql}\n")
    finding = only_finding(discover(tmp_path), "error")
    assert (finding.line, finding.path.name) == (2, "001_a.sql")
    assert "touches the pgparity schema, which holds pgparity's ledger (pgparity.schema_migrations)" in finding.message


def test_words_that_only_look_like_the_ledgers_schema_are_fine(tmp_path):
    write(tmp_path, "001_a.sql", "-- pgparity: in-production\nCREATE TABLE pgparity_notes (note text DEFAULT "
                                 "'pgparity.x');\nCOMMENT ON TABLE pgparity_notes IS 'see schema pgparity';\n")
    assert discover(tmp_path).errors == ()


def row(version: str, name: str, checksum: str = "x") -> LedgerEntry:
    return LedgerEntry(version, name, checksum, False, False)


def test_applied_migrations_without_their_file_are_renamed_or_gone(tmp_path):
    write(tmp_path, "001_a.sql", "CREATE TABLE a (id int);\n")
    write(tmp_path, "002_renamed.sql", "CREATE TABLE r1 (id int);\n")
    write(tmp_path, "004_moved.sql", "CREATE TABLE r3 (id int);\n")
    plan = discover(tmp_path)
    moved = next(m for m in plan.migrations if m.version.number == 4)
    applied = (row("1", "a", plan.migrations[0].checksum), row("2", "create_r1"), row("3", "create_r3", moved.checksum),
               row("5", "gone"))
    found = ledger.unresolved(applied, plan, None)
    assert [(p.recorded, p.file and p.file.path.name) for p in found] == [
        ("002_create_r1.sql", "002_renamed.sql"), ("003_create_r3.sql", "004_moved.sql"), ("005_gone.sql", None)]
    assert str(found[0]).endswith("002_renamed.sql: version 002 is recorded in the ledger as 002_create_r1.sql "
                                  "(renamed?); rename it back, or accept it with `invoke db.repair`")
    assert "004_moved.sql: has the content the ledger records for 003_create_r3.sql (renamed?)" in str(found[1])
    assert str(found[2]) == ("005_gone.sql is recorded in the ledger but its file is gone; restore it, or accept "
                             "its removal with `invoke db.repair`")
    with pytest.raises(MigrationError, match=r"002_create_r1.sql \(renamed\?\).* \(and 2 more\)$"):
        ledger.refuse_unresolved(found)
    assert ledger.unresolved(applied[:1], plan, None) == []


def test_rows_a_baseline_covers_or_skipped_files_need_no_file(tmp_path):
    write(tmp_path, "5_schema.sql", "CREATE TABLE a (id int);\n")
    write(tmp_path, "6_b.sql", "CREATE TABLE b (id int);\n")
    write(tmp_path, "7_c.py", "print()\n")
    plan = discover(tmp_path, MigrationPolicy(skip=frozenset({"7_c.py"}), baseline=Baseline("5_schema.sql", 5)))
    applied = (row("1", "squashed_away"), row("5", "schema"), row("7", ""))
    assert ledger.unresolved(applied, plan, Baseline("5_schema.sql", 5)) == []
    assert [p.recorded for p in ledger.unresolved(applied, plan, None)] == ["1_squashed_away.sql"]
