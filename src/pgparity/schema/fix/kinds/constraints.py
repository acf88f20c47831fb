"""Constraints and indexes, and the rows of the source that would fail them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from psycopg import sql

from pgparity.identifiers import names, unquote
from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_on_parent, with_contents
from pgparity.schema.fix.kinds.options import changed_options
from pgparity.schema.fix.kinds.tables import replica_identity_step
from pgparity.schema.fix.lookup import Sides, label
from pgparity.schema.fix.phases import Action, Narrowing, Phase, Step
from pgparity.schema.fix.sqltext import (
    INDEX_KEY,
    REFERENCED,
    ROW,
    SORT_OPTIONS,
    group,
    qualified,
    raw,
    rows_of,
    statement,
    step,
)
from pgparity.schema.model import Column, Table


def build_constraint(node: Node, sides: Sides) -> tuple[Step, ...]:
    c, parent = node.obj, node.parent
    if parent.kind == "domain":
        phase, word = Phase.DOMAIN, "DOMAIN"
    else:
        phase, word = (Phase.FOREIGN_KEY if c.type == "foreign key" else Phase.CONSTRAINT), "TABLE"
    own = step(phase, f"ALTER {word} {{}} ADD CONSTRAINT {{}} {{}}", qualified(parent.obj), sql.Identifier(c.name),
               raw(c.definition))
    return with_contents(node, sides, [own, *identified_by(node)])


def identified_by(node: Node) -> tuple[Step, ...]:
    """A table's replica identity set again on the index (or constraint) it names, once that is made anew."""
    table = node.parent
    if table.kind != "table" or table.obj.replica_identity != f"index {node.obj.name}":
        return ()
    return (replica_identity_step(table.obj),)


def remove_constraint(node: Node, sides: Sides) -> tuple[Step, ...]:
    c, parent = node.obj, node.parent
    word = "DOMAIN" if parent.kind == "domain" else "TABLE"
    phase = Phase.DROP_FOREIGN_KEY if c.type == "foreign key" else Phase.DROP_CONSTRAINT
    return (step(phase, f"ALTER {word} {{}} DROP CONSTRAINT {{}}", qualified(parent.obj), sql.Identifier(c.name)),)


def alter_constraint(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    """A NOT VALID constraint is validated in place, checking the rows it never checked; one to become
    NOT VALID again is dropped and added NOT VALID (which checks nothing)."""
    if attribute != "validated" or not target.obj.validated:
        return None  # dropped and created
    word = "DOMAIN" if target.parent.kind == "domain" else "TABLE"
    validate = step(Phase.VALIDATE, f"ALTER {word} {{}} VALIDATE CONSTRAINT {{}}", qualified(target.parent.obj),
                    sql.Identifier(target.obj.name))
    return Action((validate,), narrowing=constraint_narrowing(target, sides))


def rows_after_fix(table: Table, sides: Sides) -> sql.Composable:
    """The table as the constraint will see it: columns this fix adds appear with their initial value."""
    existing = sides.source.relations.get((table.schema, table.name))
    present = {c.name for c in existing.obj.columns} if existing else set()
    added = [sql.SQL("CAST({} AS {}) AS {}").format(initial_value(c), raw(c.type), sql.Identifier(c.name))
             for c in table.columns if c.name not in present]
    if not added:
        return rows_of(table)
    return sql.SQL("(SELECT *, {} FROM {}) AS {}").format(sql.SQL(", ").join(added), qualified(table), ROW)


def initial_value(column: Column) -> sql.Composable:
    """A sequence cannot advance in a read-only check, so serial and identity columns count as NULL."""
    value = column.generated or column.default
    return raw(value) if value is not None and "nextval(" not in value else sql.SQL("NULL")


def constraint_narrowing(node: Node, sides: Sides) -> tuple[Narrowing, ...]:
    c, parent = node.obj, node.parent
    if c.definition.endswith("NOT VALID"):
        return ()
    if parent.kind == "domain" or c.type == "exclude":
        return (Narrowing(label(node), f"violating {c.definition}", None),)
    rows = rows_after_fix(parent.obj, sides)
    if c.type == "check":
        expression = c.definition.removeprefix("CHECK ").removesuffix(" NO INHERIT")
        query = statement("SELECT count(*) FROM {} WHERE NOT ({})", rows, raw(expression))
        return (Narrowing(label(node), f"failing {c.definition}", query),)
    keys, end = group(c.definition, c.definition.index("("))
    columns = [sql.SQL("{}.{}").format(ROW, sql.Identifier(unquote(key))) for key in keys]
    if c.type == "foreign key":
        return (orphans(node, columns, c.definition[end:], rows, sides),)
    distinct = "NULLS NOT DISTINCT" not in c.definition[:end]
    found = (duplicates(node, keys, columns, rows, distinct),)
    if c.type == "primary key":
        nulls = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(column) for column in columns)
        query = statement("SELECT count(*) FROM {} WHERE {}", rows, nulls)
        found += (Narrowing(label(node), f"holding NULL in ({', '.join(keys)})", query),)
    return found


def duplicates(node: Node, keys: Sequence[str], columns: Sequence[sql.Composable], rows: sql.Composable,
               nulls_distinct: bool, where: sql.Composable | None = None) -> Narrowing:
    filters = [sql.SQL("{} IS NOT NULL").format(column) for column in columns] if nulls_distinct else []
    filters += [where] if where is not None else []
    query = statement(
        "SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {} WHERE {} GROUP BY {} "
        "HAVING count(*) > 1) AS duplicates",
        rows, sql.SQL(" AND ").join(filters) if filters else sql.SQL("true"), sql.SQL(", ").join(columns),
    )
    return Narrowing(label(node), f"sharing their ({', '.join(keys)}) with another row", query)


REFERENCES = re.compile(r' REFERENCES ((?:"(?:[^"]|"")*"|[^"(])+)\(')


def orphans(node: Node, columns: list[sql.Composable], rest: str, rows: sql.Composable, sides: Sides) -> Narrowing:
    """Rows whose key finds no referenced row; a referenced table this fix creates starts empty."""
    match = REFERENCES.match(rest)
    referenced = names(match[1])
    targets, _ = group(rest, match.end() - 1)
    present = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(column) for column in columns)
    predicate = present
    if referenced in sides.source.relations:
        pairs = sql.SQL(" AND ").join(
            sql.SQL("{}.{} = {}").format(REFERENCED, sql.Identifier(unquote(target)), column)
            for target, column in zip(targets, columns)
        )
        predicate = sql.SQL("{} AND NOT EXISTS (SELECT FROM {} AS {} WHERE {})").format(
            present, sql.Identifier(*referenced), REFERENCED, pairs)
    query = statement("SELECT count(*) FROM {} WHERE {}", rows, predicate)
    return Narrowing(label(node), f"referencing no row of {match[1]}", query)


def build_index(node: Node, sides: Sides) -> tuple[Step, ...]:
    """The model keeps the definition from USING on, less its options: the name and table are put back in
    front, the options set once it exists."""
    index = node.obj
    template = "CREATE UNIQUE INDEX {} ON {} {}" if index.unique else "CREATE INDEX {} ON {} {}"
    own = step(Phase.INDEX, template, sql.Identifier(index.name), qualified(node.parent.obj),
               raw(index.definition))
    options = changed_options("INDEX", index_ref(node), (), index.options, Phase.INDEX)
    return with_contents(node, sides, [own, *options, *identified_by(node)])


def alter_index(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    if attribute != "options":
        return None  # dropped and created
    return Action(changed_options("INDEX", index_ref(target), source.obj.options, target.obj.options))


def index_ref(node: Node) -> sql.Identifier:
    return sql.Identifier(node.parent.obj.schema, node.obj.name)


def remove_index(node: Node, sides: Sides) -> tuple[Step, ...]:
    return (step(Phase.DROP_CONSTRAINT, "DROP INDEX {}", index_ref(node)),)


def index_narrowing(node: Node, sides: Sides) -> tuple[Narrowing, ...]:
    """Duplicates under a new unique index; keys with an operator class or collation are not counted."""
    index = node.obj
    if not index.unique or node.parent.kind != "table":
        return ()
    method = re.match(r"USING \w+ ", index.definition)
    keys, end = group(index.definition, method.end()) if method else ([], 0)
    keys = [SORT_OPTIONS.sub("", key) for key in keys]
    if not keys or not all(INDEX_KEY.fullmatch(key) for key in keys):
        return (Narrowing(label(node), "sharing their key with another row", None),)
    rest = index.definition[end:]
    where = raw(rest.partition(" WHERE ")[2]) if " WHERE " in rest else None
    rows = rows_after_fix(node.parent.obj, sides)
    return (duplicates(node, keys, [raw(key) for key in keys], rows, "NULLS NOT DISTINCT" not in rest, where),)


def index_named(node: Node) -> sql.Composable:
    return sql.SQL("INDEX {}").format(index_ref(node))


CONSTRAINT = Handler(build_constraint, remove_constraint, alter_constraint, narrowing=constraint_narrowing,
                     comment_on=commented_on_parent("CONSTRAINT"))
INDEX = Handler(build_index, remove_index, alter_index, narrowing=index_narrowing, comment_on=index_named)
