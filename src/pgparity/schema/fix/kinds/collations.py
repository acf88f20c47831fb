"""Collations: made from their provider and locale, dropped and made again when one differs."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_as, dropping, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Phase, Step
from pgparity.schema.fix.sqltext import literal, qualified, step


def build_collation(node: Node, sides: Sides) -> tuple[Step, ...]:
    """libc's locale as its two parts, ICU's and builtin's as one; deterministic always spelled out."""
    c = node.obj
    options = [("provider", sql.SQL(c.provider))]
    if c.provider == "libc":
        options += [("lc_collate", literal(c.lc_collate)), ("lc_ctype", literal(c.lc_ctype))]
    else:
        options.append(("locale", literal(c.locale)))
    if c.rules is not None:
        options.append(("rules", literal(c.rules)))
    options.append(("deterministic", sql.SQL("true" if c.deterministic else "false")))
    listed = sql.SQL(", ").join(sql.SQL(name + " = {}").format(value) for name, value in options)
    return with_contents(node, sides, [step(Phase.COLLATION, "CREATE COLLATION {} ({})", qualified(c), listed)])


COLLATION = Handler(build_collation, dropping(Phase.DROP_COLLATION, "DROP COLLATION {}"),
                    comment_on=commented_as("COLLATION"))
