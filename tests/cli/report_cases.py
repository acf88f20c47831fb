"""A fixed verdict holding what a report must survive: pipes, backticks, markup, XML's special and forbidden
characters, long summaries, ignored and version-only rows, a pending migration, servers of two minors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pgparity.migrations.content import Content
from pgparity.migrations.model import Migration, Version
from pgparity.migrations.position import Position
from pgparity.schema.diff import Difference
from pgparity.schema.model import Column, Schema, ServerVersion, Snapshot, Table
from pgparity.schema.serialize import dump_snapshot
from pgparity.schema.verify import PRODUCTION, ServerCheck, verdict

LONG = "(" + ", ".join(f"column_{n} integer" for n in range(12)) + ")"


def migration(version: int, name: str) -> Migration:
    path = Path(f"migrations/{version:03d}_{name}.sql")
    return Migration(Version.of(version), name, path, Content.of("SELECT 1;"), "0" * 64, False, None)


def fixed_verdict():
    local = (
        Difference("table", "public.audit", "", None, LONG, None, "missing_in_production"),
        Difference("column", "public.users", "email", "type", "text", "character varying(255)", "different"),
    )
    production = (
        Difference("constraint", "public.orders", "flags|`odd`", "definition", "CHECK ((flags | 1) > 0)",
                   "CHECK (((note)::text <> '`|`'::text))", "different"),
        Difference("comment", "public.orders", "", "text", "a <b> & \"c\"\x01 *not emphasis*", "a\\|b", "different"),
        Difference("view", "public.report", "", "definition", " SELECT 1;", " SELECT 1 AS \"?column?\";",
                   "different", version_only=True),
        Difference("setting", "TimeZone", "", "value", "UTC", "Europe/Berlin", "different"),
    )
    position = Position("ledger", "production's ledger (pgparity)", (migration(1, "users"),),
                        (migration(2, "orders"),))
    server = ServerCheck(PRODUCTION, ServerVersion("PostgreSQL 15.18 on x86_64", 150018),
                         ServerVersion("PostgreSQL 15.20 on x86_64", 150020))
    return verdict(local, production, position, ["setting:TimeZone*"], server)


EMPTY = Snapshot(server=ServerVersion("PostgreSQL 15.20", 150020), settings=(), roles=(), extensions=(),
                 schemas=(Schema("public", "postgres", None),), tables=(), views=(), materialized_views=(),
                 sequences=(), functions=(), enums=(), domains=(), types=(), ledger=None)


def snapshot_file(path: Path, *columns: str) -> str:
    """A snapshot file holding a table `public.t` with these text columns (none: no table at all)."""
    held = tuple(Column(name, "text", True, None, None, None, None, None) for name in columns)
    tables = (Table("public", "t", "postgres", False, None, (), None, False, False, None, held, (), (), (), (), ()),)
    path.write_text(dump_snapshot(replace(EMPTY, tables=tables if columns else ())))
    return path.name
