"""Triggers, and the state (enabled, disabled, ...) each is in."""

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


def trigger_state(node: Node) -> Step:
    return step(Phase.TRIGGER, f"ALTER TABLE {{}} {TRIGGER_STATES[node.obj.enabled]} TRIGGER {{}}",
                qualified(node.parent.obj), sql.Identifier(node.obj.name))


def build_trigger(node: Node, sides: Sides) -> tuple[Step, ...]:
    own = [Step(Phase.TRIGGER, node.obj.definition)]
    return with_contents(node, sides, own + ([trigger_state(node)] if node.obj.enabled != "origin" else []))


def alter_trigger(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    if attribute == "enabled":
        return Action((trigger_state(target),))
    return None  # dropped and created


TRIGGER = Handler(build_trigger, dropped_on_parent("DROP TRIGGER {} ON {}", Phase.DROP_TRIGGER), alter_trigger,
                  comment_on=commented_on_parent("TRIGGER"))
