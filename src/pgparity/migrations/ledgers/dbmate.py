"""dbmate's `schema_migrations(version)`: one row per applied migration, its timestamp as the version."""

from __future__ import annotations

import psycopg

from pgparity.migrations.ledgers.tables import Located, find_table
from pgparity.migrations.ledgers.versions import OTHERS, read

__all__ = ["find", "read"]


def find(conn: psycopg.Connection) -> Located | None:
    return find_table(conn, "schema_migrations", {"version"}, without=OTHERS)
