"""Production's tables as the dump sees them, read through the schema's catalog reader."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import psycopg

from pgparity.data.sanitize import Column, ColumnName, TableName
from pgparity.schema import introspect


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    parent: TableName
    parent_columns: tuple[str, ...]


@dataclass(frozen=True)
class SourceTable:
    """A production table whose rows are dumped: its stored columns (generated ones are recomputed)."""

    name: TableName
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the primary key, which orders a `limit`
    foreign_keys: tuple[ForeignKey, ...]
    pages: int = 0  # the table's size in pages when the dump began


def read_tables(conn: psycopg.Connection) -> tuple[SourceTable, ...]:
    """Production's tables with data (partitions, not their parents), their keys and foreign keys."""
    found = introspect.stored_tables(conn)
    columns: dict[TableName, list[Column]] = defaultdict(list)
    pages: dict[TableName, int] = {}
    for row in found["columns"]:
        table = TableName(row["schema"], row["table"])
        pages[table] = row["pages"]
        columns[table].append(Column(ColumnName(table, row["name"]), row["type"], row["textual"], row["nullable"],
                                     row["unique"], row["composite"]))
    keys: dict[TableName, tuple[str, ...]] = {}
    foreign_keys: dict[TableName, list[ForeignKey]] = defaultdict(list)
    for row in found["keys"]:
        table = TableName(row["schema"], row["table"])
        if row["primary"]:
            keys[table] = tuple(row["columns"])
        else:
            foreign_keys[table].append(ForeignKey(tuple(row["columns"]), TableName(row["parent_schema"], row["parent"]),
                                                  tuple(row["parent_columns"])))
    return tuple(SourceTable(name, tuple(cols), keys.get(name, ()), tuple(foreign_keys[name]), pages[name])
                 for name, cols in columns.items())


def partition_roots(conn: psycopg.Connection) -> dict[TableName, TableName]:
    """Each partition holding rows, and the partitioned table at the top of its tree."""
    return {TableName(row["schema"], row["name"]): TableName(row["root_schema"], row["root"])
            for row in introspect.partition_roots(conn)}
