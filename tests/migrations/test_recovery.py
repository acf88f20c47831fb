"""How an interrupted no-transaction file's work is read from the database: done, not done, half done."""

from __future__ import annotations

from pgparity.migrations import effects
from pgparity.migrations.recovery import outcome

SQL = "create index concurrently ix_a on t (a);\ndrop index concurrently ix_old;"


def test_a_file_whose_every_effect_holds_is_done():
    assert outcome(effects.of_sql(SQL), {("relation", "public", "ix_a")}) == (["ix_a", "ix_old"], [])


def test_a_file_none_of_whose_effects_hold_is_not_done():
    assert outcome(effects.of_sql(SQL), {("relation", "public", "ix_old")}) == ([], ["ix_a", "ix_old"])


def test_a_file_half_done_names_each_side():
    assert outcome(effects.of_sql(SQL), set()) == (["ix_old"], ["ix_a"])
