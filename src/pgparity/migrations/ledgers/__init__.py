"""Migration ledgers of every tool pgparity knows: where a database stands, read as data.

A format is one entry in `FORMATS` and a small module: how to find its table and how to read its rows
into `LedgerEntry`s. Detection tries the formats in order; the first table found is the ledger. A
ledger the project names in pgparity.toml (`[production] ledger`) is read instead of detecting one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import psycopg

from pgparity.config import LedgerTable
from pgparity.migrations.ledgers import custom, dbmate, flyway, golang_migrate, goose, pgparity, rails, sqitch
from pgparity.migrations.ledgers.tables import Located
from pgparity.schema.model import Ledger, LedgerEntry


@dataclass(frozen=True)
class Format:
    """One tool's ledger layout: `find` locates its table, `read` turns the table into entries."""

    kind: str
    find: Callable[[psycopg.Connection], Located | None]
    read: Callable[[psycopg.Connection, Located], tuple[LedgerEntry, ...]]
    companions: tuple[str, ...] = ()  # the tool's other tables beside its ledger, hidden with it
    own_schema: bool = False  # the tool keeps a schema of its own, hidden whole


# Detection order: the most specific layouts first (golang-migrate's schema_migrations has a dirty
# column, Rails' sits beside ar_internal_metadata; dbmate's is the bare one).
FORMATS: tuple[Format, ...] = (
    Format("pgparity", pgparity.find, pgparity.read),
    Format("flyway", flyway.find, flyway.read),
    Format("golang-migrate", golang_migrate.find, golang_migrate.read),
    Format("rails", rails.find, rails.read, companions=("ar_internal_metadata",)),
    Format("dbmate", dbmate.find, dbmate.read),
    Format("goose", goose.find, goose.read),
    Format("sqitch", sqitch.find, sqitch.read, own_schema=True),
)
KINDS = tuple(f.kind for f in FORMATS) + (custom.KIND,)


def read_ledger(conn: psycopg.Connection, configured: LedgerTable | None = None) -> Ledger | None:
    """The database's ledger: the configured one, else the first format whose table exists; None when none does."""
    if configured is not None:
        located = custom.find(conn, configured)
        return Ledger(custom.KIND, located.label, custom.read(conn, located, configured))
    for candidate in FORMATS:
        located = candidate.find(conn)
        if located is not None:
            return Ledger(candidate.kind, located.label, candidate.read(conn, located))
    return None


def hidden(ledger: Ledger) -> tuple[frozenset[str], frozenset[str]]:
    """The tables (qualified) and schemas that hold the ledger: bookkeeping, never schema to compare or fix."""
    schema = ledger.table.partition(".")[0]
    found = next((f for f in FORMATS if f.kind == ledger.kind), None)
    companions = found.companions if found else ()
    return (frozenset({ledger.table, *(f"{schema}.{name}" for name in companions)}),
            frozenset({schema} if found and found.own_schema else ()))


__all__ = ["FORMATS", "KINDS", "Format", "Located", "hidden", "read_ledger"]
