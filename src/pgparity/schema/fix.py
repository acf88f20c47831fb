"""Fix: the next migration, bringing the database it runs on (local) to production's schema.

`plan_fix` turns each Difference into a Change: the statements that make local match production
and the statements that undo them. Both directions come from the same per-kind generator called
with the sides swapped, so a rollback is never a second, hand-kept copy of the logic. Every
statement carries a phase (a statement class: drop triggers, ..., add columns, ..., grant);
sorting by phase gives a dependency-safe order, drops running dependents first.

Nothing is guessed or lost silently: renames are only suggested, statements that may lose data
are written commented out unless allowed, and statements that would fail on the target's rows
are counted first by `check_narrowing`, so that `write_fix` can refuse before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from enum import IntEnum
from pathlib import Path

import psycopg
from psycopg import sql

from pgparity import __version__
from pgparity.errors import FixError
from pgparity.folders import write_whole
from pgparity.identifiers import unquote
from pgparity.migrations.lint import IN_PRODUCTION
from pgparity.migrations.naming import next_files
from pgparity.schema import diff
from pgparity.schema.diff import MISSING_IN_LOCAL, MISSING_IN_PRODUCTION, RULES, Difference, place, short
from pgparity.schema.model import Column, Model, Snapshot, Table, collections


class Phase(IntEnum):
    """Statement classes in the order a fix runs them: drops (dependents first), then creations."""

    SETUP = 0
    DROP_TRIGGER = 1  # triggers and policies: they name columns and functions
    DROP_VIEW = 2
    DROP_FOREIGN_KEY = 3
    DROP_CONSTRAINT = 4  # other constraints, and indexes
    DROP_DEFAULT = 5  # defaults, identities, generation expressions
    DROP_COLUMN = 6
    DROP_TABLE = 7
    DROP_FUNCTION = 8
    DROP_SEQUENCE = 9
    DROP_COMPOSITE = 10
    DROP_DOMAIN = 11
    DROP_ENUM = 12
    DROP_EXTENSION = 13
    DROP_SCHEMA = 14
    SCHEMA = 15
    ROLE = 16
    EXTENSION = 17
    ENUM = 18
    DOMAIN = 19
    COMPOSITE = 20
    FUNCTION = 21
    SEQUENCE = 22
    TABLE = 23
    ALTER_TABLE = 24
    ADD_COLUMN = 25
    COLUMN_TYPE = 26
    COLUMN_NULL = 27
    COLUMN_DEFAULT = 28  # also identities and generation
    SEQUENCE_OWNER = 29
    VIEW = 30
    CONSTRAINT = 31
    INDEX = 32
    FOREIGN_KEY = 33
    TRIGGER = 34
    POLICY = 35
    PRIVILEGE = 36
    COMMENT = 37

    @property
    def drops(self) -> bool:
        return Phase.SETUP < self < Phase.SCHEMA

    @property
    def creates(self) -> bool:
        """Statements that fail where their object exists already (roles are guarded where they are made)."""
        return self >= Phase.SCHEMA and self not in IDEMPOTENT


# Statements that give the same result when their effect is there already.
IDEMPOTENT = frozenset({Phase.ROLE, Phase.ALTER_TABLE, Phase.COLUMN_TYPE, Phase.COLUMN_NULL, Phase.COLUMN_DEFAULT,
                        Phase.SEQUENCE_OWNER, Phase.PRIVILEGE, Phase.COMMENT})
# What PostgreSQL raises when a statement creates what exists: a guarded statement then does nothing.
ALREADY_THERE = "duplicate_table OR duplicate_column OR duplicate_object OR duplicate_function OR duplicate_schema"


@dataclass(frozen=True)
class Step:
    phase: Phase
    sql: str


@dataclass(frozen=True)
class Narrowing:
    """Rows of the target that would make a statement fail; `query` counts them (None: it cannot)."""

    target: str  # "public.users.email"
    condition: str  # "longer than 255 characters": read as "N rows <condition>"
    query: str | None


@dataclass(frozen=True)
class Action:
    """The statements of one direction of a change, and what a reader must know about them."""

    steps: tuple[Step, ...] = ()
    destructive: str | None = None  # why it may lose data; such steps are written commented out
    narrowing: tuple[Narrowing, ...] = ()
    note: str | None = None  # why nothing, or not everything, is done by a statement

    def __add__(self, other: Action) -> Action:
        return Action(
            self.steps + other.steps, joined(self.destructive, other.destructive),
            self.narrowing + other.narrowing, joined(self.note, other.note),
        )


def joined(first: str | None, second: str | None) -> str | None:
    return "; ".join(text for text in (first, second) if text) or None


@dataclass(frozen=True)
class Change:
    """What fixes one difference; `difference` is None for a view rebuilt around a column change."""

    difference: Difference | None
    subject: str
    forward: Action
    rollback: Action
    rank: int = 0  # depth among tables (partitions) or views: creations ascend, drops descend


@dataclass(frozen=True)
class Rename:
    """A column only local has and one of the same type only production has, in one table."""

    schema: str
    table: str
    old: str
    new: str

    @property
    def statement(self) -> str:
        return statement("ALTER TABLE {} RENAME COLUMN {} TO {}", sql.Identifier(self.schema, self.table),
                         sql.Identifier(self.old), sql.Identifier(self.new))


@dataclass(frozen=True)
class FixPlan:
    changes: tuple[Change, ...]
    renames: tuple[Rename, ...]

    @property
    def narrowings(self) -> tuple[Narrowing, ...]:
        return tuple(narrowing for change in self.changes for narrowing in change.forward.narrowing)


@dataclass(frozen=True)
class NarrowingCheck:
    narrowing: Narrowing
    rows: int | None  # None: not counted, see `reason`
    reason: str | None = None


# --- SQL text ----------------------------------------------------------------------------------


def statement(template: str, *args: sql.Composable) -> str:
    """A statement's text: names go in as Identifier, values as Literal, never by formatting."""
    return sql.SQL(template).format(*args).as_string(None)


def step(phase: Phase, template: str, *args: sql.Composable) -> Step:
    return Step(phase, statement(template, *args))


def raw(text: str) -> sql.SQL:
    """SQL the server itself printed (a type, an expression, a definition): used verbatim."""
    return sql.SQL(text)


def literal(value: object) -> sql.SQL:
    """psycopg pads E'' strings and negative numbers with a space against merging; not needed here."""
    return sql.SQL(sql.Literal(value).as_string(None).strip())


def qualified(obj: Model) -> sql.Identifier:
    return sql.Identifier(obj.schema, obj.name)


ROW = sql.Identifier("t")  # the alias of the table a narrowing query counts in
REFERENCED = sql.Identifier("r")


def rows_of(table: Model) -> sql.Composed:
    return sql.SQL("{} AS {}").format(qualified(table), ROW)


def role_name(role: str) -> sql.Composable:
    return sql.SQL("PUBLIC") if role == "PUBLIC" else sql.Identifier(role)


def dollar_quoted(body: str) -> str:
    tag = "$pgparity$"
    while tag in body:
        tag = tag[:-1] + "_$"
    return f"{tag}{body}{tag}"


# Names and lists inside text the server printed: `public."My Table"`, `(a, "b c")`.
IDENTIFIER = re.compile(r'"(?:[^"]|"")*"|[^\s."(),]+')
NAME = r'"(?:[^"]|"")*"|[A-Za-z_][\w$]*'
QUALIFIED_NAME = re.compile(rf"({NAME})\.({NAME})")
INDEX_KEY = re.compile(rf'{NAME}|[\w.]*\(.*\)', re.DOTALL)
SORT_OPTIONS = re.compile(r"(?: (?:ASC|DESC|NULLS FIRST|NULLS LAST))+$")


def names(text: str) -> tuple[str, ...]:
    """The unquoted parts of a printed name: `public."My T"` gives ("public", "My T")."""
    return tuple(unquote(part) for part in IDENTIFIER.findall(text))


def named_relations(definition: str) -> frozenset[tuple[str, str]]:
    """Every schema-qualified name in a view definition (printed with an empty search_path)."""
    return frozenset((unquote(a), unquote(b)) for a, b in QUALIFIED_NAME.findall(definition))


def group(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated items of the parenthesized list opening at `start`, and where it ends."""
    depth, begin, quote, items = 0, start + 1, "", []
    for position in range(start, len(text)):
        char = text[position]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return items + [text[begin:position].strip()], position + 1
        elif char == "," and depth == 1:
            items.append(text[begin:position].strip())
            begin = position + 1
    raise ValueError(f"unbalanced parentheses in {text!r}")


# --- the two snapshots as lookups --------------------------------------------------------------

VIEW_KINDS = ("view", "materialized_view")
RELATION_KINDS = ("table", *VIEW_KINDS)
Key = tuple[str, str, str]  # kind, object, name: where diff reports an object
Name = tuple[str, str]  # schema, name


@dataclass(frozen=True)
class Node:
    """An object as one snapshot holds it; `parent` is the table, view, type or sequence it is in."""

    kind: str
    obj: Model
    parent: Node | None = None

    @property
    def top(self) -> Node:
        """The top-level object: children are never nested deeper than one level."""
        return self.parent or self


@dataclass(frozen=True, eq=False)
class Catalog:
    """One snapshot with its objects found by where diff reports them."""

    snapshot: Snapshot
    nodes: dict[Key, Node]
    relations: dict[Name, Node]  # tables, views and materialized views
    references: dict[Name, frozenset[Name]]  # the names each view's definition mentions
    ranks: dict[Name, int]


@dataclass(frozen=True)
class Sides:
    old: Catalog  # the database the statements run on
    new: Catalog  # the schema they bring it to


def catalog(snapshot: Snapshot) -> Catalog:
    nodes = {("version", "server", ""): Node("version", snapshot.server)}
    for f in fields(Snapshot):
        if f.name not in ("server", "ledger"):
            for obj in getattr(snapshot, f.name):
                nodes.update(registered(RULES[f.name], obj))
    ledger = snapshot.ledger  # its rows record what ran: explained in the header, never fixed by a statement
    for entry in ledger.entries if ledger else ():
        nodes[("migration", ledger.table, RULES["entries"].label(entry))] = Node("migration", entry)
    relations = {name_of(n.obj): n for n in nodes.values() if n.kind in RELATION_KINDS and not n.parent}
    references = {name: named_relations(n.obj.definition) for name, n in relations.items() if n.kind in VIEW_KINDS}
    return Catalog(snapshot, nodes, relations, references, depths(relations, references))


def registered(rule, obj: Model) -> Iterable[tuple[Key, Node]]:
    """The object and its children under the keys diff gives their differences."""
    label, name = place(rule, rule.label(obj), None)
    node = Node(rule.kind, obj)
    yield (rule.kind, label, name), node
    for collection in collections(type(obj)):
        child_rule = RULES[collection]
        for child in getattr(obj, collection):
            yield (child_rule.kind, label, child_rule.label(child)), Node(child_rule.kind, child, node)


def depths(relations: dict[Name, Node], references: dict[Name, frozenset[Name]]) -> dict[Name, int]:
    """How deep each table sits under its partition parents, each view under the views it reads."""
    def above(name: Name) -> list[Name]:
        node = relations[name]
        if node.kind == "table":
            return [parent for parent in map(names, node.obj.parents) if parent in relations]
        return [ref for ref in references[name] if ref in references]

    depth: dict[Name, int] = {}

    def of(name: Name) -> int:
        if name not in depth:
            depth[name] = 0  # no cycle is possible, but one must not recurse forever
            depth[name] = 1 + max(map(of, above(name)), default=-1)
        return depth[name]

    return {name: of(name) for name in relations}


# --- per-kind generators -----------------------------------------------------------------------


def keeps_no_data(node: Node, sides: Sides) -> None:
    return None


def no_narrowing(node: Node, sides: Sides) -> tuple[Narrowing, ...]:
    return ()


@dataclass(frozen=True)
class Handler:
    """How one kind of object is created, dropped and changed; both directions share it."""

    build: Callable[[Node, Sides], tuple[Step, ...]]  # the object with everything it holds
    remove: Callable[[Node, Sides], tuple[Step, ...]]
    alter: Callable[[Node, Node, str, Sides], Action] | None = None  # None: drop and create
    holds_data: Callable[[Node, Sides], str | None] = keeps_no_data  # why dropping it loses data
    narrowing: Callable[[Node, Sides], tuple[Narrowing, ...]] = no_narrowing  # creating it on rows

    def create(self, node: Node, sides: Sides) -> Action:
        return Action(self.build(node, sides), narrowing=self.narrowing(node, sides))

    def drop(self, node: Node, sides: Sides) -> Action:
        return Action(self.remove(node, sides), destructive=self.holds_data(node, sides))

    def change(self, old: Node, new: Node, attribute: str, sides: Sides) -> Action:
        if self.alter is None:
            return self.drop(old, sides) + self.create(new, sides)
        return self.alter(old, new, attribute, sides)


def dropping(phase: Phase, template: str, ref: Callable[[Model], sql.Composable] = qualified):
    """The remover of an object dropped by one statement naming it."""
    return lambda node, sides: (step(phase, template, ref(node.obj)),)


def replaced(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    handler = HANDLERS[old.kind]
    return handler.drop(old, sides) + handler.create(new, sides)


def with_contents(node: Node, sides: Sides, own: Iterable[Step], inline: tuple[str, ...] = ()) -> tuple[Step, ...]:
    """The object's statements, its comment, then its children's; `inline` ones are in its own."""
    steps = [*own, *comment_steps(node)]
    for collection in collections(type(node.obj)):
        kind = RULES[collection].kind
        for child in getattr(node.obj, collection):
            child_node = Node(kind, child, node)
            steps += comment_steps(child_node) if collection in inline else HANDLERS[kind].build(child_node, sides)
    return tuple(steps)


def label(node: Node) -> str:
    """How headers and warnings name an object: public.users, public.users.email, ..."""
    obj, parent = node.obj, node.parent
    if node.kind == "column":
        return f"{diff.qualified(parent.obj)}.{obj.name}"
    if parent is not None:
        return f"{diff.qualified(parent.obj)} {node.kind} {RULES_BY_KIND[node.kind].label(obj)}"
    return RULES_BY_KIND[node.kind].label(obj)


RULES_BY_KIND = {rule.kind: rule for rule in RULES.values()}


# Comments.

OBJECT_WORDS = {
    "table": "TABLE", "view": "VIEW", "materialized_view": "MATERIALIZED VIEW", "sequence": "SEQUENCE",
    "enum": "TYPE", "type": "TYPE", "domain": "DOMAIN",
}


def comment_target(node: Node) -> sql.Composable:
    obj, parent = node.obj, node.parent
    if node.kind in OBJECT_WORDS:
        return sql.SQL(OBJECT_WORDS[node.kind] + " {}").format(qualified(obj))
    if node.kind == "schema":
        return sql.SQL("SCHEMA {}").format(sql.Identifier(obj.name))
    if node.kind == "function":
        return function_ref(obj)
    if node.kind == "column":
        return sql.SQL("COLUMN {}").format(sql.Identifier(parent.obj.schema, parent.obj.name, obj.name))
    if node.kind == "index":
        return sql.SQL("INDEX {}").format(sql.Identifier(parent.obj.schema, obj.name))
    on = "ON DOMAIN" if parent.kind == "domain" else "ON"
    return sql.SQL(node.kind.upper() + " {} " + on + " {}").format(sql.Identifier(obj.name), qualified(parent.obj))


def comment_step(node: Node, text: str | None) -> Step:
    value = sql.SQL("NULL") if text is None else literal(text)
    return step(Phase.COMMENT, "COMMENT ON {} IS {}", comment_target(node), value)


def comment_steps(node: Node) -> tuple[Step, ...]:
    text = getattr(node.obj, "comment", None)
    return () if text is None else (comment_step(node, text),)


def role_steps(roles: Iterable[str], sides: Sides) -> tuple[Step, ...]:
    """Roles are cluster-wide and may be missing on this server: created NOLOGIN, no password."""
    known = {role.name for role in sides.old.snapshot.roles} | {"PUBLIC"}
    body = ("BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {}) "
            "THEN CREATE ROLE {} NOLOGIN; END IF; END")
    return tuple(
        Step(Phase.ROLE, "DO " + dollar_quoted(statement(body, literal(role), sql.Identifier(role))))
        for role in roles if role not in known
    )


# Schemas and extensions.

def build_schema(node: Node, sides: Sides) -> tuple[Step, ...]:
    """A schema missing on one side stands for everything in it: that is created with it."""
    own = [step(Phase.SCHEMA, "CREATE SCHEMA {}", sql.Identifier(node.obj.name))]
    inside = schema_contents(sides.new, node.obj.name, reverse=False)
    return with_contents(node, sides, own) + tuple(s for n in inside for s in HANDLERS[n.kind].build(n, sides))


def remove_schema(node: Node, sides: Sides) -> tuple[Step, ...]:
    """Its objects are dropped in their own phases (a view in it may read a table dropped earlier);
    no CASCADE, so an object pgparity does not model stops the drop instead of vanishing."""
    inside = schema_contents(sides.old, node.obj.name, reverse=True)
    drop = step(Phase.DROP_SCHEMA, "DROP SCHEMA {}", sql.Identifier(node.obj.name))
    return tuple(s for n in inside for s in HANDLERS[n.kind].remove(n, sides)) + (drop,)


def schema_contents(side: Catalog, schema: str, reverse: bool) -> list[Node]:
    """The schema's objects, partitions after their parents and views after the views they read."""
    found = [
        Node(RULES[f.name].kind, obj) for f in fields(Snapshot)
        if f.name in RULES and RULES[f.name].in_schema
        for obj in getattr(side.snapshot, f.name) if obj.schema == schema
    ]
    return sorted(found, key=lambda n: side.ranks.get(name_of(n.obj), 0), reverse=reverse)


def schema_data(node: Node, sides: Sides) -> str | None:
    held = [n for n in schema_contents(sides.old, node.obj.name, reverse=False) if n.kind in ("table", "sequence")]
    return f"drops schema {node.obj.name} and everything in it, rows included" if held else None


def build_extension(node: Node, sides: Sides) -> tuple[Step, ...]:
    e = node.obj
    return (step(Phase.EXTENSION, "CREATE EXTENSION {} WITH SCHEMA {} VERSION {}",
                 sql.Identifier(e.name), sql.Identifier(e.schema), literal(e.version)),)


def alter_extension(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    e = new.obj
    if attribute == "version":
        return Action((step(Phase.EXTENSION, "ALTER EXTENSION {} UPDATE TO {}", sql.Identifier(e.name),
                            literal(e.version)),))
    return Action((step(Phase.EXTENSION, "ALTER EXTENSION {} SET SCHEMA {}", sql.Identifier(e.name),
                        sql.Identifier(e.schema)),))


# Types: enums, domains, composites.

def build_enum(node: Node, sides: Sides) -> tuple[Step, ...]:
    labels = sql.SQL(", ").join(literal(text) for text in node.obj.labels)
    own = step(Phase.ENUM, "CREATE TYPE {} AS ENUM ({})", qualified(node.obj), labels)
    return with_contents(node, sides, [own])


def alter_enum(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    """Labels are added in place; removing or reordering them needs the type recreated."""
    before, after = old.obj.labels, new.obj.labels
    kept = [text for text in before if text in after]
    removed = [text for text in before if text not in after]
    if removed or kept != [text for text in after if text in before]:
        loss = f"enum {label(old)} loses label(s) {', '.join(removed)}; rows holding them fail the cast"
        recreated = recreate_type(old, new, sides)
        return Action(recreated.steps, destructive=loss if removed else None, note=recreated.note)
    steps = []
    for position, text in enumerate(after):
        if text in before:
            continue
        if position:
            where = sql.SQL(" AFTER {}").format(literal(after[position - 1]))
        else:
            where = sql.SQL(" BEFORE {}").format(literal(kept[0])) if kept else sql.SQL("")
        steps.append(step(Phase.ENUM, "ALTER TYPE {} ADD VALUE {}{}", qualified(new.obj), literal(text), where))
    return Action(tuple(steps), note="a label added here cannot be used by this same transaction")


ASIDE = "__pgparity_old"
NAME_BYTES = 63  # PostgreSQL cuts longer names, which could turn the aside name into the name itself


def aside_name(name: str) -> str:
    while len((name + ASIDE).encode()) > NAME_BYTES:
        name = name[:-1]
    return name + ASIDE


def recreate_type(old: Node, new: Node, sides: Sides) -> Action:
    """Renames the old type aside, creates the new one, recasts the columns using it, drops the old."""
    word = "DOMAIN" if old.kind == "domain" else "TYPE"
    phase = Phase.DOMAIN if old.kind == "domain" else Phase.ENUM
    obj = old.obj
    aside = aside_name(obj.name)
    steps = [step(phase, f"ALTER {word} {{}} RENAME TO {{}}", qualified(obj), sql.Identifier(aside))]
    steps += HANDLERS[new.kind].build(new, sides)
    users = columns_of_type(sides.old.snapshot, obj)
    for table, column in users:
        steps += recast(phase, table, column, kept_column(sides.new, table, column), old.kind == "enum")
    steps.append(step(phase, f"DROP {word} {{}}", sql.Identifier(obj.schema, aside)))
    note = "recreates the type; arrays, domains and views over it are not handled" if users else None
    return Action(tuple(steps), note=note)


def columns_of_type(snapshot: Snapshot, obj: Model) -> list[tuple[Table, Column]]:
    return [(table, column) for table in snapshot.tables for column in table.columns
            if names(column.type) == (obj.schema, obj.name)]


def kept_column(side: Catalog, table: Table, column: Column) -> Column | None:
    kept = side.relations.get(name_of(table))
    return next((c for c in kept.obj.columns if c.name == column.name), None) if kept else None


def recast(phase: Phase, table: Table, column: Column, kept: Column | None, through_text: bool) -> list[Step]:
    """A column the fix drops is gone by now; a default the fix changes is set in its own phase."""
    if kept is None:
        return []
    name = sql.Identifier(column.name)
    using = sql.SQL(" USING {}::text::{}").format(name, raw(column.type)) if through_text else sql.SQL("")
    prefix = "ALTER TABLE {} ALTER COLUMN {} "
    steps = [step(phase, prefix + "TYPE {}{}", qualified(table), name, raw(column.type), using)]
    if column.default is None:
        return steps
    steps.insert(0, step(phase, prefix + "DROP DEFAULT", qualified(table), name))
    if (kept.type, kept.default) == (column.type, column.default):
        steps.append(step(phase, prefix + "SET DEFAULT {}", qualified(table), name, raw(column.default)))
    return steps


def build_domain(node: Node, sides: Sides) -> tuple[Step, ...]:
    d = node.obj
    parts = [sql.SQL("CREATE DOMAIN {} AS {}").format(qualified(d), raw(d.type))]
    parts += [sql.SQL("COLLATE {}").format(raw(d.collation))] if d.collation else []
    parts += [sql.SQL("DEFAULT {}").format(raw(d.default))] if d.default is not None else []
    parts += [] if d.nullable else [sql.SQL("NOT NULL")]
    return with_contents(node, sides, [Step(Phase.DOMAIN, sql.SQL(" ").join(parts).as_string(None))])


def alter_domain(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    d = new.obj
    if attribute == "default":
        if d.default is None:
            return Action((step(Phase.DOMAIN, "ALTER DOMAIN {} DROP DEFAULT", qualified(d)),))
        return Action((step(Phase.DOMAIN, "ALTER DOMAIN {} SET DEFAULT {}", qualified(d), raw(d.default)),))
    if attribute == "nullable":
        if d.nullable:
            return Action((step(Phase.DOMAIN, "ALTER DOMAIN {} DROP NOT NULL", qualified(d)),))
        return Action((step(Phase.DOMAIN, "ALTER DOMAIN {} SET NOT NULL", qualified(d)),),
                      narrowing=(Narrowing(label(new), "holding NULL in columns of this domain", None),))
    return recreate_type(old, new, sides)  # type and collation cannot be altered in place


def build_composite(node: Node, sides: Sides) -> tuple[Step, ...]:
    attributes = sql.SQL(", ").join(attribute_sql(column) for column in node.obj.columns)
    own = [step(Phase.COMPOSITE, "CREATE TYPE {} AS ({})", qualified(node.obj), attributes)]
    return with_contents(node, sides, own, inline=("columns",))


def attribute_sql(column: Column) -> sql.Composed:
    collation = sql.SQL(" COLLATE {}").format(raw(column.collation)) if column.collation else sql.SQL("")
    return sql.SQL("{} {}{}").format(sql.Identifier(column.name), raw(column.type), collation)


# Functions.

def function_ref(f: Model) -> sql.Composed:
    return sql.SQL(f.kind.upper() + " {}({})").format(qualified(f), raw(f.arguments))


def build_function(node: Node, sides: Sides) -> tuple[Step, ...]:
    """Bodies are not checked at creation, as in pg_dump: a body may name tables created later."""
    setup = Step(Phase.SETUP, "SET LOCAL check_function_bodies = off")
    own = [setup, Step(Phase.FUNCTION, node.obj.definition.strip().removesuffix(";"))]
    return with_contents(node, sides, own)


def alter_function(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    """CREATE OR REPLACE keeps dependents and grants, but cannot change what a function returns."""
    if attribute in ("result", "kind"):
        return replaced(old, new, attribute, sides)
    return Action(build_function(new, sides))


# Sequences.

def sequence_data(node: Node, sides: Sides) -> str:
    return f"drops sequence {label(node)} and its current value"


def sequence_options(s: Model) -> sql.Composed:
    return sql.SQL("AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}").format(
        raw(s.type), literal(s.increment), literal(s.minimum), literal(s.maximum), literal(s.start),
        literal(s.cache), sql.SQL("CYCLE" if s.cycle else "NO CYCLE"),
    )


def owner_step(s: Model) -> Step:
    owner = raw(s.owned_by) if s.owned_by else sql.SQL("NONE")
    return step(Phase.SEQUENCE_OWNER, "ALTER SEQUENCE {} OWNED BY {}", qualified(s), owner)


def build_sequence(node: Node, sides: Sides) -> tuple[Step, ...]:
    s = node.obj
    own = [step(Phase.SEQUENCE, "CREATE SEQUENCE {} {}", qualified(s), sequence_options(s))]
    return with_contents(node, sides, own + ([owner_step(s)] if s.owned_by else []))


def alter_sequence(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    """All options at once: AS and MAXVALUE must change together or one of them is out of range."""
    if attribute == "owned_by":
        return Action((owner_step(new.obj),))
    return Action((step(Phase.SEQUENCE, "ALTER SEQUENCE {} {}", qualified(new.obj), sequence_options(new.obj)),))


# Tables.

def column_sql(c: Column) -> sql.Composed:
    parts = [sql.Identifier(c.name), raw(c.type)]
    parts += [sql.SQL("COLLATE {}").format(raw(c.collation))] if c.collation else []
    parts += [sql.SQL("GENERATED ALWAYS AS ({}) STORED").format(raw(c.generated))] if c.generated else []
    parts += [sql.SQL(f"GENERATED {c.identity.upper()} AS IDENTITY")] if c.identity else []
    parts += [sql.SQL("DEFAULT {}").format(raw(c.default))] if c.default is not None else []
    parts += [] if c.nullable else [sql.SQL("NOT NULL")]
    return sql.SQL(" ").join(parts)


def build_table(node: Node, sides: Sides) -> tuple[Step, ...]:
    """Columns go in CREATE TABLE; constraints follow as ALTER TABLE, foreign keys in their phase."""
    t = node.obj
    head = sql.SQL("CREATE UNLOGGED TABLE {}" if t.unlogged else "CREATE TABLE {}").format(qualified(t))
    if t.partition_bound is not None:
        body = sql.SQL(" PARTITION OF {} {}").format(raw(t.parents[0]), raw(t.partition_bound))
    else:
        columns = sql.SQL(",\n    ").join(column_sql(c) for c in t.columns)
        body = sql.SQL(" (\n    {}\n)").format(columns) if t.columns else sql.SQL(" ()")
        if t.parents:
            body += sql.SQL(" INHERITS ({})").format(sql.SQL(", ").join(raw(p) for p in t.parents))
    if t.partition_key:
        body += sql.SQL(" PARTITION BY {}").format(raw(t.partition_key))
    own = [Step(Phase.TABLE, (head + body).as_string(None))]
    own += [flag_step(t, attribute, True) for attribute in ("rls_enabled", "rls_forced") if getattr(t, attribute)]
    return with_contents(node, sides, own, inline=("columns",))


FLAGS = {
    "unlogged": ("SET UNLOGGED", "SET LOGGED"),
    "rls_enabled": ("ENABLE ROW LEVEL SECURITY", "DISABLE ROW LEVEL SECURITY"),
    "rls_forced": ("FORCE ROW LEVEL SECURITY", "NO FORCE ROW LEVEL SECURITY"),
}


def flag_step(table: Table, attribute: str, value: bool) -> Step:
    on, off = FLAGS[attribute]
    return step(Phase.ALTER_TABLE, "ALTER TABLE {} " + (on if value else off), qualified(table))


def alter_table(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    t = new.obj
    if attribute in FLAGS:
        return Action((flag_step(t, attribute, getattr(t, attribute)),))
    partitioned = old.obj.partition_bound is not None or t.partition_bound is not None
    if attribute == "partition_bound" and old.obj.parents == t.parents:
        parent = raw(t.parents[0])
        return Action((
            step(Phase.ALTER_TABLE, "ALTER TABLE {} DETACH PARTITION {}", parent, qualified(t)),
            step(Phase.ALTER_TABLE, "ALTER TABLE {} ATTACH PARTITION {} {}", parent, qualified(t),
                 raw(t.partition_bound)),
        ), narrowing=(Narrowing(label(new), f"outside the new bound {t.partition_bound}", None),))
    if attribute == "parents" and not partitioned:
        gone = [step(Phase.ALTER_TABLE, "ALTER TABLE {} NO INHERIT {}", qualified(t), raw(p))
                for p in old.obj.parents if p not in t.parents]
        added = [step(Phase.ALTER_TABLE, "ALTER TABLE {} INHERIT {}", qualified(t), raw(p))
                 for p in t.parents if p not in old.obj.parents]
        return Action(tuple(gone + added))
    return Action(note=f"{attribute.replace('_', ' ')} cannot be changed in place: recreate {label(new)} "
                  "and move its rows by hand")


def table_data(node: Node, sides: Sides) -> str:
    return f"drops table {label(node)} and its rows"


# Columns of tables, and attributes of composite types.

def build_column(node: Node, sides: Sides) -> tuple[Step, ...]:
    parent, c = node.parent.obj, node.obj
    if node.parent.kind == "type":
        own = step(Phase.COMPOSITE, "ALTER TYPE {} ADD ATTRIBUTE {}", qualified(parent), attribute_sql(c))
    else:
        own = step(Phase.ADD_COLUMN, "ALTER TABLE {} ADD COLUMN {}", qualified(parent), column_sql(c))
    return with_contents(node, sides, [own])


def remove_column(node: Node, sides: Sides) -> tuple[Step, ...]:
    template = "ALTER TYPE {} DROP ATTRIBUTE {}" if node.parent.kind == "type" else "ALTER TABLE {} DROP COLUMN {}"
    return (step(Phase.DROP_COLUMN, template, qualified(node.parent.obj), sql.Identifier(node.obj.name)),)


def column_data(node: Node, sides: Sides) -> str:
    return f"drops column {label(node)} and its data"


def column_narrowing(node: Node, sides: Sides) -> tuple[Narrowing, ...]:
    c = node.obj
    if node.parent.kind == "type" or c.nullable or c.default is not None or c.identity or c.generated:
        return ()
    return (Narrowing(label(node), "that would hold NULL in this new NOT NULL column without a default",
                      statement("SELECT count(*) FROM {}", rows_of(node.parent.obj))),)


def alter_column(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    if new.parent.kind == "type":
        return alter_attribute(old, new)
    return COLUMN_CHANGES[attribute](old, new, sides)


def alter_clause(node: Node, phase: Phase, clause: str, *args: sql.Composable) -> Step:
    return step(phase, "ALTER TABLE {} ALTER COLUMN {} " + clause, qualified(node.parent.obj),
                sql.Identifier(node.obj.name), *args)


def column_type(old: Node, new: Node, sides: Sides) -> Action:
    """Without USING, PostgreSQL converts as by assignment: a too-long value fails, never truncates."""
    c = new.obj
    conversion = converted(old.obj.type, c.type, sql.Identifier(c.name))
    collation = sql.SQL(" COLLATE {}").format(raw(c.collation)) if c.collation else sql.SQL("")
    using = sql.SQL("")
    if conversion.using:
        using = sql.SQL(" USING {}::{}").format(sql.Identifier(c.name), raw(c.type))
    steps = [alter_clause(new, Phase.COLUMN_TYPE, "TYPE {}{}{}", raw(c.type), collation, using)]
    if old.obj.default is not None:  # the old default may not convert: set it again afterwards
        steps.insert(0, alter_clause(new, Phase.DROP_DEFAULT, "DROP DEFAULT"))
        if old.obj.default == c.default:
            steps.append(alter_clause(new, Phase.COLUMN_DEFAULT, "SET DEFAULT {}", raw(c.default)))
    return Action(tuple(steps), destructive=conversion.loss and f"{label(new)}: {conversion.loss}",
                  narrowing=failing_rows(new, conversion))


def failing_rows(node: Node, conversion: Conversion) -> tuple[Narrowing, ...]:
    if conversion.failing is None:
        return ()
    condition, predicate = conversion.failing
    query = statement("SELECT count(*) FROM {} WHERE {}", rows_of(node.parent.obj), predicate)
    return (Narrowing(label(node), condition, query),)


def column_collation(old: Node, new: Node, sides: Sides) -> Action:
    c = new.obj
    collation = raw(c.collation) if c.collation else sql.Identifier("default")
    return Action((alter_clause(new, Phase.COLUMN_TYPE, "TYPE {} COLLATE {}", raw(c.type), collation),))


def column_nullable(old: Node, new: Node, sides: Sides) -> Action:
    if new.obj.nullable:
        return Action((alter_clause(new, Phase.COLUMN_NULL, "DROP NOT NULL"),))
    check = statement("SELECT count(*) FROM {} WHERE {} IS NULL", rows_of(new.parent.obj),
                      sql.Identifier(new.obj.name))
    return Action((alter_clause(new, Phase.COLUMN_NULL, "SET NOT NULL"),),
                  narrowing=(Narrowing(label(new), "holding NULL, which NOT NULL refuses", check),))


def column_default(old: Node, new: Node, sides: Sides) -> Action:
    if new.obj.default is None:
        return Action((alter_clause(new, Phase.DROP_DEFAULT, "DROP DEFAULT"),))
    return Action((alter_clause(new, Phase.COLUMN_DEFAULT, "SET DEFAULT {}", raw(new.obj.default)),))


def column_identity(old: Node, new: Node, sides: Sides) -> Action:
    identity = new.obj.identity
    if identity is None:
        return Action((alter_clause(new, Phase.DROP_DEFAULT, "DROP IDENTITY"),))
    if old.obj.identity is not None:
        return Action((alter_clause(new, Phase.COLUMN_DEFAULT, f"SET GENERATED {identity.upper()}"),))
    table, name = qualified(new.parent.obj), sql.Identifier(new.obj.name)
    # The new sequence starts at 1: move it past the values the rows already hold.
    restart = step(Phase.COLUMN_DEFAULT,
                   "SELECT setval(pg_get_serial_sequence({}, {}), coalesce(max({}), 0) + 1, false) FROM {}",
                   literal(table.as_string(None)), literal(new.obj.name), name, table)
    add = alter_clause(new, Phase.COLUMN_DEFAULT, f"ADD GENERATED {identity.upper()} AS IDENTITY")
    return Action((add, restart))


def column_generated(old: Node, new: Node, sides: Sides) -> Action:
    """PostgreSQL 15 can only drop an expression; a new one needs the column dropped and re-added."""
    if new.obj.generated is None:
        return Action((alter_clause(new, Phase.DROP_DEFAULT, "DROP EXPRESSION"),))
    why = ("replaces its values by the generated ones" if old.obj.generated is None
           else "drops and re-adds it; indexes, constraints and views on it go too")
    steps = remove_column(old, sides) + build_column(new, sides)
    return Action(steps, destructive=f"{label(new)}: {why}")


COLUMN_CHANGES = {
    "type": column_type, "collation": column_collation, "nullable": column_nullable,
    "default": column_default, "identity": column_identity, "generated": column_generated,
}


def alter_attribute(old: Node, new: Node) -> Action:
    """Composite attributes have only a type and a collation; ALTER ATTRIBUTE takes no USING."""
    c = new.obj
    conversion = converted(old.obj.type, c.type, sql.Identifier(c.name))
    collation = sql.SQL(" COLLATE {}").format(raw(c.collation)) if c.collation else sql.SQL("")
    alter = step(Phase.COMPOSITE, "ALTER TYPE {} ALTER ATTRIBUTE {} TYPE {}{}", qualified(new.parent.obj),
                 sql.Identifier(c.name), raw(c.type), collation)
    return Action((alter,), destructive=conversion.loss and f"{label(new)}: {conversion.loss}")


# Type conversions: which need USING, which rows fail, which values change.

@dataclass(frozen=True)
class Conversion:
    using: bool
    failing: tuple[str, sql.Composable] | None = None  # condition, predicate of failing rows
    loss: str | None = None


TYPE_PARTS = re.compile(r"(?P<base>[a-z][a-z ]*?)(?:\((?P<modifiers>\d+(?:,\d+)?)\))?")
STRING_TYPES = frozenset({"character varying", "text", "character", "bpchar"})
INTEGER_RANGES = {"smallint": (-2**15, 2**15 - 1), "integer": (-2**31, 2**31 - 1), "bigint": (-2**63, 2**63 - 1)}


def converted(old: str, new: str, column: sql.Identifier) -> Conversion:
    a, b = TYPE_PARTS.fullmatch(old), TYPE_PARTS.fullmatch(new)
    if a and b and a["base"] in STRING_TYPES and b["base"] in STRING_TYPES:
        limit, wider = b["modifiers"], a["modifiers"]
        if limit is None or (wider is not None and int(limit) >= int(wider)):
            return Conversion(False)
        return Conversion(False, (f"longer than {limit} characters",
                                  sql.SQL("length({}) > {}").format(column, literal(int(limit)))))
    if a and b and a["base"] in INTEGER_RANGES and b["base"] in INTEGER_RANGES:
        low, high = INTEGER_RANGES[b["base"]]
        predicate = sql.SQL("{} NOT BETWEEN {} AND {}").format(column, literal(low), literal(high))
        failing = (f"outside the range of {new}", predicate)
        return Conversion(False, failing if low > INTEGER_RANGES[a["base"]][0] else None)
    if a and b and a["base"] == b["base"] == "numeric":
        return numeric_conversion(precision(a["modifiers"]), precision(b["modifiers"]), column)
    lossless = b is not None and b["base"] in ("text", "character varying") and b["modifiers"] is None
    return Conversion(True, loss=None if lossless else f"converting {old} to {new} may change values")


def precision(modifiers: str | None) -> tuple[int | None, int | None]:
    if modifiers is None:
        return None, None
    digits, _, scale = modifiers.partition(",")
    return int(digits), int(scale or 0)


def numeric_conversion(old: tuple, new: tuple, column: sql.Identifier) -> Conversion:
    (old_digits, old_scale), (digits, scale) = old, new
    failing = None
    if digits is not None and (old_digits is None or digits - scale < old_digits - old_scale):
        bound = sql.SQL(f"1e{digits - scale}")
        failing = (f"too large for numeric({digits},{scale})",
                   sql.SQL("abs(round({}, {})) >= {}").format(column, literal(scale), bound))
    rounds = scale is not None and (old_scale is None or scale < old_scale)
    return Conversion(False, failing, f"rounds values to {scale} decimal places" if rounds else None)


# Constraints, indexes, triggers, policies, privileges.

def build_constraint(node: Node, sides: Sides) -> tuple[Step, ...]:
    c, parent = node.obj, node.parent
    if parent.kind == "domain":
        phase, word = Phase.DOMAIN, "DOMAIN"
    else:
        phase, word = (Phase.FOREIGN_KEY if c.type == "foreign key" else Phase.CONSTRAINT), "TABLE"
    own = step(phase, f"ALTER {word} {{}} ADD CONSTRAINT {{}} {{}}", qualified(parent.obj), sql.Identifier(c.name),
               raw(c.definition))
    return with_contents(node, sides, [own])


def remove_constraint(node: Node, sides: Sides) -> tuple[Step, ...]:
    c, parent = node.obj, node.parent
    word = "DOMAIN" if parent.kind == "domain" else "TABLE"
    phase = Phase.DROP_FOREIGN_KEY if c.type == "foreign key" else Phase.DROP_CONSTRAINT
    return (step(phase, f"ALTER {word} {{}} DROP CONSTRAINT {{}}", qualified(parent.obj), sql.Identifier(c.name)),)


def rows_after_fix(table: Table, sides: Sides) -> sql.Composable:
    """The table as the constraint will see it: columns this fix adds appear with their initial value."""
    existing = sides.old.relations.get((table.schema, table.name))
    present = {c.name for c in existing.obj.columns} if existing else set()
    added = [sql.SQL("CAST({} AS {}) AS {}").format(initial_value(c), raw(c.type), sql.Identifier(c.name))
             for c in table.columns if c.name not in present]
    if not added:
        return rows_of(table)
    return sql.SQL("(SELECT *, {} FROM {}) AS {}").format(sql.SQL(", ").join(added), qualified(table), ROW)


def initial_value(column: Column) -> sql.Composable:
    """A sequence cannot advance in a read-only check, so serial and identity columns count as NULL."""
    value = column.generated or column.default
    return raw(value) if value is not None and "nextval(" not in value else sql.SQL("NULL")


def constraint_narrowing(node: Node, sides: Sides) -> tuple[Narrowing, ...]:
    c, parent = node.obj, node.parent
    if c.definition.endswith("NOT VALID"):
        return ()
    if parent.kind == "domain" or c.type == "exclude":
        return (Narrowing(label(node), f"violating {c.definition}", None),)
    rows = rows_after_fix(parent.obj, sides)
    if c.type == "check":
        expression = c.definition.removeprefix("CHECK ").removesuffix(" NO INHERIT")
        query = statement("SELECT count(*) FROM {} WHERE NOT ({})", rows, raw(expression))
        return (Narrowing(label(node), f"failing {c.definition}", query),)
    keys, end = group(c.definition, c.definition.index("("))
    columns = [sql.SQL("{}.{}").format(ROW, sql.Identifier(unquote(key))) for key in keys]
    if c.type == "foreign key":
        return (orphans(node, columns, c.definition[end:], rows, sides),)
    distinct = "NULLS NOT DISTINCT" not in c.definition[:end]
    found = (duplicates(node, keys, columns, rows, distinct),)
    if c.type == "primary key":
        nulls = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(column) for column in columns)
        query = statement("SELECT count(*) FROM {} WHERE {}", rows, nulls)
        found += (Narrowing(label(node), f"holding NULL in ({', '.join(keys)})", query),)
    return found


def duplicates(node: Node, keys: Sequence[str], columns: Sequence[sql.Composable], rows: sql.Composable,
               nulls_distinct: bool, where: sql.Composable | None = None) -> Narrowing:
    filters = [sql.SQL("{} IS NOT NULL").format(column) for column in columns] if nulls_distinct else []
    filters += [where] if where is not None else []
    query = statement(
        "SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {} WHERE {} GROUP BY {} "
        "HAVING count(*) > 1) AS duplicates",
        rows, sql.SQL(" AND ").join(filters) if filters else sql.SQL("true"), sql.SQL(", ").join(columns),
    )
    return Narrowing(label(node), f"sharing their ({', '.join(keys)}) with another row", query)


REFERENCES = re.compile(r' REFERENCES ((?:"(?:[^"]|"")*"|[^"(])+)\(')


def orphans(node: Node, columns: list[sql.Composable], rest: str, rows: sql.Composable, sides: Sides) -> Narrowing:
    """Rows whose key finds no referenced row; a referenced table this fix creates starts empty."""
    match = REFERENCES.match(rest)
    referenced = names(match[1])
    targets, _ = group(rest, match.end() - 1)
    present = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(column) for column in columns)
    predicate = present
    if referenced in sides.old.relations:
        pairs = sql.SQL(" AND ").join(
            sql.SQL("{}.{} = {}").format(REFERENCED, sql.Identifier(unquote(target)), column)
            for target, column in zip(targets, columns)
        )
        predicate = sql.SQL("{} AND NOT EXISTS (SELECT FROM {} AS {} WHERE {})").format(
            present, sql.Identifier(*referenced), REFERENCED, pairs)
    query = statement("SELECT count(*) FROM {} WHERE {}", rows, predicate)
    return Narrowing(label(node), f"referencing no row of {match[1]}", query)


def build_index(node: Node, sides: Sides) -> tuple[Step, ...]:
    """The model keeps the definition from USING on: the name and table are put back in front."""
    index = node.obj
    template = "CREATE UNIQUE INDEX {} ON {} {}" if index.unique else "CREATE INDEX {} ON {} {}"
    own = step(Phase.INDEX, template, sql.Identifier(index.name), qualified(node.parent.obj),
               raw(index.definition))
    return with_contents(node, sides, [own])


def remove_index(node: Node, sides: Sides) -> tuple[Step, ...]:
    return (step(Phase.DROP_CONSTRAINT, "DROP INDEX {}", sql.Identifier(node.parent.obj.schema, node.obj.name)),)


def index_narrowing(node: Node, sides: Sides) -> tuple[Narrowing, ...]:
    """Duplicates under a new unique index; keys with an operator class or collation are not counted."""
    index = node.obj
    if not index.unique or node.parent.kind != "table":
        return ()
    method = re.match(r"USING \w+ ", index.definition)
    keys, end = group(index.definition, method.end()) if method else ([], 0)
    keys = [SORT_OPTIONS.sub("", key) for key in keys]
    if not keys or not all(INDEX_KEY.fullmatch(key) for key in keys):
        return (Narrowing(label(node), "sharing their key with another row", None),)
    rest = index.definition[end:]
    where = raw(rest.partition(" WHERE ")[2]) if " WHERE " in rest else None
    rows = rows_after_fix(node.parent.obj, sides)
    return (duplicates(node, keys, [raw(key) for key in keys], rows, "NULLS NOT DISTINCT" not in rest, where),)


TRIGGER_STATES = {
    "origin": "ENABLE", "always": "ENABLE ALWAYS", "replica": "ENABLE REPLICA", "disabled": "DISABLE",
}


def trigger_state(node: Node) -> Step:
    return step(Phase.TRIGGER, f"ALTER TABLE {{}} {TRIGGER_STATES[node.obj.enabled]} TRIGGER {{}}",
                qualified(node.parent.obj), sql.Identifier(node.obj.name))


def build_trigger(node: Node, sides: Sides) -> tuple[Step, ...]:
    own = [Step(Phase.TRIGGER, node.obj.definition)]
    return with_contents(node, sides, own + ([trigger_state(node)] if node.obj.enabled != "origin" else []))


def alter_trigger(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    if attribute == "enabled":
        return Action((trigger_state(new),))
    return replaced(old, new, attribute, sides)


def on_parent(template: str, phase: Phase) -> Callable[[Node, Sides], tuple[Step, ...]]:
    """DROP TRIGGER and DROP POLICY: the object's name, then its table's."""
    return lambda node, sides: (step(phase, template, sql.Identifier(node.obj.name), qualified(node.parent.obj)),)


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


def alter_policy(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    """ALTER POLICY changes roles and expressions, but cannot remove an expression."""
    if attribute not in ("roles", "using", "with_check") or getattr(new.obj, attribute) is None:
        return replaced(old, new, attribute, sides)
    alter = step(Phase.POLICY, "ALTER POLICY {} ON {}{}", sql.Identifier(new.obj.name),
                 qualified(new.parent.obj), policy_clause(new.obj, attribute))
    return Action((*role_steps(new.obj.roles, sides), alter))


def privilege_parts(node: Node) -> tuple[sql.Composable, sql.Composable]:
    """`SELECT (email)` and `ON TABLE public.users` of a grant."""
    g, parent = node.obj, node.parent
    column = sql.SQL(" ({})").format(sql.Identifier(g.column)) if g.column else sql.SQL("")
    on = "ON SEQUENCE {}" if parent.kind == "sequence" else "ON TABLE {}"
    return sql.SQL("{}{}").format(sql.SQL(g.privilege), column), sql.SQL(on).format(qualified(parent.obj))


def build_privilege(node: Node, sides: Sides) -> tuple[Step, ...]:
    what, on = privilege_parts(node)
    option = sql.SQL(" WITH GRANT OPTION" if node.obj.grantable else "")
    grant = step(Phase.PRIVILEGE, "GRANT {} {} TO {}{}", what, on, role_name(node.obj.grantee), option)
    return (*role_steps([node.obj.grantee], sides), grant)


def remove_privilege(node: Node, sides: Sides) -> tuple[Step, ...]:
    what, on = privilege_parts(node)
    return (step(Phase.PRIVILEGE, "REVOKE {} {} FROM {}", what, on, role_name(node.obj.grantee)),)


def alter_privilege(old: Node, new: Node, attribute: str, sides: Sides) -> Action:
    if new.obj.grantable:
        return Action(build_privilege(new, sides))
    what, on = privilege_parts(new)
    revoke = step(Phase.PRIVILEGE, "REVOKE GRANT OPTION FOR {} {} FROM {}", what, on, role_name(new.obj.grantee))
    return Action((revoke,))


# Views.

def build_view(node: Node, sides: Sides) -> tuple[Step, ...]:
    word = "MATERIALIZED VIEW" if node.kind == "materialized_view" else "VIEW"
    own = step(Phase.VIEW, f"CREATE {word} {{}} AS {{}}", qualified(node.obj), raw(node.obj.definition))
    return with_contents(node, sides, [own])


def remove_view(node: Node, sides: Sides) -> tuple[Step, ...]:
    word = "MATERIALIZED VIEW" if node.kind == "materialized_view" else "VIEW"
    return (step(Phase.DROP_VIEW, f"DROP {word} {{}}", qualified(node.obj)),)


HANDLERS = {
    "schema": Handler(build_schema, remove_schema, holds_data=schema_data),
    "extension": Handler(build_extension, dropping(Phase.DROP_EXTENSION, "DROP EXTENSION {}",
                                                   lambda e: sql.Identifier(e.name)), alter_extension),
    "enum": Handler(build_enum, dropping(Phase.DROP_ENUM, "DROP TYPE {}"), alter_enum),
    "domain": Handler(build_domain, dropping(Phase.DROP_DOMAIN, "DROP DOMAIN {}"), alter_domain),
    "type": Handler(build_composite, dropping(Phase.DROP_COMPOSITE, "DROP TYPE {}")),
    "function": Handler(build_function, dropping(Phase.DROP_FUNCTION, "DROP {}", function_ref), alter_function),
    # IF EXISTS: a sequence owned by a column is gone already when the fix dropped its table.
    "sequence": Handler(build_sequence, dropping(Phase.DROP_SEQUENCE, "DROP SEQUENCE IF EXISTS {}"),
                        alter_sequence, holds_data=sequence_data),
    "table": Handler(build_table, dropping(Phase.DROP_TABLE, "DROP TABLE {}"), alter_table, holds_data=table_data),
    "column": Handler(build_column, remove_column, alter_column, holds_data=column_data,
                      narrowing=column_narrowing),
    "constraint": Handler(build_constraint, remove_constraint, narrowing=constraint_narrowing),
    "index": Handler(build_index, remove_index, narrowing=index_narrowing),
    "trigger": Handler(build_trigger, on_parent("DROP TRIGGER {} ON {}", Phase.DROP_TRIGGER), alter_trigger),
    "policy": Handler(build_policy, on_parent("DROP POLICY {} ON {}", Phase.DROP_TRIGGER), alter_policy),
    "privilege": Handler(build_privilege, remove_privilege, alter_privilege),
    "view": Handler(build_view, remove_view),
    "materialized_view": Handler(build_view, remove_view),
}

# Differences no migration fixes: they are explained in the header instead.
NOTES: dict[str, Callable[[Difference], str]] = {
    "setting": lambda d: (f"{d.object} is {d.local} locally and {d.production} in production: a server or "
                          "database setting, mirrored by the container's configuration (PGPARITY_* "
                          "settings), not by a migration"),
    "version": lambda d: (f"the server is version {d.local} locally and {d.production} in production: "
                          "pick the image (PGPARITY_IMAGE) that matches"),
    "migration": lambda d: (f"ledger row {d.name}: ledger rows record which files ran; replay them with "
                            "db.sync or db.migrate, or accept edited files with db.repair"),
    "role": lambda d: (f"role {d.object}: {d.attribute} is {d.local} locally and {d.production} in "
                       "production; roles are cluster-wide and hold secrets, change them with ALTER ROLE by hand"),
}


# --- planning ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    difference: Difference
    local: Node | None
    production: Node | None

    @property
    def node(self) -> Node:
        return self.local or self.production


def plan_fix(differences: Sequence[Difference], local: Snapshot, production: Snapshot) -> FixPlan:
    """The changes that make `local` match `production`; pure logic, no database."""
    local_catalog, production_catalog = catalog(local), catalog(production)
    forward, backward = Sides(local_catalog, production_catalog), Sides(production_catalog, local_catalog)
    located = [Located(d, *locate(d, local_catalog, production_catalog)) for d in differences]
    rebuilt = rebuilt_views(located, forward)
    changes = [change_for(item, forward, backward, rebuilt) for item in located]
    own = {view_name(item) for item in located if is_definition(item)}
    changes += [rebuild(name, forward, backward) for name in sorted(rebuilt - own)]
    return FixPlan(tuple(changes), renames(located))


def locate(d: Difference, local: Catalog, production: Catalog) -> tuple[Node | None, Node | None]:
    """The objects a difference is about, one per side (None on the side that lacks it)."""
    if d.kind == "comment":
        for kind in RULES_BY_KIND:
            pair = local.nodes.get((kind, d.object, d.name)), production.nodes.get((kind, d.object, d.name))
            if all(pair) and getattr(pair[0].obj, "comment", None) != getattr(pair[1].obj, "comment", None):
                return pair
        pair = (None, None)
    else:
        key = (d.kind, d.object, d.name)
        pair = local.nodes.get(key), production.nodes.get(key)
    if pair == (None, None):
        raise FixError(f"{describe(d)}: not in the snapshots it was compared from; compare them again")
    return pair


# Column changes after which a view reading the column must be dropped and created again.
REBUILDING = ("type", "collation", "generated")


def is_definition(item: Located) -> bool:
    return item.difference.kind in VIEW_KINDS and item.difference.attribute == "definition"


def view_name(item: Located) -> Name | None:
    top = item.node.top
    return (top.obj.schema, top.obj.name) if top.kind in VIEW_KINDS else None


def rebuilt_views(located: list[Located], sides: Sides) -> set[Name]:
    """Views present on both sides that are dropped and created again: a changed definition, a
    column they read changing type, or a view they read being rebuilt."""
    both = sides.old.references.keys() & sides.new.references.keys()
    reads = {name: sides.old.references[name] | sides.new.references[name] for name in both}
    rebuilt = {view_name(item) for item in located if is_definition(item)}
    rebuilt |= {name for name in both for item in located
                if item.difference.kind == "column" and item.difference.attribute in REBUILDING
                and item.node.parent.kind == "table" and name_of(item.node.parent.obj) in reads[name]}
    while grown := {name for name in both - rebuilt if reads[name] & rebuilt}:
        rebuilt |= grown
    return rebuilt


def name_of(obj: Model) -> Name:
    return obj.schema, obj.name


def change_for(item: Located, forward: Sides, backward: Sides, rebuilt: set[Name]) -> Change:
    d = item.difference
    subject = describe(d)
    view = view_name(item)
    if view in rebuilt and not is_definition(item):
        return Change(d, f"{subject}: done by rebuilding {'.'.join(view)}", Action(), Action())
    if d.kind in NOTES:
        return Change(d, subject, Action(note=NOTES[d.kind](d)), Action())
    top = item.node.top
    rank = rank_of(top, forward) if top.kind in RELATION_KINDS else 0
    forward_action = act(d, item.local, item.production, forward)
    return Change(d, subject, forward_action, act(d, item.production, item.local, backward), rank)


def rank_of(node: Node, sides: Sides) -> int:
    name = name_of(node.obj)
    return max(sides.old.ranks.get(name, 0), sides.new.ranks.get(name, 0))


def act(d: Difference, old: Node | None, new: Node | None, sides: Sides) -> Action:
    """One direction: the statements turning `old` (where they run) into `new`."""
    if d.kind == "comment":
        return Action((comment_step(new, new.obj.comment),))
    handler = HANDLERS[d.kind]
    if old is None:
        return handler.create(new, sides)
    if new is None:
        return handler.drop(old, sides)
    return handler.change(old, new, d.attribute, sides)


def rebuild(name: Name, forward: Sides, backward: Sides) -> Change:
    local, production = forward.old.relations[name], forward.new.relations[name]
    subject = f"{local.kind.replace('_', ' ')} {'.'.join(name)}: rebuilt around a change to what it reads"
    return Change(None, subject, replaced(local, production, "definition", forward),
                  replaced(production, local, "definition", backward), rank_of(local, forward))


def renames(located: list[Located]) -> tuple[Rename, ...]:
    """Same table, same type, one column only local has and one only production has."""
    def columns(status: str) -> list[Node]:
        return [item.node for item in located if item.difference.kind == "column"
                and item.difference.status == status and item.node.parent.kind == "table"]
    return tuple(
        Rename(old.parent.obj.schema, old.parent.obj.name, old.obj.name, new.obj.name)
        for old in columns(MISSING_IN_PRODUCTION) for new in columns(MISSING_IN_LOCAL)
        if name_of(old.parent.obj) == name_of(new.parent.obj) and old.obj.type == new.obj.type
    )


def describe(d: Difference) -> str:
    kind = d.kind.replace("_", " ")
    where = f"{d.object}.{d.name}" if d.kind == "column" else " ".join(part for part in (d.object, d.name) if part)
    if d.status == MISSING_IN_LOCAL:
        return f"{kind} {where}: only in production"
    if d.status == MISSING_IN_PRODUCTION:
        return f"{kind} {where}: only in local"
    if d.attribute in ("definition", "text"):
        return f"{kind} {where}: {d.attribute} differs"
    return f"{kind} {where}: {d.attribute} {short(str(d.local))} → {short(str(d.production))}"


# --- checking the data -------------------------------------------------------------------------


def check_narrowing(conn: psycopg.Connection, plan: FixPlan) -> tuple[NarrowingCheck, ...]:
    """Counts, in a read-only transaction that is rolled back, the rows each narrowing would fail on."""
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ ONLY")
        return tuple(count_rows(conn, narrowing) for narrowing in plan.narrowings)


def count_rows(conn: psycopg.Connection, narrowing: Narrowing) -> NarrowingCheck:
    if narrowing.query is None:
        return NarrowingCheck(narrowing, None, "no query can count them")
    try:
        with conn.transaction():
            return NarrowingCheck(narrowing, int(conn.execute(narrowing.query).fetchone()[0]))
    except psycopg.Error as error:
        return NarrowingCheck(narrowing, None, str(error).splitlines()[0])


# --- rendering ---------------------------------------------------------------------------------


def render(plan: FixPlan, checks: Sequence[NarrowingCheck] = (), allow_destructive: bool = False,
           in_production: bool = False) -> str:
    """The forward migration: header, statements, and the rollback repeated as comments.

    `in_production`: the fix codifies what production already has. The file says so in its header (it
    then counts as applied there), and each statement that creates something does nothing where it exists,
    so deploying it to production is safe.
    """
    results = {check.narrowing: check for check in checks}
    lines = [
        *([f"-- pgparity: {IN_PRODUCTION}"] if in_production else []),
        *comments(f"Fix generated by pgparity {__version__}: makes the database it runs on (local) "
                  "match production."),
        *(comments("Production already has these changes: statements that create an object do nothing where "
                   "it exists, so deploying this file changes nothing there.") if in_production else []),
        *comments(counts(plan, allow_destructive)),
        "-- Rollback: the paired .down.sql file; it is repeated, commented out, at the end of this file.",
        *section("Data checks: rows of this database that would make a statement fail",
                 [check_line(change, narrowing, results, allow_destructive)
                  for change in plan.changes for narrowing in change.forward.narrowing]),
        *destructive_section(plan, "forward", allow_destructive),
        *section("Not fixed by this migration", [f"{change.subject}: {change.forward.note}"
                                                 for change in plan.changes
                                                 if change.forward.note and not change.forward.steps]),
        *section("Possible renames, never applied: if one is right, run it instead of the DROP COLUMN "
                 "and ADD COLUMN below", [rename.statement + ";" for rename in plan.renames]),
        *body(plan, "forward", allow_destructive, in_production),
        "",
        "-- Rollback (the same statements as the .down.sql file):",
        *comments("\n".join(body(plan, "rollback", allow_destructive)).strip()),
    ]
    return "\n".join(lines) + "\n"


def render_rollback(plan: FixPlan, allow_destructive: bool = False) -> str:
    """The .down.sql file: undoes the fix's structure; rows it dropped cannot come back."""
    lines = [
        *comments(f"Rollback of a fix generated by pgparity {__version__}: makes the database match "
                  "local again. It restores structure, not rows the fix dropped."),
        *section("May fail if the data changed since the fix (not checked)",
                 [f"{narrowing.target}: rows {narrowing.condition}"
                  for change in plan.changes for narrowing in change.rollback.narrowing]),
        *destructive_section(plan, "rollback", allow_destructive),
        *body(plan, "rollback", allow_destructive),
    ]
    return "\n".join(lines) + "\n"


def comments(text: str) -> list[str]:
    """Every line commented: names may hold newlines, which must not end a comment early."""
    return [f"-- {line}".rstrip() for line in text.splitlines() or [""]]


def section(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return ["--", f"-- {title}:", *(line for item in items for line in comments(f"  {item}"))]


def counts(plan: FixPlan, allow_destructive: bool) -> str:
    fixing = [change for change in plan.changes if change.difference]
    skipped = sum(1 for change in fixing if change.forward.destructive and not allow_destructive)
    manual = sum(1 for change in fixing if not change.forward.steps and change.forward.note)
    return (f"{len(fixing)} difference(s): {len(fixing) - skipped - manual} fixed below, {skipped} "
            f"destructive (commented out), {manual} not fixable by a migration.")


def live(action: Action, allow_destructive: bool) -> bool:
    return bool(action.steps) and (allow_destructive or not action.destructive)


def rows_text(rows: int) -> str:
    return f"{rows} row" if rows == 1 else f"{rows} rows"


def check_line(change: Change, narrowing: Narrowing, results: dict[Narrowing, NarrowingCheck],
               allow_destructive: bool) -> str:
    found = results.get(narrowing)
    if found is None:
        result = "not checked"
    elif found.rows is None:
        result = f"not counted ({found.reason})"
    else:
        result = rows_text(found.rows)
    suffix = "" if live(change.forward, allow_destructive) else " (its statement is commented out)"
    return f"{narrowing.target}: {result} {narrowing.condition}{suffix}"


def destructive_section(plan: FixPlan, direction: str, allow_destructive: bool) -> list[str]:
    actions = [getattr(change, direction) for change in plan.changes]
    reasons = [action.destructive for action in actions if action.destructive and action.steps]
    title = ("Destructive, applied (allow_destructive)" if allow_destructive
             else "Destructive, commented out below: write the fix with allow_destructive to apply")
    return section(title, reasons)


def ordered(plan: FixPlan, direction: str) -> list[tuple[Change, Action, Step]]:
    """Every step by phase, creations by ascending rank and drops descending; repeats left out."""
    entries = [(change, getattr(change, direction)) for change in plan.changes]
    steps = [(change, action, s) for change, action in entries for s in action.steps]
    steps.sort(key=lambda entry: (entry[2].phase, -entry[0].rank if entry[2].phase.drops else entry[0].rank))
    seen: set[str] = set()
    unique = []
    for entry in steps:
        if entry[2].sql not in seen:
            seen.add(entry[2].sql)
            unique.append(entry)
    return unique


def guarded(s: Step) -> str:
    """The statement, doing nothing where what it creates exists already."""
    block = f"BEGIN\n  {s.sql};\nEXCEPTION WHEN {ALREADY_THERE} THEN\n  RAISE NOTICE 'already there: %', SQLERRM;\nEND"
    return "DO " + dollar_quoted(f"\n{block}\n")


def body(plan: FixPlan, direction: str, allow_destructive: bool, guard: bool = False) -> list[str]:
    lines: list[str] = []
    previous = None
    for change, action, s in ordered(plan, direction):
        commented = bool(action.destructive) and not allow_destructive
        if change is not previous:
            lines += ["", *comments(change.subject if direction == "forward" else f"undo {change.subject}")]
            lines += comments(f"note: {action.note}") if action.note else []
            lines += comments(f"WARNING: destructive: {action.destructive}") if commented else []
            previous = change
        text = guarded(s) if guard and s.phase.creates else s.sql
        lines += comments(text + ";") if commented else [text + ";"]
    return lines


# --- writing -----------------------------------------------------------------------------------

def write_fix(
    directory: Path, plan: FixPlan, checks: Sequence[NarrowingCheck] = (), *,
    allow_destructive: bool = False, force: bool = False, name: str = "fix_local_drift", in_production: bool = False,
) -> tuple[Path, Path]:
    """Writes `NNN_<name>.sql` and its `NNN_<name>.down.sql`, numbered after the highest migration."""
    refuse_unsafe(plan, checks, allow_destructive, force)
    directory.mkdir(parents=True, exist_ok=True)
    forward, down = next_files(directory, name)
    # The rollback first: a forward file is replayed as soon as it exists, its rollback must be there whole.
    write_whole(down, render_rollback(plan, allow_destructive))
    write_whole(forward, render(plan, checks, allow_destructive, in_production))
    return forward, down


def refuse_unsafe(plan: FixPlan, checks: Sequence[NarrowingCheck], allow_destructive: bool, force: bool) -> None:
    """A fix that runs nothing would fail lint; one that would fail on the data helps nobody."""
    if not plan.changes:
        raise FixError("nothing to apply: local already matches production")
    changes = [change for change in plan.changes if live(change.forward, allow_destructive)]
    if not changes:
        skipped = sum(1 for change in plan.changes if change.forward.destructive and change.forward.steps)
        raise FixError(f"nothing to apply: {len(plan.changes)} change(s), of which {skipped} destructive "
                       "(allow_destructive writes those) and the rest not fixable by a migration")
    if force:
        return
    results = {check.narrowing: check for check in checks}
    for narrowing in (n for change in changes for n in change.forward.narrowing if n.query is not None):
        check = results.get(narrowing)
        if check is None:
            raise FixError(f"{narrowing.target}: rows {narrowing.condition} were not counted; run "
                           "check_narrowing on the target database first, or force")
        if check.rows:
            raise FixError(f"{narrowing.target}: {rows_text(check.rows)} {narrowing.condition}, so the fix "
                           "would fail there; fix those rows, or force")
