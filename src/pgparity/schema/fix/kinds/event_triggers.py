"""Event triggers: the database's own triggers on DDL, which only a superuser creates, alters or drops."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, with_contents
from pgparity.schema.fix.kinds.triggers import TRIGGER_STATES
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import literal, raw, step


def state_step(node: Node) -> Step:
    return step(Phase.TRIGGER, f"ALTER EVENT TRIGGER {{}} {TRIGGER_STATES[node.obj.enabled]}",
                sql.Identifier(node.obj.name))


def build_event_trigger(node: Node, sides: Sides) -> tuple[Step, ...]:
    e = node.obj
    tags = sql.SQL(" WHEN TAG IN ({})").format(sql.SQL(", ").join(map(literal, e.tags))) if e.tags else sql.SQL("")
    own = [step(Phase.TRIGGER, "CREATE EVENT TRIGGER {} ON {}{} EXECUTE FUNCTION {}()", sql.Identifier(e.name),
                sql.Identifier(e.event), tags, raw(e.function))]
    return with_contents(node, sides, own + ([state_step(node)] if e.enabled != "origin" else []))


def remove_event_trigger(node: Node, sides: Sides) -> tuple[Step, ...]:
    return (step(Phase.DROP_TRIGGER, "DROP EVENT TRIGGER {}", sql.Identifier(node.obj.name)),)


def alter_event_trigger(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    if attribute == "enabled":
        return Action((state_step(target),))
    return None  # dropped and created


def event_trigger_named(node: Node) -> sql.Composable:
    return sql.SQL("EVENT TRIGGER {}").format(sql.Identifier(node.obj.name))


EVENT_TRIGGER = Handler(build_event_trigger, remove_event_trigger, alter_event_trigger,
                        comment_on=event_trigger_named, superuser=True)
