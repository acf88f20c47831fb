"""Schemas and extensions: what the rest is created in, and with."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema import diff
from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, dropping, handler_of, with_contents
from pgparity.schema.fix.lookup import Catalog, Sides, name_of
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import literal, step


def build_schema(node: Node, sides: Sides) -> tuple[Step, ...]:
    """A schema missing on one side stands for everything in it: that is created with it."""
    own = [step(Phase.SCHEMA, "CREATE SCHEMA {}", sql.Identifier(node.obj.name))]
    inside = schema_contents(sides.target, node.obj.name, reverse=False)
    return with_contents(node, sides, own) + tuple(s for n in inside for s in handler_of(n.kind).made(n, sides))


def remove_schema(node: Node, sides: Sides) -> tuple[Step, ...]:
    """Its objects are dropped in their own phases (a view in it may read a table dropped earlier);
    no CASCADE, so an object pgparity does not model stops the drop instead of vanishing."""
    inside = schema_contents(sides.source, node.obj.name, reverse=True)
    drop = step(Phase.DROP_SCHEMA, "DROP SCHEMA {}", sql.Identifier(node.obj.name))
    return tuple(s for n in inside for s in handler_of(n.kind).remove(n, sides)) + (drop,)


def schema_contents(side: Catalog, schema: str, reverse: bool) -> list[Node]:
    """The schema's objects, partitions after their parents and views after the views they read."""
    found = diff.in_schema(side.snapshot, schema)
    return sorted(found, key=lambda n: side.ranks.get(name_of(n.obj), 0), reverse=reverse)


def schema_data(node: Node, sides: Sides) -> str | None:
    held = [n for n in schema_contents(sides.source, node.obj.name, reverse=False) if n.kind in ("table", "sequence")]
    return f"drops schema {node.obj.name} and everything in it, rows included" if held else None


def build_extension(node: Node, sides: Sides) -> tuple[Step, ...]:
    e = node.obj
    return (step(Phase.EXTENSION, "CREATE EXTENSION {} WITH SCHEMA {} VERSION {}",
                 sql.Identifier(e.name), sql.Identifier(e.schema), literal(e.version)),)


def alter_extension(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    e = target.obj
    if attribute == "config_tables":
        return Action(note="the configuration tables of an extension and their filters are what its own script "
                           "marks with pg_extension_config_dump, which no other statement can call: install the "
                           "version of the extension that marks them so")
    if attribute == "version":
        return Action((step(Phase.EXTENSION, "ALTER EXTENSION {} UPDATE TO {}", sql.Identifier(e.name),
                            literal(e.version)),))
    return Action((step(Phase.EXTENSION, "ALTER EXTENSION {} SET SCHEMA {}", sql.Identifier(e.name),
                        sql.Identifier(e.schema)),))


def schema_named(node: Node) -> sql.Composable:
    return sql.SQL("SCHEMA {}").format(sql.Identifier(node.obj.name))


SCHEMA = Handler(build_schema, remove_schema, holds_data=schema_data, comment_on=schema_named)
EXTENSION = Handler(build_extension, dropping(Phase.DROP_EXTENSION, "DROP EXTENSION {}", lambda e: sql.Identifier(e.name)),
                    alter_extension)
