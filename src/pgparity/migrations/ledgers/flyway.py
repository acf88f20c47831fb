"""Flyway's `flyway_schema_history`: one row per run, in installed_rank order.

Failed runs are kept as failed entries (not applied); a successful undo, or a row that `flyway repair`
marked deleted, takes its version back out; a BASELINE row stands for every version up to its own.
A repeatable migration (no version) is one entry without a version: its newest successful run.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from pgparity.migrations.ledgers.tables import Located, find_table
from pgparity.schema.model import LedgerEntry

COLUMNS = {"installed_rank", "version", "type", "script", "checksum", "success"}
REMOVING = ("UNDO_SQL", "UNDO_JDBC", "UNDO_SCRIPT", "DELETE")


def find(conn: psycopg.Connection) -> Located | None:
    return find_table(conn, "flyway_schema_history", COLUMNS)


def read(conn: psycopg.Connection, table: Located) -> tuple[LedgerEntry, ...]:
    rows = conn.execute(sql.SQL(
        "SELECT coalesce(version, ''), type, script, checksum, success FROM {} ORDER BY installed_rank"
    ).format(table.identifier))
    entries: list[LedgerEntry] = []
    for version, kind, script, checksum, success in rows:
        if kind.upper() in REMOVING:
            if success and version:
                entries = [entry for entry in entries if entry.version != version]
            continue
        if not version:
            if success:
                entries = [entry for entry in entries if entry.version or entry.name != script]
                entries.append(LedgerEntry("", script, None if checksum is None else str(checksum), False, False))
            continue
        entries.append(LedgerEntry(version, script, None if checksum is None else str(checksum),
                                   kind.upper() == "BASELINE", not success))
    return tuple(entries)
