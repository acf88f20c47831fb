"""Reading a migration file in chunks: what one reading finds must be what reading it whole finds."""

from __future__ import annotations

import hashlib
import re
import tracemalloc

import pytest

from pgparity.errors import MigrationError
from pgparity.migrations import content, formats
from pgparity.migrations.content import CHUNK, Content, part, read
from pgparity.migrations.discovery import discover
from pgparity.migrations.formats.flyway import checksum as flyway_checksum
from pgparity.migrations.lint import lint_chunks, lint_sql


def normalized(data: bytes) -> str:
    return hashlib.sha256(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")).hexdigest()


@pytest.fixture
def large(tmp_path):
    """A file of several chunks with CRLF endings, a goose marker deep inside and a line longer than a chunk."""
    rows = "".join(f"INSERT INTO t VALUES ({n}, 'row {n}');\r\n" for n in range(120_000))
    text = "-- +goose Up\r\n" + rows + "SELECT '" + "x" * (CHUNK + 10) + "';\r\n-- +goose Down\r\nDROP TABLE t;\r\n"
    path = tmp_path / "001_big.sql"
    path.write_bytes(text.encode())
    return path, text


def test_a_file_of_many_chunks_is_read_as_it_is_whole(large):
    path, text = large
    data = text.encode()
    found = read(path, formats.MARKS)
    assert found.held is None and found.size == len(data) and found.invalid is None
    assert found.raw == hashlib.sha256(data).hexdigest() and found.checksum == normalized(data)
    assert found.notes == ((1, "-- +goose Up"), (120_003, "-- +goose Down"))
    chunks = list(found.chunks())
    assert len(chunks) > 3 and all(chunk.endswith("\n") for chunk in chunks) and "".join(chunks) == text
    assert found.text() == text
    assert content.checksums(chunks) == (found.checksum, found.raw)
    assert flyway_checksum(chunks) == flyway_checksum([text])


def test_a_small_file_is_held_and_its_checksums_match_its_text(tmp_path):
    path = tmp_path / "001_a.sql"
    path.write_bytes(b"CREATE TABLE a (id int);\r\n")
    found = read(path, ())
    assert found.held == "CREATE TABLE a (id int);\r\n" and found.notes == ()
    assert (found.raw, found.checksum) == (Content.of(found.held).raw, Content.of(found.held).checksum)
    assert found.checksum == normalized(b"CREATE TABLE a (id int);\r\n") != found.raw


def test_bytes_that_are_not_utf8_are_found_with_their_line_in_any_chunk(tmp_path):
    path = tmp_path / "001_a.sql"
    path.write_bytes(b"SELECT 1;\n" * (CHUNK // 10 + 5) + b"SELECT '\xff';\n")
    found = read(path, ())
    assert found.invalid == (10 * (CHUNK // 10 + 5) + 8, CHUNK // 10 + 6)
    assert "\ufffd" in "".join(found.chunks())  # looked at, never run


def test_a_file_edited_after_it_was_read_is_refused_when_read_again(large):
    path, text = large
    found = read(path, ())
    path.write_bytes(text.replace("row 7'", "row 8'").encode())
    with pytest.raises(MigrationError, match="001_big.sql: changed while it was being read"):
        found.text()


def test_a_part_blanks_the_other_lines_and_keeps_every_line_number(large):
    path, text = large
    found = read(path, formats.MARKS)
    up = "".join(part(found.chunks(), ((1, 120_003),)))
    assert up.count("\n") == text.count("\n") and "DROP TABLE" not in up and "row 119999" in up
    assert "".join(part(found.chunks(), None)) == text


def test_discovery_of_a_large_goose_file_matches_the_same_file_held(tmp_path, large):
    """The same migration read in chunks and held whole: same up part, checksums, rollback and findings."""
    path, text = large
    plan = discover(path.parent)
    migration = plan.migrations[0]
    assert plan.format.name == "goose" and migration.content.held is None
    held = Content.of(text, path, formats.MARKS)
    up = "".join(part([text], migration.up))
    assert migration.sql == up and migration.rollback_sql.strip("\r\n") == "-- +goose Down\r\nDROP TABLE t;"
    assert (migration.checksum, migration.raw_checksum) == content.checksums([up])
    assert lint_chunks(path, migration.content.chunks()).findings == lint_sql(path, held.text()).findings


def test_discovery_and_lint_of_a_large_file_keep_no_copy_of_it(tmp_path):
    """Reading, hashing and linting a 13 MB file never holds it whole: memory follows the chunk and statement."""
    statement = "INSERT INTO notes (id, body) VALUES " + ", ".join(f"({n}, 'note {n}; (see)')" for n in range(500))
    sql = "CREATE TABLE notes (id int, body text);\n" + (statement + ";\n") * 1000
    (tmp_path / "001_notes.sql").write_text(sql)
    tracemalloc.start()
    try:
        plan = discover(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not plan.findings and len(plan.migrations) == 1
    assert peak < 10 * CHUNK + 4 * len(statement) < len(sql) / 10


def test_the_notes_are_the_lines_a_layout_marks_and_no_other(tmp_path):
    path = tmp_path / "001_a.sql"
    path.write_text("-- migrate:up\nSELECT '-- migrate:down';\n  -- a comment\n\t-- migrate:down  \nSELECT 2;\n")
    assert read(path, formats.MARKS).notes == ((1, "-- migrate:up"), (4, "-- migrate:down"))
    assert read(path, (re.compile("-- a comment"),)).notes == ((3, "-- a comment"),)
