"""Functions and procedures."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, dropping, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import qualified, raw
from pgparity.schema.model import Model


def function_ref(f: Model) -> sql.Composed:
    return sql.SQL(f.kind.upper() + " {}({})").format(qualified(f), raw(f.arguments))


def build_function(node: Node, sides: Sides) -> tuple[Step, ...]:
    """Bodies are not checked at creation, as in pg_dump: a body may name tables created later."""
    setup = Step(Phase.SETUP, "SET LOCAL check_function_bodies = off")
    own = [setup, Step(Phase.FUNCTION, node.obj.definition.strip().removesuffix(";"))]
    return with_contents(node, sides, own)


def alter_function(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    """CREATE OR REPLACE keeps dependents and grants, but cannot change what a function returns."""
    if attribute in ("result", "kind"):
        return None  # dropped and created
    return Action(build_function(target, sides))


FUNCTION = Handler(build_function, dropping(Phase.DROP_FUNCTION, "DROP {}", function_ref), alter_function,
                   comment_on=lambda node: function_ref(node.obj))
