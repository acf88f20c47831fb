"""The snapshot of one database's schema: plain frozen values, comparable and serializable.

Every object carries what a DDL generator needs to recreate it. Collections of objects are kept
sorted by their key fields, so two snapshots of the same schema are equal no matter in which
order the catalogs returned the rows; only `columns` keep the table's own column order, which is
what `CREATE TABLE` needs (diff still matches columns by name, never by position). Tuples of
strings (enum labels in sort order, policy roles sorted by name) are stored as inspect reads them.
Fields added after a profile format was published come last and carry defaults, so that format loads.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass, field, fields, is_dataclass

KEY = {"key": True}
ORDERED = {"ordered": True}


class Model:
    """Base of every snapshot object: sorts its child collections into canonical order."""

    def __post_init__(self) -> None:
        for name in sorted_collections(type(self)):
            value = getattr(self, name)
            object.__setattr__(self, name, tuple(sorted(value, key=key_of)))


def key_of(obj: Model) -> tuple:
    """The values that identify an object among its siblings (a table's schema and name, ...)."""
    return tuple(getattr(obj, name) for name in key_fields(type(obj)))


@functools.cache
def key_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.metadata.get("key"))


@functools.cache
def collections(cls: type) -> tuple[str, ...]:
    """The fields of `cls` that hold child objects: those typed `tuple[SomeModel, ...]`."""
    hints = typing.get_type_hints(cls)
    return tuple(
        f.name for f in fields(cls)
        if typing.get_origin(hints[f.name]) is tuple and is_dataclass(typing.get_args(hints[f.name])[0])
    )


@functools.cache
def sorted_collections(cls: type) -> tuple[str, ...]:
    ordered = {f.name for f in fields(cls) if f.metadata.get("ordered")}
    return tuple(name for name in collections(cls) if name not in ordered)


@dataclass(frozen=True)
class ServerVersion(Model):
    version: str  # version(): the release, the platform and the compiler
    version_num: int

    @property
    def major(self) -> int:
        return major(self.version_num)

    @property
    def release(self) -> str:
        """The number a person knows the server by: `15.20` (a beta or rc shows as `19.0`)."""
        return release(self.version_num)


def major(version_num: int) -> int:
    """The major of a `server_version_num`: 150020 is 15."""
    return version_num // 10000


def release(version_num: int) -> str:
    """`server_version_num` as major.minor (every release from 10 on numbers itself so)."""
    return f"{major(version_num)}.{version_num % 10000}"


@dataclass(frozen=True)
class Setting(Model):
    """A value every session in the database starts with: the server's, or one set for the database
    (ALTER DATABASE … SET, ALTER ROLE ALL … SET), as its setter wrote it."""

    name: str = field(metadata=KEY)
    value: str


@dataclass(frozen=True)
class RoleSetting(Model):
    """A value one role's sessions start with (ALTER ROLE … SET): in every database, or only in this one."""

    role: str = field(metadata=KEY)
    in_database: bool = field(metadata=KEY)  # ALTER ROLE … IN DATABASE, naming this database
    name: str = field(metadata=KEY)
    value: str


@dataclass(frozen=True)
class Role(Model):
    """A role some grant or policy names; never its password."""

    name: str = field(metadata=KEY)
    superuser: bool
    login: bool
    createdb: bool
    createrole: bool
    inherit: bool
    replication: bool
    bypassrls: bool


@dataclass(frozen=True)
class Extension(Model):
    name: str = field(metadata=KEY)
    version: str
    schema: str


@dataclass(frozen=True)
class Privilege(Model):
    """One ACL entry of a relation, column, sequence, schema, function or type; `column` is "" but for a
    column's. The owner's own are left out; an object never granted on holds its kind's defaults
    (`acldefault`: EXECUTE and USAGE TO PUBLIC on functions and types), as one that was."""

    column: str = field(metadata=KEY)
    grantee: str = field(metadata=KEY)  # a role name or "PUBLIC"
    privilege: str = field(metadata=KEY)
    grantable: bool


@dataclass(frozen=True)
class Schema(Model):
    name: str = field(metadata=KEY)
    owner: str
    comment: str | None
    privileges: tuple[Privilege, ...] = ()


@dataclass(frozen=True)
class DefaultPrivilege(Model):
    """One way ALTER DEFAULT PRIVILEGES changed what `role`'s new `objects` get: in `schema` ("" for all), an
    entry `granted` beyond the built-in defaults, or one of those defaults revoked (only for all schemas)."""

    role: str = field(metadata=KEY)
    schema: str = field(metadata=KEY)
    objects: str = field(metadata=KEY)  # "TABLES" | "SEQUENCES" | "FUNCTIONS" | "TYPES" | "SCHEMAS" | ...
    grantee: str = field(metadata=KEY)  # a role name or "PUBLIC"
    privilege: str = field(metadata=KEY)
    granted: bool
    grantable: bool


@dataclass(frozen=True)
class Column(Model):
    """A table column or composite-type attribute; `type` is exactly `format_type(atttypid, atttypmod)`."""

    name: str = field(metadata=KEY)
    type: str
    nullable: bool
    default: str | None
    identity: str | None  # "always" | "by default"
    generated: str | None  # expression of a generated column
    collation: str | None  # only when it differs from the type's default
    comment: str | None
    virtual: bool = False  # a generated column computed when read (PostgreSQL 18), not stored
    storage: str | None = None  # "plain" | "external" | "main" | "extended", only when not the type's own
    compression: str | None = None  # "pglz" | "lz4" (PostgreSQL 14), None for the server's default
    statistics: int | None = None  # SET STATISTICS target, None for the server's default
    options: tuple[str, ...] = ()  # a foreign table column's attfdwoptions, "name=value" in name order


@dataclass(frozen=True)
class Constraint(Model):
    """A table or domain constraint; `definition` is `pg_get_constraintdef`."""

    name: str = field(metadata=KEY)
    type: str  # "primary key" | "unique" | "check" | "foreign key" | "exclude"
    definition: str
    deferrable: bool
    deferred: bool
    on_update: str | None  # foreign keys only: "NO ACTION", "CASCADE", ...
    on_delete: str | None
    comment: str | None
    validated: bool = True  # False: added NOT VALID, its existing rows never checked


@dataclass(frozen=True)
class Index(Model):
    """An index no constraint owns; `definition` is `pg_get_indexdef` from `USING` on, less its options."""

    name: str = field(metadata=KEY)
    unique: bool
    definition: str
    comment: str | None
    options: tuple[str, ...] = ()  # reloptions, "name=value" in name order


@dataclass(frozen=True)
class Trigger(Model):
    name: str = field(metadata=KEY)
    definition: str
    enabled: str  # "origin" | "always" | "replica" | "disabled"
    comment: str | None


@dataclass(frozen=True)
class Policy(Model):
    name: str = field(metadata=KEY)
    command: str  # "ALL" | "SELECT" | "INSERT" | "UPDATE" | "DELETE"
    permissive: bool
    roles: tuple[str, ...]
    using: str | None
    with_check: str | None
    comment: str | None


@dataclass(frozen=True)
class Table(Model):
    """A table or partitioned table; a partition names its parent first in `parents`."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    owner: str
    unlogged: bool
    partition_key: str | None  # partitioned tables: pg_get_partkeydef
    parents: tuple[str, ...]  # qualified: the partition parent or the INHERITS list
    partition_bound: str | None  # partitions: pg_get_expr(relpartbound)
    rls_enabled: bool
    rls_forced: bool
    comment: str | None
    columns: tuple[Column, ...] = field(metadata=ORDERED)
    constraints: tuple[Constraint, ...]
    indexes: tuple[Index, ...]
    triggers: tuple[Trigger, ...]
    policies: tuple[Policy, ...]
    privileges: tuple[Privilege, ...]
    options: tuple[str, ...] = ()  # reloptions, its TOAST table's as "toast.name=value", in name order
    replica_identity: str = "default"  # "default" | "full" | "nothing" | "index <name>"


@dataclass(frozen=True)
class View(Model):
    """A view or materialized view; `definition` is `pg_get_viewdef` with whitespace collapsed."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    owner: str
    definition: str
    comment: str | None
    indexes: tuple[Index, ...]
    triggers: tuple[Trigger, ...]
    privileges: tuple[Privilege, ...]
    options: tuple[str, ...] = ()  # reloptions (check_option, security_invoker, ...), in name order


@dataclass(frozen=True)
class Sequence(Model):
    """A standalone or serial sequence; identity sequences belong to their column."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    owner: str
    type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cache: int
    cycle: bool
    owned_by: str | None  # qualified column
    comment: str | None
    privileges: tuple[Privilege, ...]


@dataclass(frozen=True)
class Function(Model):
    """A function or procedure; `definition` is `pg_get_functiondef`, enough to recreate it."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    arguments: str = field(metadata=KEY)  # pg_get_function_identity_arguments
    kind: str  # "function" | "procedure"
    result: str | None  # None for procedures
    language: str
    volatility: str  # "immutable" | "stable" | "volatile"
    strict: bool
    security_definer: bool
    definition: str
    owner: str
    comment: str | None
    privileges: tuple[Privilege, ...] = ()


@dataclass(frozen=True)
class EnumType(Model):
    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    owner: str
    labels: tuple[str, ...]  # in sort order
    comment: str | None
    privileges: tuple[Privilege, ...] = ()


@dataclass(frozen=True)
class Domain(Model):
    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    owner: str
    type: str
    nullable: bool
    default: str | None
    collation: str | None
    constraints: tuple[Constraint, ...]
    comment: str | None
    privileges: tuple[Privilege, ...] = ()


@dataclass(frozen=True)
class CompositeType(Model):
    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    owner: str
    comment: str | None
    columns: tuple[Column, ...] = field(metadata=ORDERED)
    privileges: tuple[Privilege, ...] = ()


@dataclass(frozen=True)
class EventTrigger(Model):
    """A database-wide trigger on DDL events; `function` is qualified, `tags` sorted (empty: every tag)."""

    name: str = field(metadata=KEY)
    event: str  # "ddl_command_start" | "ddl_command_end" | "sql_drop" | "table_rewrite" | "login"
    tags: tuple[str, ...]
    function: str
    enabled: str  # "origin" | "always" | "replica" | "disabled", as a table trigger's
    owner: str
    comment: str | None


@dataclass(frozen=True)
class ForeignDataWrapper(Model):
    """A foreign-data wrapper made by CREATE FOREIGN DATA WRAPPER (an extension's own is the extension's);
    `handler` and `validator` are qualified functions, `options` "name=value" in name order."""

    name: str = field(metadata=KEY)
    handler: str | None
    validator: str | None
    options: tuple[str, ...]
    owner: str
    comment: str | None
    privileges: tuple[Privilege, ...] = ()


@dataclass(frozen=True)
class ForeignServer(Model):
    name: str = field(metadata=KEY)
    wrapper: str
    type: str | None
    version: str | None
    options: tuple[str, ...]  # "name=value" in name order
    owner: str
    comment: str | None
    privileges: tuple[Privilege, ...] = ()


# What a user mapping's secret option reads as: that it is set, never its value.
HIDDEN = "(hidden)"


@dataclass(frozen=True)
class UserMapping(Model):
    """A user mapping; `user` is a role name or "PUBLIC". A secret option (a password, a key, a token) is
    read as "name=(hidden)": the snapshot says it is set, never what it is."""

    server: str = field(metadata=KEY)
    user: str = field(metadata=KEY)
    options: tuple[str, ...]  # "name=value" in name order


@dataclass(frozen=True)
class ForeignTable(Model):
    """A foreign table: its columns (with their own options), its server and options; it holds no rows here."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    owner: str
    server: str
    options: tuple[str, ...]  # "name=value" in name order
    comment: str | None
    columns: tuple[Column, ...] = field(metadata=ORDERED)
    privileges: tuple[Privilege, ...] = ()


@dataclass(frozen=True)
class LedgerEntry(Model):
    """One migration a database's ledger records, as that tool wrote it (read as data, never trusted blindly).

    `version` and `name` are the ledger's own text ("7", "1.2", "20240131120000", "007_add_nickname"); either
    is "" when the ledger keeps none (Sqitch keeps only names, golang-migrate only a version).
    """

    version: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    checksum: str | None  # the tool's own checksum of the file (pgparity: sha256), when it keeps one
    through: bool  # stands for every version up to this one: a baseline, golang-migrate's single row
    failed: bool  # recorded but not completed: golang-migrate's dirty flag, Flyway's success = false


@dataclass(frozen=True)
class Ledger(Model):
    """Where a database stands: the first migration ledger found in it, and which tool's layout it has."""

    kind: str  # a key of pgparity.ledgers.FORMATS
    table: str  # the ledger table, schema-qualified; never part of the schema compared
    entries: tuple[LedgerEntry, ...] = field(metadata=ORDERED)  # in the order the tool applied them


@dataclass(frozen=True)
class Snapshot(Model):
    server: ServerVersion
    settings: tuple[Setting, ...]
    roles: tuple[Role, ...]
    extensions: tuple[Extension, ...]
    schemas: tuple[Schema, ...]
    tables: tuple[Table, ...]
    views: tuple[View, ...]
    materialized_views: tuple[View, ...]
    sequences: tuple[Sequence, ...]
    functions: tuple[Function, ...]
    enums: tuple[EnumType, ...]
    domains: tuple[Domain, ...]
    types: tuple[CompositeType, ...]
    ledger: Ledger | None
    role_settings: tuple[RoleSetting, ...] = ()
    default_privileges: tuple[DefaultPrivilege, ...] = ()
    event_triggers: tuple[EventTrigger, ...] = ()
    foreign_data_wrappers: tuple[ForeignDataWrapper, ...] = ()
    foreign_servers: tuple[ForeignServer, ...] = ()
    user_mappings: tuple[UserMapping, ...] = ()
    foreign_tables: tuple[ForeignTable, ...] = ()
