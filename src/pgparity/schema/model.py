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
import operator
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass

from pgparity.versions import major, release

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
    return key_getter(type(obj))(obj)


@functools.cache
def key_getter(cls: type) -> Callable[[Model], tuple]:
    """The key as one tuple, read by attrgetter: every object of every snapshot is sorted by it."""
    names = key_fields(cls)
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return operator.attrgetter(*names) if names else lambda obj: ()


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
    # pg_extension_config_dump's tables (and sequences), qualified, each with its filter: "public.cfg WHERE ..."
    config_tables: tuple[str, ...] = ()


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
class Statistics(Model):
    """An extended statistics object (CREATE STATISTICS); `definition` is `pg_get_statisticsobjdef`."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    kinds: tuple[str, ...]  # "ndistinct", "dependencies", "mcv", in that order; expressions' own left out
    definition: str
    target: int | None  # SET STATISTICS, None for the default (-1 before 17)
    comment: str | None


@dataclass(frozen=True)
class RewriteRule(Model):
    """A rule (CREATE RULE) other than a view's own `_RETURN`; `definition` is `pg_get_ruledef`, whitespace
    collapsed and without its final `;`."""

    name: str = field(metadata=KEY)
    definition: str
    enabled: str  # "origin" | "always" | "replica" | "disabled", as a trigger's
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
    statistics: tuple[Statistics, ...] = ()
    rules: tuple[RewriteRule, ...] = ()


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
    statistics: tuple[Statistics, ...] = ()  # materialized views'
    rules: tuple[RewriteRule, ...] = ()


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
class Operator(Model):
    """A user-defined operator; types and functions as the server prints them (`integer`, `public.f`),
    `left` "NONE" for a prefix operator, `commutator` and `negator` as regoperator text."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    left: str = field(metadata=KEY)
    right: str = field(metadata=KEY)
    function: str
    commutator: str | None
    negator: str | None
    restrict: str | None
    join: str | None
    hashes: bool
    merges: bool
    owner: str
    comment: str | None


@dataclass(frozen=True)
class OperatorFamily(Model):
    """An operator family, unless it is one CREATE OPERATOR CLASS made for itself: named as a class of
    its own in it and holding nothing but that class's members. `operators` and `functions` are the
    members no class holds (ALTER OPERATOR FAMILY … ADD), spelled as in that statement, sorted."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    method: str = field(metadata=KEY)  # the access method: "btree", "hash", ...
    operators: tuple[str, ...]  # "1 (integer, integer) public.<(integer,integer)"
    functions: tuple[str, ...]  # "1 (integer, integer) public.cmp(integer,integer)"
    owner: str
    comment: str | None


@dataclass(frozen=True)
class OperatorClass(Model):
    """An operator class; `family` is qualified, `storage` None unless it differs from `type`; its
    `operators` and `functions` spelled as in ALTER OPERATOR FAMILY … ADD, sorted."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    method: str = field(metadata=KEY)
    type: str
    default: bool
    family: str
    storage: str | None
    operators: tuple[str, ...]
    functions: tuple[str, ...]
    owner: str
    comment: str | None


@dataclass(frozen=True)
class TextSearchParser(Model):
    """Its functions as regproc text (`pg_catalog.prsd_start`); `headline` None when it has none."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    start: str
    gettoken: str
    end: str
    lextypes: str
    headline: str | None
    comment: str | None


@dataclass(frozen=True)
class TextSearchTemplate(Model):
    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    init: str | None
    lexize: str
    comment: str | None


@dataclass(frozen=True)
class TextSearchDictionary(Model):
    """`template` qualified; `options` the server's dictinitoption split into `name = 'value'` items, sorted."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    template: str
    options: tuple[str, ...]
    owner: str
    comment: str | None


@dataclass(frozen=True)
class TextSearchConfiguration(Model):
    """`parser` qualified; `mapping` one `token: dictionary, …` item a token type, dictionaries in the order
    they are consulted, items in token name order."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    parser: str
    mapping: tuple[str, ...]
    owner: str
    comment: str | None


@dataclass(frozen=True)
class Aggregate(Model):
    """A user-defined aggregate; functions and types are named as the server prints them (qualified where
    not in pg_catalog); the optional parts are None where CREATE AGGREGATE left them out."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    arguments: str = field(metadata=KEY)  # pg_get_function_identity_arguments: "integer", "ORDER BY text", "*"
    kind: str  # "normal" | "ordered-set" | "hypothetical"
    state_function: str
    state_type: str
    state_space: int | None
    final_function: str | None
    final_extra: bool
    final_modify: str | None  # "read_only" | "shareable" | "read_write", with a final function
    combine_function: str | None
    serial_function: str | None
    deserial_function: str | None
    initial_condition: str | None
    sort_operator: str | None
    parallel: str  # "safe" | "restricted" | "unsafe"
    moving_state_function: str | None
    moving_inverse_function: str | None
    moving_state_type: str | None
    moving_final_function: str | None
    moving_final_extra: bool
    moving_initial_condition: str | None
    owner: str
    comment: str | None
    privileges: tuple[Privilege, ...] = ()


@dataclass(frozen=True)
class Cast(Model):
    """A user-defined cast between two types, named by `format_type` (qualified where not in pg_catalog)."""

    source: str = field(metadata=KEY)
    target: str = field(metadata=KEY)
    method: str  # "function" | "inout" | "binary" (WITHOUT FUNCTION)
    function: str | None  # the function with its argument types, for "function"
    context: str  # "explicit" | "assignment" | "implicit"
    comment: str | None


@dataclass(frozen=True)
class Collation(Model):
    """A user collation; never its version, which the operating system's library decides."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    owner: str
    provider: str  # "libc" | "icu" | "builtin"
    deterministic: bool
    lc_collate: str | None  # libc only
    lc_ctype: str | None  # libc only
    locale: str | None  # icu and builtin only
    rules: str | None  # ICU tailoring rules (PostgreSQL 16)
    comment: str | None


@dataclass(frozen=True)
class PublicationTable(Model):
    """A table a publication names (FOR TABLE); from PostgreSQL 15 with its column list and row filter."""

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    columns: tuple[str, ...]  # the column list in name order; empty: every column
    row_filter: str | None  # the WHERE expression as pg_get_expr prints it


@dataclass(frozen=True)
class Publication(Model):
    """A logical replication publication: what it publishes, of which tables; `publish` in the order insert,
    update, delete, truncate. What a major lacks reads as what that major does: no schemas before 15, no
    generated columns before 18."""

    name: str = field(metadata=KEY)
    owner: str
    all_tables: bool  # FOR ALL TABLES
    publish: tuple[str, ...]
    publish_via_partition_root: bool
    publish_generated_columns: str  # "none" | "stored" (PostgreSQL 18)
    schemas: tuple[str, ...]  # FOR TABLES IN SCHEMA (PostgreSQL 15), sorted
    comment: str | None
    members: tuple[PublicationTable, ...] = ()


@dataclass(frozen=True)
class Subscription(Model):
    """A subscription of this database, by its options only: never its connection string, which only a
    superuser may read. An option a major lacks reads as that major behaves; on PostgreSQL 13 nobody but a
    superuser may read synchronous_commit or what comments need, so they read as None there."""

    name: str = field(metadata=KEY)
    owner: str
    enabled: bool
    publications: tuple[str, ...]  # sorted
    slot_name: str | None  # None: slot_name = NONE
    synchronous_commit: str | None
    binary: bool  # PostgreSQL 14
    streaming: str  # "off" | "on" (14) | "parallel" (16)
    two_phase: bool  # PostgreSQL 15
    disable_on_error: bool  # PostgreSQL 15
    origin: str  # "any" | "none" (16)
    password_required: bool  # PostgreSQL 16
    run_as_owner: bool  # PostgreSQL 16
    failover: bool  # PostgreSQL 17
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
class RelationSize(Model):
    """The planner's statistics of one table, materialized view or index in production: numbers, never data.

    Read by `db.snapshot --from prod` so deploy-safety analysis can say how much a statement rewrites or scans
    without connecting to production. `rows` is `reltuples` (-1: never vacuumed or analysed); `bytes` is the
    relation's total size with its TOAST table and, for a table, its indexes.
    """

    schema: str = field(metadata=KEY)
    name: str = field(metadata=KEY)
    kind: str  # "table" | "materialized view" | "index"
    rows: int
    pages: int
    bytes: int
    table: str | None = None  # an index's table, unqualified (same schema)


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
    operators: tuple[Operator, ...] = ()
    operator_families: tuple[OperatorFamily, ...] = ()
    operator_classes: tuple[OperatorClass, ...] = ()
    text_search_parsers: tuple[TextSearchParser, ...] = ()
    text_search_templates: tuple[TextSearchTemplate, ...] = ()
    text_search_dictionaries: tuple[TextSearchDictionary, ...] = ()
    text_search_configurations: tuple[TextSearchConfiguration, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()
    casts: tuple[Cast, ...] = ()
    collations: tuple[Collation, ...] = ()
    publications: tuple[Publication, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    foreign_data_wrappers: tuple[ForeignDataWrapper, ...] = ()
    foreign_servers: tuple[ForeignServer, ...] = ()
    user_mappings: tuple[UserMapping, ...] = ()
    foreign_tables: tuple[ForeignTable, ...] = ()
    sizes: tuple[RelationSize, ...] = ()  # production's only (db.snapshot --from prod); never compared
