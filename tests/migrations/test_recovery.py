"""How an interrupted no-transaction file's work is read from the database: done, not done, half done; and the
ledger's states, in a ledger older than them too."""

from __future__ import annotations

import psycopg

from pgparity.migrations import effects, ledger
from pgparity.migrations.recovery import outcome
from pgparity.schema.model import LedgerEntry

SQL = "create index concurrently ix_a on t (a);\ndrop index concurrently ix_old;"


def test_a_file_whose_every_effect_holds_is_done():
    assert outcome(effects.of_sql(SQL), {("relation", "public", "ix_a")}) == (["ix_a", "ix_old"], [])


def test_a_file_none_of_whose_effects_hold_is_not_done():
    assert outcome(effects.of_sql(SQL), {("relation", "public", "ix_old")}) == ([], ["ix_a", "ix_old"])


def test_a_file_half_done_names_each_side():
    assert outcome(effects.of_sql(SQL), set()) == (["ix_old"], ["ix_a"])


OLDER_LEDGER = """
CREATE SCHEMA pgparity;
CREATE TABLE pgparity.schema_migrations (version bigint NOT NULL, name text NOT NULL, checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(), execution_ms integer NOT NULL, tool_version text NOT NULL,
    origin text NOT NULL DEFAULT 'replay', PRIMARY KEY (version, name));
INSERT INTO pgparity.schema_migrations (version, name, checksum, execution_ms, tool_version)
    VALUES (1, 'a', 'c1', 3, '0.1');
"""


def test_a_ledger_without_states_reads_as_applied_and_gains_the_column_in_place(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(OLDER_LEDGER)
        assert ledger.read(conn) == (LedgerEntry("1", "a", "c1", False, False),)
        ledger.ensure(conn)
        assert conn.execute("SELECT version::bigint, state FROM pgparity.schema_migrations").fetchall() == [(1, "applied")]
        conn.execute("INSERT INTO pgparity.schema_migrations (version, name, checksum, execution_ms, tool_version, "
                     "state) VALUES (2, 'b', 'c2', 0, '0.2', 'started')")
        assert [row.failed for row in ledger.read(conn)] == [False, True]
