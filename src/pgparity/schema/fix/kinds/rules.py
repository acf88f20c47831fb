"""Rules (CREATE RULE) on tables and views, and the state (enabled, disabled, ...) each is in."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_on_parent, dropped_on_parent, with_contents
from pgparity.schema.fix.kinds.triggers import TRIGGER_STATES
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import qualified, step


def rule_state(node: Node) -> Step:
    return step(Phase.RULE, f"ALTER TABLE {{}} {TRIGGER_STATES[node.obj.enabled]} RULE {{}}",
                qualified(node.parent.obj), sql.Identifier(node.obj.name))


def build_rule(node: Node, sides: Sides) -> tuple[Step, ...]:
    """The definition as the server printed it (CREATE RULE ...), then a state other than enabled."""
    own = [Step(Phase.RULE, node.obj.definition)]
    return with_contents(node, sides, own + ([rule_state(node)] if node.obj.enabled != "origin" else []))


def alter_rule(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    if attribute == "enabled":
        return Action((rule_state(target),))
    return None  # dropped and created


RULE = Handler(build_rule, dropped_on_parent("DROP RULE {} ON {}", Phase.DROP_TRIGGER), alter_rule,
               comment_on=commented_on_parent("RULE"))
