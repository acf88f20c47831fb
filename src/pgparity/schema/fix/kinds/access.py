"""Who may see what: row-level security policies, privileges, and the roles they name."""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import sql

from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_on_parent, dropped_on_parent, with_contents
from pgparity.schema.fix.lookup import Sides
from pgparity.schema.fix.phases import Action, Phase, Step
from pgparity.schema.fix.sqltext import dollar_quoted, literal, qualified, raw, role_name, statement, step
from pgparity.schema.model import Model
from pgparity.schema.roles import stand_in_role


def role_steps(roles: Iterable[str], sides: Sides) -> tuple[Step, ...]:
    """Roles are cluster-wide and may be missing on this server: created where missing, as stand-ins."""
    known = {role.name for role in sides.source.snapshot.roles} | {"PUBLIC"}
    body = "BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {}) THEN {}; END IF; END"
    return tuple(
        Step(Phase.ROLE, "DO " + dollar_quoted(statement(body, literal(role), stand_in_role(role))))
        for role in roles if role not in known
    )


def policy_clause(policy: Model, attribute: str) -> sql.Composable:
    if attribute == "roles":
        return sql.SQL(" TO {}").format(sql.SQL(", ").join(role_name(role) for role in policy.roles))
    value = getattr(policy, attribute)
    word = " USING ({})" if attribute == "using" else " WITH CHECK ({})"
    return sql.SQL(word).format(raw(value)) if value is not None else sql.SQL("")


def build_policy(node: Node, sides: Sides) -> tuple[Step, ...]:
    p = node.obj
    own = step(Phase.POLICY, "CREATE POLICY {} ON {} AS {} FOR {}{}{}{}", sql.Identifier(p.name),
               qualified(node.parent.obj), sql.SQL("PERMISSIVE" if p.permissive else "RESTRICTIVE"),
               sql.SQL(p.command), *(policy_clause(p, clause) for clause in ("roles", "using", "with_check")))
    return with_contents(node, sides, [*role_steps(p.roles, sides), own])


def alter_policy(source: Node, target: Node, attribute: str, sides: Sides) -> Action | None:
    """ALTER POLICY changes roles and expressions, but cannot remove an expression."""
    if attribute not in ("roles", "using", "with_check") or getattr(target.obj, attribute) is None:
        return None  # dropped and created
    alter = step(Phase.POLICY, "ALTER POLICY {} ON {}{}", sql.Identifier(target.obj.name),
                 qualified(target.parent.obj), policy_clause(target.obj, attribute))
    return Action((*role_steps(target.obj.roles, sides), alter))


def privilege_parts(node: Node) -> tuple[sql.Composable, sql.Composable]:
    """`SELECT (email)` and `ON TABLE public.users` of a grant."""
    g, parent = node.obj, node.parent
    column = sql.SQL(" ({})").format(sql.Identifier(g.column)) if g.column else sql.SQL("")
    return sql.SQL("{}{}").format(sql.SQL(g.privilege), column), sql.SQL("ON TABLE {}").format(qualified(parent.obj))


def build_privilege(node: Node, sides: Sides) -> tuple[Step, ...]:
    what, on = privilege_parts(node)
    option = sql.SQL(" WITH GRANT OPTION" if node.obj.grantable else "")
    grant = step(Phase.PRIVILEGE, "GRANT {} {} TO {}{}", what, on, role_name(node.obj.grantee), option)
    return (*role_steps([node.obj.grantee], sides), grant)


def remove_privilege(node: Node, sides: Sides) -> tuple[Step, ...]:
    what, on = privilege_parts(node)
    return (step(Phase.PRIVILEGE, "REVOKE {} {} FROM {}", what, on, role_name(node.obj.grantee)),)


def alter_privilege(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    if target.obj.grantable:
        return Action(build_privilege(target, sides))
    what, on = privilege_parts(target)
    revoke = step(Phase.PRIVILEGE, "REVOKE GRANT OPTION FOR {} {} FROM {}", what, on, role_name(target.obj.grantee))
    return Action((revoke,))


POLICY = Handler(build_policy, dropped_on_parent("DROP POLICY {} ON {}", Phase.DROP_TRIGGER), alter_policy,
                 comment_on=commented_on_parent("POLICY"))
PRIVILEGE = Handler(build_privilege, remove_privilege, alter_privilege)
