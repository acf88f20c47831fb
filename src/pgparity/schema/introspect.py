"""Reads one database's schema from the system catalogs into a Snapshot."""

from __future__ import annotations

import functools
import re
import typing
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, fields, replace
from typing import TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pgparity.config import LedgerTable
from pgparity.migrations import ledgers
from pgparity.schema import queries
from pgparity.schema.model import (
    Aggregate,
    Cast,
    Collation,
    Column,
    CompositeType,
    Constraint,
    DefaultPrivilege,
    Domain,
    EnumType,
    EventTrigger,
    Extension,
    ForeignDataWrapper,
    ForeignServer,
    ForeignTable,
    Function,
    Index,
    Ledger,
    Operator,
    OperatorClass,
    OperatorFamily,
    Policy,
    Privilege,
    Publication,
    PublicationTable,
    RelationSize,
    RewriteRule,
    Role,
    RoleSetting,
    Schema,
    Sequence,
    ServerVersion,
    Setting,
    Snapshot,
    Statistics,
    Subscription,
    Table,
    TextSearchConfiguration,
    TextSearchDictionary,
    TextSearchParser,
    TextSearchTemplate,
    Trigger,
    UserMapping,
    View,
)

Row = dict[str, object]
T = TypeVar("T")

BULK = {
    "server": queries.SERVER,
    "settings": queries.SETTING_ROWS,
    "role_settings": queries.ROLE_SETTINGS,
    "roles": queries.ROLES,
    "extensions": queries.EXTENSIONS,
    "schemas": queries.SCHEMAS,
    "tables": queries.TABLES,
    "views": queries.VIEWS,
    "materialized_views": queries.MATERIALIZED_VIEWS,
    "sequences": queries.SEQUENCES,
    "constraints": queries.CONSTRAINTS,
    "indexes": queries.INDEXES,
    "triggers": queries.TRIGGERS,
    "policies": queries.POLICIES,
    "privileges": queries.PRIVILEGES,
    "object_privileges": queries.OBJECT_PRIVILEGES,
    "default_privileges": queries.DEFAULT_PRIVILEGES,
    "functions": queries.FUNCTIONS,
    "enums": queries.ENUMS,
    "domains": queries.DOMAINS,
    "composites": queries.COMPOSITES,
    "event_triggers": queries.EVENT_TRIGGERS,
    "statistics": queries.STATISTICS,
    "rules": queries.RULES,
    "operators": queries.OPERATORS,
    "operator_families": queries.OPERATOR_FAMILIES,
    "operator_classes": queries.OPERATOR_CLASSES,
    "text_search_parsers": queries.TEXT_SEARCH_PARSERS,
    "text_search_templates": queries.TEXT_SEARCH_TEMPLATES,
    "text_search_dictionaries": queries.TEXT_SEARCH_DICTIONARIES,
    "text_search_configurations": queries.TEXT_SEARCH_CONFIGURATIONS,
    "aggregates": queries.AGGREGATES,
    "casts": queries.CASTS,
    "foreign_data_wrappers": queries.FOREIGN_DATA_WRAPPERS,
    "foreign_servers": queries.FOREIGN_SERVERS,
    "user_mappings": queries.USER_MAPPINGS,
    "foreign_tables": queries.FOREIGN_TABLES,
}
# Queries whose text depends on the server's major, each made for its server_version_num.
BY_VERSION = {
    "columns": queries.columns,
    "collations": queries.collations,
    "publications": queries.publications,
    "publication_tables": queries.publication_tables,
    "subscriptions": queries.subscriptions,
}

DUMP_TABLES = {
    "columns": queries.STORED_COLUMNS,
    "keys": queries.TABLE_KEYS,
}

DUMP_PARAMETERS = {"hidden": list(queries.DUMP_HIDDEN_SCHEMAS)}

PARAMETERS = {
    "hidden": list(queries.HIDDEN_SCHEMAS),
    "settings": list(queries.SETTINGS),
}


# Every session setting that changes how the server prints catalog text: names (search_path empty, so
# they come out schema-qualified; quoting), and constants in defaults, checks and view definitions
# (timestamps, intervals, floats, bytea, money, backslashes). Two databases whose own defaults differ
# then print the same schema the same way.
RENDERING = {
    "search_path": "",
    "quote_all_identifiers": "off",
    "TimeZone": "UTC",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
    "lc_monetary": "C",
    "standard_conforming_strings": "on",
}
PIN = sql.SQL("SELECT set_config(name, value, true) FROM unnest(%s::text[], %s::text[]) AS pinned(name, value)")


@contextmanager
def pinned(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """A transaction (a savepoint if the caller has one open) with RENDERING set in it, always rolled
    back so nothing leaks into the caller's session. Only reads go in it, so it may be READ ONLY."""
    with conn.transaction(force_rollback=True):
        conn.execute(PIN, (list(RENDERING), list(RENDERING.values())))
        yield conn


def inspect(conn: psycopg.Connection, configured: LedgerTable | None = None, sizes: bool = False) -> Snapshot:
    """The schema of the database `conn` is connected to, and its migration ledger (`configured`, or the
    first one found) apart from the schema; with `sizes`, the planner's statistics of its relations too
    (production's profile keeps them). Only reads, with the rendering settings pinned."""
    with pinned(conn):
        version_num = conn.info.server_version
        extra = {"sizes": queries.SIZES} if sizes else {}
        rows = fetch(conn, BULK | extra | {name: make(version_num) for name, make in BY_VERSION.items()})
        ledger = ledgers.read_ledger(conn, configured)
    snapshot = without_bookkeeping(assemble(rows, ledger))
    return replace(snapshot, sizes=plain(RelationSize, rows["sizes"])) if sizes else snapshot


def fetch(conn: psycopg.Connection, bulk: dict[str, sql.Composed],
          parameters: dict[str, list[str]] = PARAMETERS) -> dict[str, list[Row]]:
    """Runs the queries in one pipeline: one round trip, which matters against a remote server."""
    with conn.pipeline():
        cursors = {
            name: conn.cursor(row_factory=dict_row).execute(query, parameters)
            for name, query in bulk.items()
        }
    return {name: cursor.fetchall() for name, cursor in cursors.items()}


def stored_tables(conn: psycopg.Connection) -> dict[str, list[Row]]:
    """What the dump reads of the tables that hold rows: their `columns` (see queries.STORED_COLUMNS) and
    `keys`. Only reads, in the caller's transaction (the dump's snapshot); types come out schema-qualified,
    so they cast the same in any session."""
    with pinned(conn):
        return fetch(conn, DUMP_TABLES, DUMP_PARAMETERS)


def partition_roots(conn: psycopg.Connection) -> list[Row]:
    """Each partition holding rows (`schema`, `name`) and its partitioned table at the top (`root_schema`, `root`)."""
    with pinned(conn):
        return conn.cursor(row_factory=dict_row).execute(queries.PARTITION_ROOTS, DUMP_PARAMETERS).fetchall()


def relation_count(conn: psycopg.Connection) -> int:
    """How many tables, views, sequences and foreign tables the database holds outside the system schemas."""
    with pinned(conn):
        return conn.execute(queries.USER_RELATIONS, DUMP_PARAMETERS).fetchone()[0]


def assemble(rows: dict[str, list[Row]], ledger: Ledger | None) -> Snapshot:
    """Attaches child rows to their owners and builds the snapshot."""
    columns = children(Column, rows["columns"])
    constraints = children(Constraint, rows["constraints"])
    privileges = children(Privilege, rows["privileges"])
    relation = {
        "indexes": children(Index, map(index_row, rows["indexes"])),
        "triggers": children(Trigger, rows["triggers"]),
        "privileges": privileges,
        "statistics": children(Statistics, rows["statistics"]),
        "rules": children(RewriteRule, map(rule_row, rows["rules"])),
    }
    tables = owners(
        Table, rows["tables"], columns=columns, constraints=constraints,
        policies=children(Policy, rows["policies"]), **relation,
    )
    views = owners(View, map(view_row, rows["views"]), **relation)
    materialized_views = owners(View, map(view_row, rows["materialized_views"]), **relation)
    sequences = owners(Sequence, rows["sequences"], privileges=privileges)
    granted = children(Privilege, rows["object_privileges"])
    snapshot = Snapshot(
        server=build(ServerVersion, rows["server"][0]),
        settings=plain(Setting, rows["settings"]),
        role_settings=plain(RoleSetting, rows["role_settings"]),
        roles=(),
        extensions=plain(Extension, rows["extensions"]),
        schemas=owners(Schema, rows["schemas"], privileges=granted),
        tables=tables,
        views=views,
        materialized_views=materialized_views,
        sequences=sequences,
        functions=owners(Function, map(function_row, rows["functions"]), privileges=granted),
        enums=owners(EnumType, rows["enums"], privileges=granted),
        domains=owners(Domain, rows["domains"], constraints=constraints, privileges=granted),
        types=owners(CompositeType, rows["composites"], columns=columns, privileges=granted),
        ledger=ledger,
        default_privileges=plain(DefaultPrivilege, rows["default_privileges"]),
        event_triggers=plain(EventTrigger, rows["event_triggers"]),
        operators=plain(Operator, rows["operators"]),
        operator_families=plain(OperatorFamily, rows["operator_families"]),
        operator_classes=plain(OperatorClass, rows["operator_classes"]),
        text_search_parsers=plain(TextSearchParser, rows["text_search_parsers"]),
        text_search_templates=plain(TextSearchTemplate, rows["text_search_templates"]),
        text_search_dictionaries=plain(TextSearchDictionary, map(dictionary_row, rows["text_search_dictionaries"])),
        text_search_configurations=plain(TextSearchConfiguration, rows["text_search_configurations"]),
        aggregates=owners(Aggregate, map(function_row, rows["aggregates"]), privileges=granted),
        casts=plain(Cast, rows["casts"]),
        collations=plain(Collation, rows["collations"]),
        publications=owners(Publication, rows["publications"],
                            members=children(PublicationTable, rows["publication_tables"])),
        subscriptions=plain(Subscription, rows["subscriptions"]),
        foreign_data_wrappers=owners(ForeignDataWrapper, rows["foreign_data_wrappers"], privileges=granted),
        foreign_servers=owners(ForeignServer, rows["foreign_servers"], privileges=granted),
        user_mappings=plain(UserMapping, rows["user_mappings"]),
        foreign_tables=owners(ForeignTable, rows["foreign_tables"], columns=columns, privileges=privileges),
    )
    return replace(snapshot, roles=referenced_roles(rows["roles"], snapshot))


def without_bookkeeping(snapshot: Snapshot) -> Snapshot:
    """The snapshot less the ledger's tables and schemas (and what they own): a tool's records, not schema."""
    if snapshot.ledger is None:
        return snapshot
    tables, schemas = ledgers.hidden(snapshot.ledger)

    def kept(obj: object) -> bool:
        return obj.schema not in schemas and f"{obj.schema}.{obj.name}" not in tables

    def owned(sequence: object) -> bool:
        return sequence.owned_by is not None and sequence.owned_by.rpartition(".")[0] in tables
    return replace(
        snapshot,
        schemas=tuple(s for s in snapshot.schemas if s.name not in schemas),
        sequences=tuple(s for s in snapshot.sequences if kept(s) and not owned(s)),
        **{name: tuple(filter(kept, getattr(snapshot, name))) for name in SCHEMA_OBJECTS},
        publications=tuple(replace(p, members=tuple(filter(kept, p.members))) for p in snapshot.publications),
    )


def build(cls: type[T], row: Row, **extra: object) -> T:
    """One object from a row whose column names are the field names; arrays become tuples.

    Tens of thousands of rows go through here, so the object is filled in one step rather than through a
    frozen dataclass's __init__, which sets each field on its own: the columns a query gives are checked
    against the fields once per query shape, and only the fields typed as tuples are looked at."""
    for name in tuple_fields(cls):
        value = row.get(name)
        if isinstance(value, list):
            row[name] = tuple(value)
    obj = cls.__new__(cls)
    values = obj.__dict__
    values.update(defaults(cls, tuple(row), tuple(extra)))
    values.update(row)
    values.update(extra)
    obj.__post_init__()
    return obj


@functools.cache
def defaults(cls: type, columns: tuple[str, ...], extra: tuple[str, ...]) -> dict[str, object]:
    """The defaults of the fields neither `columns` nor `extra` give; a field given twice, missing without a
    default, or unknown is a query that does not fit its class."""
    names = [f.name for f in fields(cls)]
    given = columns + extra
    missing = [f.name for f in fields(cls) if f.name not in given and f.default is MISSING]
    unknown = [name for name in given if name not in names]
    if missing or unknown or len(set(given)) != len(given):
        raise TypeError(f"{cls.__name__} from columns {', '.join(given)}: missing {missing}, unknown {unknown}")
    return {f.name: f.default for f in fields(cls) if f.name not in given and f.default is not MISSING}


@functools.cache
def tuple_fields(cls: type) -> tuple[str, ...]:
    """The fields typed `tuple[...]` (or `tuple[...] | None`): where the server's arrays go."""
    return tuple(name for name, hint in typing.get_type_hints(cls).items()
                 if tuple in (typing.get_origin(hint), *map(typing.get_origin, typing.get_args(hint))))


def plain(cls: type[T], rows: Iterable[Row]) -> tuple[T, ...]:
    return tuple(build(cls, row) for row in rows)


def children(cls: type[T], rows: Iterable[Row]) -> dict[int, list[T]]:
    """Child objects grouped by the oid of the object they belong to (their `parent` column).

    Children whose owner is not in the snapshot (an extension's table, say) are simply never
    looked up, which is why the child queries need not filter out extension members.
    """
    grouped: dict[int, list[T]] = defaultdict(list)
    for row in rows:
        parent = row.pop("parent")
        grouped[parent].append(build(cls, row))
    return grouped


def owners(cls: type[T], rows: Iterable[Row], **groups: dict[int, list]) -> tuple[T, ...]:
    """Objects with their children attached; `oid` is what the children's `parent` points at."""
    built = []
    for row in rows:
        oid = row.pop("oid")
        attached = {name: tuple(group.get(oid, ())) for name, group in groups.items()}
        built.append(build(cls, row, **attached))
    return tuple(built)


def index_row(row: Row) -> Row:
    """Strips "CREATE [UNIQUE] INDEX name ON [ONLY] table " and the options clause (kept in `options`),
    so the definition compares by content."""
    row = dict(row)
    head = f"CREATE {'UNIQUE ' if row['unique'] else ''}INDEX {row.pop('quoted_name')} ON "
    table = f"{row.pop('relation')} "
    definition = row["definition"].removeprefix(head).removeprefix("ONLY ").removeprefix(table)
    row["definition"] = without_options(definition) if row["options"] else definition
    return row


OPTIONS_CLAUSE = " WITH ("


def without_options(definition: str) -> str:
    """`pg_get_indexdef` text less its ` WITH (...)`: the only one outside parentheses and quotes."""
    depth, quote, start = 0, "", None
    for position, char in enumerate(definition):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif start is None and depth == 0 and definition.startswith(OPTIONS_CLAUSE, position):
            start = position
        elif char in "()":
            depth += 1 if char == "(" else -1
            if start is not None and depth == 0:
                return definition[:start] + definition[position + 1:]
    return definition


# An argument's leading IN: the default mode, which some majors print in identity arguments and others not.
IN_MODE = re.compile(r"(^|, )IN ")


def function_row(row: Row) -> Row:
    """Identity arguments without the IN mode, so a function's key is the same on every major."""
    return row | {"arguments": IN_MODE.sub(r"\1", row["arguments"])}


# One item of a dictionary's dictinitoption, as the server writes it: `name = 'value'` (E'' with backslashes).
DICTIONARY_OPTION = re.compile(r"""(?:"(?:[^"]|"")*"|[^\s=,]+) = E?'(?:[^']|'')*'""")


def dictionary_row(row: Row) -> Row:
    """The options as their items, sorted: given in another order they are the same dictionary."""
    return row | {"options": sorted(DICTIONARY_OPTION.findall(row["options"]))}


# A quoted literal or identifier (kept as is) or a run of whitespace (collapsed to one space).
QUOTED_OR_SPACE = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|\s+""")


def view_row(row: Row) -> Row:
    """Collapses the whitespace of `pg_get_viewdef` outside literals and drops its final `;`; view flags
    as `name=true`, or left out when off, which they are by default."""
    options = [flag(option) for option in row["options"]]
    return row | {"definition": collapsed(row["definition"]), "options": [o for o in options if o is not None]}


def collapsed(definition: str) -> str:
    """Printed SQL with its whitespace collapsed outside literals and quoted names, without its final `;`."""
    return QUOTED_OR_SPACE.sub(lambda m: m.group(1) or " ", definition).strip().removesuffix(";")


def rule_row(row: Row) -> Row:
    return row | {"definition": collapsed(row["definition"])}


# View options that are booleans, off unless set; the server keeps any spelling its parser takes.
VIEW_FLAGS = ("security_barrier", "security_invoker")
OFF = re.compile(r"f(a(l(se?)?)?)?|no?|off?|0", re.IGNORECASE)


def flag(option: str) -> str | None:
    name, _, value = option.partition("=")
    if name not in VIEW_FLAGS:
        return option
    return None if OFF.fullmatch(value) else f"{name}=true"


def referenced_roles(rows: Iterable[Row], snapshot: Snapshot) -> tuple[Role, ...]:
    """The roles that grants, default privileges, policies and user mappings name: only those matter for recreating the schema."""
    holders = [obj for name in PRIVILEGED for obj in getattr(snapshot, name)]
    names = {grant.grantee for obj in holders for grant in obj.privileges}
    names.update(role for table in snapshot.tables for policy in table.policies for role in policy.roles)
    names.update(name for entry in snapshot.default_privileges for name in (entry.role, entry.grantee))
    names.update(mapping.user for mapping in snapshot.user_mappings)
    return plain(Role, (row for row in rows if row["name"] in names))


# The snapshot's collections of objects in a schema (but sequences, which their table may own).
SCHEMA_OBJECTS = ("tables", "views", "materialized_views", "functions", "enums", "domains", "types", "operators",
                  "operator_families", "operator_classes", "text_search_parsers", "text_search_templates",
                  "text_search_dictionaries", "text_search_configurations", "aggregates", "collations",
                  "foreign_tables")

# The snapshot's collections whose objects hold grants.
PRIVILEGED = ("schemas", "tables", "views", "materialized_views", "sequences", "functions", "enums", "domains",
              "types", "aggregates", "foreign_data_wrappers", "foreign_servers", "foreign_tables")
