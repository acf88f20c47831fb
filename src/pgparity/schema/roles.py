"""Role DDL, in one place: production's roles mirrored on the dev server, stand-ins for the roles a fix names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql

from pgparity.schema.model import Role


def create_role(name: str, options: Sequence[str]) -> sql.Composed:
    """CREATE ROLE with `options`, SQL keywords; never a password: roles hold secrets a schema does not."""
    return sql.SQL("CREATE ROLE {} " + " ".join(options)).format(sql.Identifier(name))


def mirrored_role(role: Role) -> sql.Composed:
    """The role with production's attributes, minus the ones a dev server must not hand out."""
    flags = [("LOGIN", role.login), ("CREATEDB", role.createdb), ("CREATEROLE", role.createrole),
             ("INHERIT", role.inherit), ("BYPASSRLS", role.bypassrls)]
    return create_role(role.name, ["WITH", *(name if on else f"NO{name}" for name, on in flags)])


def stand_in_role(name: str) -> sql.Composed:
    """A role a grant or policy names, for a server that may lack it: it cannot log in."""
    return create_role(name, ["NOLOGIN"])


def create_missing(conn: psycopg.Connection, roles: Iterable[Role]) -> None:
    """Mirror each role the server does not have yet; existing roles are left as they are."""
    existing = {name for (name,) in conn.execute("SELECT rolname FROM pg_roles")}
    for role in roles:
        if role.name not in existing:
            conn.execute(mirrored_role(role))
