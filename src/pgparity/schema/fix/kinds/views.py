"""Views and materialized views."""

from __future__ import annotations

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_as, with_contents
from pgparity.schema.fix.kinds.options import changed_options, with_options
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import qualified, raw, step


def word_of(node: Node) -> str:
    return "MATERIALIZED VIEW" if node.kind == "materialized_view" else "VIEW"


def build_view(node: Node, sides: Sides) -> tuple[Step, ...]:
    own = step(Phase.VIEW, f"CREATE {word_of(node)} {{}}{{}} AS {{}}", qualified(node.obj),
               with_options(node.obj.options), raw(node.obj.definition))
    return with_contents(node, sides, [own])


def remove_view(node: Node, sides: Sides) -> tuple[Step, ...]:
    return (step(Phase.DROP_VIEW, f"DROP {word_of(node)} {{}}", qualified(node.obj)),)


def alter_view(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    """Options change in place; anything else drops the view and creates it again."""
    if attribute != "options":
        return None
    return Action(changed_options(word_of(target), qualified(target.obj), source.obj.options, target.obj.options))


VIEW = Handler(build_view, remove_view, alter_view, comment_on=commented_as("VIEW"))
MATERIALIZED_VIEW = Handler(build_view, remove_view, alter_view, comment_on=commented_as("MATERIALIZED VIEW"))
