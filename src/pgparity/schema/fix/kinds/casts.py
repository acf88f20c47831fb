"""Casts between types: in no schema, named by their two types; changed by dropping and making them again."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, dropping, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Phase, Step
from pgparity.schema.fix.sqltext import raw, step
from pgparity.schema.model import Model

CONTEXTS = {"explicit": "", "assignment": " AS ASSIGNMENT", "implicit": " AS IMPLICIT"}


def cast_types(c: Model) -> sql.Composed:
    """`CAST (public.mood AS text)`: what DROP and COMMENT ON name."""
    return sql.SQL("CAST ({} AS {})").format(raw(c.source), raw(c.target))


def build_cast(node: Node, sides: Sides) -> tuple[Step, ...]:
    c = node.obj
    how = {"function": sql.SQL("WITH FUNCTION {}").format(raw(c.function or "")),
           "inout": sql.SQL("WITH INOUT")}.get(c.method, sql.SQL("WITHOUT FUNCTION"))
    own = step(Phase.CAST, "CREATE {} {}{}", cast_types(c), how, sql.SQL(CONTEXTS[c.context]))
    return with_contents(node, sides, [own])


CAST = Handler(build_cast, dropping(Phase.DROP_CAST, "DROP {}", cast_types),
               comment_on=lambda node: cast_types(node.obj))
