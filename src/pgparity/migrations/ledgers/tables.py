"""Finding a ledger table by name and columns, in any schema a user's objects live in."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Located:
    """A ledger table found in the database, and the columns it has."""

    schema: str
    name: str
    columns: frozenset[str]

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


# Tables named `name` outside the system schemas, `public` first; a schema asked for by name is the only one.
TABLES = """
SELECT n.nspname, c.relname, array_agg(a.attname::text)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND c.relname = %(name)s AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND (%(schema)s::text IS NULL AND n.nspname <> 'pgparity' OR n.nspname = %(schema)s::text)
GROUP BY n.nspname, c.relname
ORDER BY n.nspname <> 'public', n.nspname
"""


def find_table(conn: psycopg.Connection, name: str, columns: set[str], schema: str | None = None,
               without: set[str] = frozenset()) -> Located | None:
    """The first table called `name` that has every one of `columns` and none of `without`."""
    for found_schema, found_name, found_columns in conn.execute(TABLES, {"name": name, "schema": schema}):
        have = frozenset(found_columns)
        if columns <= have and not (without & have):
            return Located(found_schema, found_name, have)
    return None


def exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                        (sql.Identifier(schema, name).as_string(conn),)).fetchone()[0]
