"""Views and materialized views."""

from __future__ import annotations

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_as, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Phase, Step
from pgparity.schema.fix.sqltext import qualified, raw, step


def build_view(node: Node, sides: Sides) -> tuple[Step, ...]:
    word = "MATERIALIZED VIEW" if node.kind == "materialized_view" else "VIEW"
    own = step(Phase.VIEW, f"CREATE {word} {{}} AS {{}}", qualified(node.obj), raw(node.obj.definition))
    return with_contents(node, sides, [own])


def remove_view(node: Node, sides: Sides) -> tuple[Step, ...]:
    word = "MATERIALIZED VIEW" if node.kind == "materialized_view" else "VIEW"
    return (step(Phase.DROP_VIEW, f"DROP {word} {{}}", qualified(node.obj)),)


VIEW = Handler(build_view, remove_view, comment_on=commented_as("VIEW"))
MATERIALIZED_VIEW = Handler(build_view, remove_view, comment_on=commented_as("MATERIALIZED VIEW"))
