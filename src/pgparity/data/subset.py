"""Which rows of each table the dump keeps, and the parts they are read in.

A table dumped whole is cut into parts by ranges of its pages, so it is read, masked and restored in
parallel; a subset (a rule's `where`, `limit` or `exclude`, and the foreign keys it reaches) is one part.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from pgparity.data.extract import Part, plan_part
from pgparity.data.sanitize import Rules, TableName, TableRule
from pgparity.data.tables import ForeignKey, SourceTable
from pgparity.errors import SanitizeError

PART_PAGES = 4096  # 32 MiB of heap per part: large tables are read, masked and loaded by several workers
TID_RANGE_SCANS = 140000  # server_version_num from which a ctid range reads only its pages


@dataclass(frozen=True)
class Selection:
    """What one table contributes to the dump: the COPY statements reading its parts, and how its rows were chosen."""

    table: SourceTable
    statements: tuple[sql.Composed, ...]  # none: the table's rows are excluded
    subset: str


class Subset:
    """The rows each table keeps, so that every foreign key of the restored data still holds.

    A table keeps the rows its own rule selects (`where`; `limit` takes the first rows by primary key)
    and, when a parent table does not keep all its rows, only the rows whose parent row was kept; a
    row whose foreign key is NULL stays. A capped child therefore never removes parent rows, and an
    excluded parent leaves only the children that reference nothing. A subset reaching a table through
    a foreign-key cycle (a self-reference included) would need a fixpoint, so it is refused.
    """

    def __init__(self, tables: Sequence[SourceTable], rules: Rules):
        self.tables = {table.name: table for table in tables}
        self.aliases = {name: f"kept_{index}" for index, name in enumerate(self.tables)}
        self.rules = rules
        self.partial = self._partial()

    def _partial(self) -> set[TableName]:
        """Tables not dumped whole: those with a rule, and the descendants of those."""
        children: dict[TableName, set[TableName]] = defaultdict(set)
        for table in self.tables.values():
            for key in table.foreign_keys:
                children[key.parent].add(table.name)
        todo = [rule.table for rule in self.rules.tables if rule.table in self.tables]
        partial = set(todo)
        while todo:
            for child in children[todo.pop()] - partial:
                partial.add(child)
                todo.append(child)
        return partial

    def selection(self, table: SourceTable, parts: int = 1) -> Selection:
        """The table's selection; a table dumped whole is read in `parts` ranges of its pages."""
        rule = self.rules.table(table.name) or TableRule(table.name)
        if rule.exclude:
            return Selection(table, (), rule.describe())
        columns = sql.SQL(", ").join(sql.Identifier(column.name.name) for column in table.columns)
        target = sql.Identifier(table.name.schema, table.name.name)
        if table.name not in self.partial:
            if parts == 1:
                return Selection(table, (sql.SQL("COPY {} ({}) TO STDOUT").format(target, columns),), "all rows")
            return Selection(table, tuple(sql.SQL("COPY (SELECT {} FROM {} WHERE {}) TO STDOUT").format(
                columns, target, page_range(part, parts, table.pages)) for part in range(parts)), "all rows")
        chain = self._ancestry(table.name, ())
        ctes = sql.SQL(", ").join(sql.SQL("{} AS ({})").format(sql.Identifier(self.aliases[name]), self._kept(name))
                                  for name in chain)
        statement = sql.SQL("COPY (WITH {} SELECT {} FROM {}) TO STDOUT").format(
            ctes, columns, sql.Identifier(self.aliases[table.name]))
        return Selection(table, (statement,), self._describe(table, rule))

    def _parents(self, name: TableName) -> list[TableName]:
        """The parents whose kept rows restrict this table's rows."""
        if self.rules.excluded(name):
            return []
        return [key.parent for key in self.tables[name].foreign_keys
                if key.parent in self.partial and key.parent in self.tables]

    def _ancestry(self, name: TableName, path: tuple[TableName, ...]) -> list[TableName]:
        """This table and the partial tables it depends on, parents first; refuse a cycle."""
        if name in path:
            cycle = " → ".join(str(table) for table in (*path[path.index(name):], name))
            raise SanitizeError(
                f"{self.rules.source} [sanitize.tables]: a where, limit or exclude rule reaches {name} through "
                f"the foreign-key cycle {cycle}; its rows cannot be subset consistently, so dump the cycle whole"
            )
        chain: list[TableName] = []
        for parent in self._parents(name):
            chain += [table for table in self._ancestry(parent, (*path, name)) if table not in chain]
        return chain + [name]

    def _kept(self, name: TableName) -> sql.Composed:
        table = self.tables[name]
        rule = self.rules.table(name) or TableRule(name)
        conditions = [sql.SQL("false")] if rule.exclude else []
        if rule.where:
            conditions.append(sql.SQL("({})").format(sql.SQL(rule.where)))
        for key in table.foreign_keys:
            if key.parent in self._parents(name):
                conditions.append(self._references(key))
        query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(name.schema, name.name))
        if conditions:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)
        if rule.limit:
            order = sql.SQL(", ").join(map(sql.Identifier, table.key)) if table.key else sql.SQL("ctid")
            query += sql.SQL(" ORDER BY {} LIMIT {}").format(order, sql.Literal(rule.limit))
        return query

    def _references(self, key: ForeignKey) -> sql.Composed:
        """The row's parent was kept, or its foreign key is NULL (MATCH SIMPLE checks nothing then)."""
        nulls = [sql.SQL("{} IS NULL").format(sql.Identifier(column)) for column in key.columns]
        kept = sql.SQL("({}) IN (SELECT {} FROM {})").format(
            sql.SQL(", ").join(map(sql.Identifier, key.columns)),
            sql.SQL(", ").join(map(sql.Identifier, key.parent_columns)),
            sql.Identifier(self.aliases[key.parent]))
        return sql.SQL("({})").format(sql.SQL(" OR ").join([*nulls, kept]))

    def _describe(self, table: SourceTable, rule: TableRule) -> str:
        parents = sorted({str(parent) for parent in self._parents(table.name)})
        inherited = f"only rows referencing kept rows of {', '.join(parents)}" if parents else ""
        return ", ".join(part for part in (rule.describe(), inherited) if part)


def page_range(part: int, parts: int, pages: int) -> sql.Composed:
    """The rows of one part: its share of the pages, the last part open-ended for rows added since."""
    size = -(-pages // parts)
    bounds = []
    if part:
        bounds.append(sql.SQL("ctid >= {}::tid").format(sql.Literal(f"({part * size},0)")))
    if part < parts - 1:
        bounds.append(sql.SQL("ctid < {}::tid").format(sql.Literal(f"({(part + 1) * size},0)")))
    return sql.SQL(" AND ").join(bounds)


def part_count(table: SourceTable, server_version: int) -> int:
    """How many parts a table is read in: one per PART_PAGES, when the server scans a ctid range alone."""
    return table.pages // PART_PAGES + 1 if server_version >= TID_RANGE_SCANS else 1


def plan(conn: psycopg.Connection, tables: Sequence[SourceTable], rules: Rules) -> list[tuple[Selection, list[Part]]]:
    """Each table's selection and the parts that read it, numbered into member names."""
    subset = Subset(tables, rules)
    planned = []
    for index, table in enumerate(tables, 1):
        selection = subset.selection(table, part_count(table, conn.info.server_version))
        parts = [plan_part(str(table.name), f"data/{index:04d}.{number:03d}.copy.zst", statement.as_string(conn),
                           table.columns, rules) for number, statement in enumerate(selection.statements, 1)]
        planned.append((selection, parts))
    return planned
