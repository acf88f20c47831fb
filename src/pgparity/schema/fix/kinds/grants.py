"""Grants beyond relations: on schemas, sequences, functions, types, foreign-data wrappers and servers, and ALTER
DEFAULT PRIVILEGES."""

from __future__ import annotations

from dataclasses import replace

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler
from pgparity.schema.fix.kinds.access import role_steps
from pgparity.schema.fix.kinds.aggregates import aggregate_as_function
from pgparity.schema.fix.kinds.functions import function_ref
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import qualified, role_name, step
from pgparity.schema.model import Model

# What GRANT … ON names, by the kind of the object granted on; a relation's own grants are `access`'s, but the
# fix revokes what one gets unasked through this table too.
GRANTED_ON = {
    **dict.fromkeys(("table", "view", "materialized_view", "foreign_table"),
                    lambda obj: sql.SQL("TABLE {}").format(qualified(obj))),
    "sequence": lambda obj: sql.SQL("SEQUENCE {}").format(qualified(obj)),
    "schema": lambda obj: sql.SQL("SCHEMA {}").format(sql.Identifier(obj.name)),
    "function": function_ref,
    "enum": lambda obj: sql.SQL("TYPE {}").format(qualified(obj)),
    "type": lambda obj: sql.SQL("TYPE {}").format(qualified(obj)),
    "domain": lambda obj: sql.SQL("DOMAIN {}").format(qualified(obj)),
    "aggregate": aggregate_as_function,
    "foreign_data_wrapper": lambda obj: sql.SQL("FOREIGN DATA WRAPPER {}").format(sql.Identifier(obj.name)),
    "foreign_server": lambda obj: sql.SQL("FOREIGN SERVER {}").format(sql.Identifier(obj.name)),
}

# What a new object of these kinds grants PUBLIC without being asked (acldefault).
PUBLIC_DEFAULTS = {"function": "EXECUTE", "enum": "USAGE", "type": "USAGE", "domain": "USAGE", "aggregate": "EXECUTE"}


def on(node: Node) -> sql.Composable:
    return GRANTED_ON[node.parent.kind](node.parent.obj)


def build_grant(node: Node, sides: Sides) -> tuple[Step, ...]:
    option = sql.SQL(" WITH GRANT OPTION" if node.obj.grantable else "")
    grant = step(Phase.PRIVILEGE, "GRANT {} ON {} TO {}{}", sql.SQL(node.obj.privilege), on(node),
                 role_name(node.obj.grantee), option)
    return (*role_steps([node.obj.grantee], sides), grant)


def remove_grant(node: Node, sides: Sides) -> tuple[Step, ...]:
    return (step(Phase.PRIVILEGE, "REVOKE {} ON {} FROM {}", sql.SQL(node.obj.privilege), on(node),
                 role_name(node.obj.grantee)),)


def alter_grant(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    if target.obj.grantable:
        return Action(build_grant(target, sides))
    return Action((step(Phase.PRIVILEGE, "REVOKE GRANT OPTION FOR {} ON {} FROM {}", sql.SQL(target.obj.privilege),
                        on(target), role_name(target.obj.grantee)),))


GRANT = Handler(build_grant, remove_grant, alter_grant)


# What ALTER DEFAULT PRIVILEGES names each kind's new objects by; tables' entries cover every relation.
DEFAULT_OBJECTS = {"table": "TABLES", "view": "TABLES", "materialized_view": "TABLES", "foreign_table": "TABLES",
                   "sequence": "SEQUENCES", "function": "FUNCTIONS", "aggregate": "FUNCTIONS", "enum": "TYPES",
                   "domain": "TYPES", "type": "TYPES", "schema": "SCHEMAS"}


def born_with(node: Node, sides: Sides) -> set[tuple[str, str]]:
    """(grantee, privilege) a new object may get unasked where the fix runs: its kind's PUBLIC default and
    whatever the source's default privileges grant such objects, for any role (revoking one it lacks does
    nothing, so naming too many is safe)."""
    born = {("PUBLIC", PUBLIC_DEFAULTS[node.kind])} if node.kind in PUBLIC_DEFAULTS else set()
    schema = getattr(node.obj, "schema", None)
    born |= {(entry.grantee, entry.privilege) for entry in sides.source.snapshot.default_privileges
             if entry.granted and entry.objects == DEFAULT_OBJECTS[node.kind] and entry.schema in ("", schema)}
    return born


def born_grants_revoked(node: Node, sides: Sides) -> tuple[Step, ...]:
    """REVOKE what the object gets unasked but the one it is made to match lacks."""
    held = {(g.grantee, g.privilege) for g in node.obj.privileges if not g.column}
    named = GRANTED_ON[node.kind](node.obj)
    return tuple(step(Phase.PRIVILEGE, "REVOKE {} ON {} FROM {}", sql.SQL(privilege), named, role_name(grantee))
                 for grantee, privilege in sorted(born_with(node, sides) - held))


def as_granted(handler: Handler) -> Handler:
    """`handler` whose objects end with exactly the grants of the object they are made to match."""
    return replace(handler, build=lambda node, sides: handler.build(node, sides) + born_grants_revoked(node, sides))


def default_clause(entry: Model, grant: bool, option: bool = False) -> sql.Composed:
    """`ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA s GRANT SELECT ON TABLES TO reader`, or its REVOKE."""
    schema = sql.SQL(" IN SCHEMA {}").format(sql.Identifier(entry.schema)) if entry.schema else sql.SQL("")
    head = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {}{} ").format(sql.Identifier(entry.role), schema)
    what = sql.SQL("{} ON {}").format(sql.SQL(entry.privilege), sql.SQL(entry.objects))
    if grant:
        tail = sql.SQL(" WITH GRANT OPTION" if option else "")
        return sql.SQL("{}GRANT {} TO {}{}").format(head, what, role_name(entry.grantee), tail)
    revoke = "REVOKE GRANT OPTION FOR " if option else "REVOKE "
    return sql.SQL("{}" + revoke + "{} FROM {}").format(head, what, role_name(entry.grantee))


def default_step(entry: Model, grant: bool, option: bool = False) -> Step:
    return Step(Phase.DEFAULT_PRIVILEGE, default_clause(entry, grant, option).as_string(None))


def build_default(node: Node, sides: Sides) -> tuple[Step, ...]:
    """The entry as the target has it: granted (with its option), or a built-in default revoked."""
    e = node.obj
    return (*role_steps([e.role, e.grantee], sides), default_step(e, e.granted, e.granted and e.grantable))


def remove_default(node: Node, sides: Sides) -> tuple[Step, ...]:
    """Back to the built-in default: a grant revoked, a revoked default granted again."""
    e = node.obj
    return (*role_steps([e.role, e.grantee], sides), default_step(e, not e.granted))


def alter_default(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    """The same entry granted on both sides, but with the grant option on one only; or granted on one
    side (then with the option: a built-in default has none) and revoked on the other."""
    if target.obj.granted and not target.obj.grantable:
        return Action((default_step(target.obj, False, option=True),))
    return Action(build_default(target, sides))


DEFAULT_PRIVILEGE = Handler(build_default, remove_default, alter_default)
