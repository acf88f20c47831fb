"""Triggers and rules: each a definition as the server prints it, and the state (enabled, disabled, ...) it is in."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_on_parent, dropped_on_parent, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import qualified, step

TRIGGER_STATES = {
    "origin": "ENABLE", "always": "ENABLE ALWAYS", "replica": "ENABLE REPLICA", "disabled": "DISABLE",
}


def stateful(word: str, phase: Phase) -> Handler:
    """TRIGGER or RULE: made by its printed definition, then `ALTER TABLE … DISABLE|ENABLE … <word>` for a
    state other than enabled, which is also changed in place; anything else drops and creates it."""
    def state(node: Node) -> Step:
        return step(phase, f"ALTER TABLE {{}} {TRIGGER_STATES[node.obj.enabled]} {word} {{}}",
                    qualified(node.parent.obj), sql.Identifier(node.obj.name))

    def build(node: Node, sides: Sides) -> tuple[Step, ...]:
        own = [Step(phase, node.obj.definition)]
        return with_contents(node, sides, own + ([state(node)] if node.obj.enabled != "origin" else []))

    def alter(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
        return Action((state(target),)) if attribute == "enabled" else None

    return Handler(build, dropped_on_parent(f"DROP {word} {{}} ON {{}}", Phase.DROP_TRIGGER), alter,
                   comment_on=commented_on_parent(word))


TRIGGER = stateful("TRIGGER", Phase.TRIGGER)
RULE = stateful("RULE", Phase.RULE)
