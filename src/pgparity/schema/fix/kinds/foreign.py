"""Foreign data: wrappers, servers, user mappings and foreign tables, and their generic OPTIONS (name 'value')."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from pgparity.schema import diff
from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_as, dropping, with_contents
from pgparity.schema.fix.kinds.access import role_steps
from pgparity.schema.fix.kinds.options import changed_generic_options, parsed, with_generic_options
from pgparity.schema.fix.kinds.tables import column_settings, column_sql
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import literal, qualified, raw, role_name, step
from pgparity.schema.model import HIDDEN, Model


def options_step(phase: Phase, head: str, ref: sql.Composable, source: tuple[str, ...],
                 target: tuple[str, ...]) -> tuple[Step, ...]:
    """`ALTER <head> ref OPTIONS (...)`, or nothing when the options are the same."""
    changed = changed_generic_options(source, target)
    return () if changed is None else (step(phase, f"ALTER {head} {{}} {{}}", ref, changed),)


def by_name(obj: Model) -> sql.Identifier:
    return sql.Identifier(obj.name)


# Foreign-data wrappers: a superuser's to create, alter and drop.


def function_clause(word: str, function: str | None) -> sql.Composable:
    """`HANDLER public.h` or `NO HANDLER`."""
    return sql.SQL(f"{word} {{}}").format(raw(function)) if function else sql.SQL(f"NO {word}")


def build_wrapper(node: Node, sides: Sides) -> tuple[Step, ...]:
    w = node.obj
    own = step(Phase.WRAPPER, "CREATE FOREIGN DATA WRAPPER {} {} {}{}", by_name(node.obj),
               function_clause("HANDLER", w.handler), function_clause("VALIDATOR", w.validator),
               with_generic_options(w.options))
    return with_contents(node, sides, [own])


def alter_wrapper(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    w = target.obj
    if attribute == "options":
        steps = options_step(Phase.WRAPPER, "FOREIGN DATA WRAPPER", by_name(target.obj), source.obj.options, w.options)
    elif attribute in ("handler", "validator"):
        clause = function_clause(attribute.upper(), getattr(w, attribute))
        steps = (step(Phase.WRAPPER, "ALTER FOREIGN DATA WRAPPER {} {}", by_name(target.obj), clause),)
    else:
        return None
    return Action(steps)


WRAPPER = Handler(build_wrapper, dropping(Phase.DROP_WRAPPER, "DROP FOREIGN DATA WRAPPER {}", by_name), alter_wrapper,
                  comment_on=lambda node: sql.SQL("FOREIGN DATA WRAPPER {}").format(by_name(node.obj)),
                  superuser=True)


# Foreign servers.


def version_clause(version: str | None) -> sql.Composable:
    return sql.SQL("VERSION {}").format(literal(version) if version is not None else sql.SQL("NULL"))


def build_server(node: Node, sides: Sides) -> tuple[Step, ...]:
    s = node.obj
    kind = sql.SQL(" TYPE {}").format(literal(s.type)) if s.type is not None else sql.SQL("")
    version = sql.SQL(" {}").format(version_clause(s.version)) if s.version is not None else sql.SQL("")
    own = step(Phase.SERVER, "CREATE SERVER {}{}{} FOREIGN DATA WRAPPER {}{}", by_name(node.obj), kind, version,
               sql.Identifier(s.wrapper), with_generic_options(s.options))
    return with_contents(node, sides, [own])


def alter_server(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    """Options and version change in place; a server of another type or wrapper is dropped and created."""
    if attribute == "options":
        return Action(options_step(Phase.SERVER, "SERVER", by_name(target.obj), source.obj.options, target.obj.options))
    if attribute == "version":
        version = version_clause(target.obj.version)
        return Action((step(Phase.SERVER, "ALTER SERVER {} {}", by_name(target.obj), version),))
    return None


SERVER = Handler(build_server, dropping(Phase.DROP_SERVER, "DROP SERVER {}", by_name), alter_server,
                 comment_on=lambda node: sql.SQL("SERVER {}").format(by_name(node.obj)))


# User mappings: a secret option was never read, so a fix never writes one; it says which to set.

def mapping_ref(node: Node) -> sql.Composed:
    """`FOR app SERVER remote`."""
    return sql.SQL("FOR {} SERVER {}").format(role_name(node.obj.user), sql.Identifier(node.obj.server))


def secrets(options: tuple[str, ...]) -> list[str]:
    return [name for name, value in parsed(options).items() if value == HIDDEN]


def readable(options: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(option for option in options if option.partition("=")[2] != HIDDEN)


def secret_note(node: Node, names: list[str]) -> str | None:
    """What a reader sets by hand: the secret options the target has and the fix cannot write."""
    if not names:
        return None
    adds = sql.SQL(", ").join(sql.SQL("ADD {} '...'").format(sql.Identifier(name)) for name in names)
    statement = sql.SQL("ALTER USER MAPPING {} OPTIONS ({})").format(mapping_ref(node), adds).as_string(None)
    return (f"user mapping for {node.obj.user} on server {node.obj.server}: {', '.join(names)} is secret and never "
            f"read, so it is not written here; set it by hand: {statement}")


def build_mapping(node: Node, sides: Sides) -> tuple[Step, ...]:
    own = step(Phase.USER_MAPPING, "CREATE USER MAPPING {}{}", mapping_ref(node),
               with_generic_options(readable(node.obj.options)))
    return (*role_steps([node.obj.user], sides), own)


def alter_mapping(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    """The readable options set as the target has them; a secret only the source has is dropped, one the
    target has is left to the reader."""
    old, new = parsed(source.obj.options), parsed(target.obj.options)
    kept = tuple(f"{name}={value}" for name, value in old.items() if value == HIDDEN and name in new)
    wanted = readable(target.obj.options) + kept
    steps = options_step(Phase.USER_MAPPING, "USER MAPPING", mapping_ref(target), source.obj.options, wanted)
    return Action(steps, note=secret_note(target, [name for name in secrets(target.obj.options) if name not in old]))


@dataclass(frozen=True)
class MappingHandler(Handler):
    """A mapping's note is for creating it: dropping one needs no secret."""

    def create(self, node: Node, sides: Sides) -> Action:
        return Action(self.build(node, sides), note=secret_note(node, secrets(node.obj.options)))


USER_MAPPING = MappingHandler(
    build_mapping, lambda node, sides: (step(Phase.DROP_USER_MAPPING, "DROP USER MAPPING {}", mapping_ref(node)),),
    alter_mapping)


# Foreign tables: their rows are the server's, so dropping one loses none.

def build_foreign_table(node: Node, sides: Sides) -> tuple[Step, ...]:
    t = node.obj
    columns = sql.SQL(",\n    ").join(column_sql(c) for c in t.columns)
    body = sql.SQL(" (\n    {}\n)").format(columns) if t.columns else sql.SQL(" ()")
    own = [step(Phase.TABLE, "CREATE FOREIGN TABLE {}{} SERVER {}{}", qualified(t), body, sql.Identifier(t.server),
                with_generic_options(t.options))]
    own += [s for column in diff.children(node) if column.kind == "column" for s in column_settings(column)]
    return with_contents(node, sides, own, inline=("column",))


def alter_foreign_table(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    """Options change in place; a foreign table on another server is dropped and created."""
    if attribute == "options":
        return Action(options_step(Phase.ALTER_TABLE, "FOREIGN TABLE", qualified(target.obj), source.obj.options,
                                   target.obj.options))
    return None


FOREIGN_TABLE = Handler(build_foreign_table, dropping(Phase.DROP_TABLE, "DROP FOREIGN TABLE {}"), alter_foreign_table,
                        comment_on=commented_as("FOREIGN TABLE"))
