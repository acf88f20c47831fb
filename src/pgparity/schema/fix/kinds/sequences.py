"""Sequences: their options, and the column that owns them."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_as, dropping, with_contents
from pgparity.schema.fix.lookup import Sides, label
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import literal, qualified, raw, step
from pgparity.schema.model import Model


def sequence_data(node: Node, sides: Sides) -> str:
    return f"drops sequence {label(node)} and its current value"


def sequence_options(s: Model) -> sql.Composed:
    return sql.SQL("AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}").format(
        raw(s.type), literal(s.increment), literal(s.minimum), literal(s.maximum), literal(s.start),
        literal(s.cache), sql.SQL("CYCLE" if s.cycle else "NO CYCLE"),
    )


def owner_step(s: Model) -> Step:
    owner = raw(s.owned_by) if s.owned_by else sql.SQL("NONE")
    return step(Phase.SEQUENCE_OWNER, "ALTER SEQUENCE {} OWNED BY {}", qualified(s), owner)


def build_sequence(node: Node, sides: Sides) -> tuple[Step, ...]:
    s = node.obj
    own = [step(Phase.SEQUENCE, "CREATE SEQUENCE {} {}", qualified(s), sequence_options(s))]
    return with_contents(node, sides, own + ([owner_step(s)] if s.owned_by else []))


def alter_sequence(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    """All options at once: AS and MAXVALUE must change together or one of them is out of range."""
    if attribute == "owned_by":
        return Action((owner_step(target.obj),))
    return Action((step(Phase.SEQUENCE, "ALTER SEQUENCE {} {}", qualified(target.obj), sequence_options(target.obj)),))


# IF EXISTS: a sequence owned by a column is gone already when the fix dropped its table.
SEQUENCE = Handler(build_sequence, dropping(Phase.DROP_SEQUENCE, "DROP SEQUENCE IF EXISTS {}"), alter_sequence,
                   holds_data=sequence_data, comment_on=commented_as("SEQUENCE"))
