"""Extended statistics (CREATE STATISTICS) on a table's columns and expressions, and their targets."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, dropping, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import literal, qualified, step

DEFAULT_TARGET = -1  # what SET STATISTICS takes for the default on every major


def target_step(node: Node) -> Step:
    target = node.obj.target
    return step(Phase.STATISTICS, "ALTER STATISTICS {} SET STATISTICS {}", qualified(node.obj),
                literal(DEFAULT_TARGET if target is None else target))


def build_statistics(node: Node, sides: Sides) -> tuple[Step, ...]:
    """The definition as the server printed it, then a target other than the default."""
    own = [Step(Phase.STATISTICS, node.obj.definition)]
    return with_contents(node, sides, own + ([target_step(node)] if node.obj.target is not None else []))


def alter_statistics(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    if attribute == "target":
        return Action((target_step(target),))
    return None  # dropped and created


def statistics_named(node: Node) -> sql.Composable:
    return sql.SQL("STATISTICS {}").format(qualified(node.obj))


STATISTICS = Handler(build_statistics, dropping(Phase.DROP_CONSTRAINT, "DROP STATISTICS {}"), alter_statistics,
                     comment_on=statistics_named)
