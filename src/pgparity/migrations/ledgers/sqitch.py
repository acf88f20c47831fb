"""Sqitch's registry, `sqitch.changes`: one row per deployed change, named, with the deploy script's hash."""

from __future__ import annotations

import psycopg
from psycopg import sql

from pgparity.migrations.ledgers.tables import Located, find_table
from pgparity.schema.model import LedgerEntry


def find(conn: psycopg.Connection) -> Located | None:
    return find_table(conn, "changes", {"change_id", "change", "script_hash", "committed_at"}, schema="sqitch")


def read(conn: psycopg.Connection, table: Located) -> tuple[LedgerEntry, ...]:
    rows = conn.execute(sql.SQL("SELECT change, script_hash FROM {} ORDER BY committed_at, change").format(
        table.identifier))
    return tuple(LedgerEntry("", change, script_hash, False, False) for change, script_hash in rows)
