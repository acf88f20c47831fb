"""Rails-style `schema_migrations(version)`, told from dbmate's by `ar_internal_metadata` beside it."""

from __future__ import annotations

import psycopg

from pgparity.migrations.ledgers.tables import Located, exists, find_table
from pgparity.migrations.ledgers.versions import OTHERS, read

__all__ = ["find", "read"]


def find(conn: psycopg.Connection) -> Located | None:
    table = find_table(conn, "schema_migrations", {"version"}, without=OTHERS)
    return table if table and exists(conn, table.schema, "ar_internal_metadata") else None
