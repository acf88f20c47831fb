"""Diff: two snapshots compared object by object, as a flat list of differences.

Objects are matched by their key fields (a table by schema and name, a column by name, a
constraint or index by name), never by OID or position, and renames are never guessed. An object
missing on one side is one difference, nothing is reported about its contents; objects inside a
schema missing on one side are covered by that schema's difference. Owners are recorded in the
snapshot but not compared: they say who ran the DDL (a local superuser, production's deploy
role), not what the schema is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, fields

from pgparity.schema.model import Ledger, Model, Snapshot, collections, key_fields, key_of

PGPARITY = "pgparity"

KINDS = (
    "schema", "table", "column", "constraint", "index", "sequence", "view", "materialized_view",
    "function", "trigger", "enum", "domain", "type", "extension", "policy", "privilege", "comment",
    "setting", "version", "migration", "role",
)
DIFFERENT = "different"
MISSING_IN_LOCAL = "missing_in_local"
MISSING_IN_PRODUCTION = "missing_in_production"


@dataclass(frozen=True)
class Difference:
    """One way local differs from production; `attribute` is None when a whole object is missing."""

    kind: str
    object: str
    name: str
    attribute: str | None
    local: str | None
    production: str | None
    status: str

    def to_json(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    """How one collection of objects is reported."""

    kind: str
    label: Callable[[Model], str]  # how the object is named in `object` or `name`
    summary: Callable[[Model], str]  # the value shown when the object is missing on one side
    in_schema: bool = False  # covered by its schema's difference when the schema is missing
    container: str | None = None  # top-level objects reported as `name` inside this object
    fallback: str | None = None  # a field compared only when no other field differs
    ignored: tuple[str, ...] = ("owner",)
    # A snapshot lists only the roles its grants and policies name, so a role absent from one
    # side is unreferenced there, not missing; the grant that names it is the difference.
    missing_reported: bool = True


def qualified(obj: Model) -> str:
    return f"{obj.schema}.{obj.name}"


def by_name(obj: Model) -> str:
    return obj.name


def columns_summary(obj: Model) -> str:
    return "(" + ", ".join(f"{column.name} {column.type}" for column in obj.columns) + ")"


def table_summary(table: Model) -> str:
    if table.partition_bound is not None:
        return f"partition of {table.parents[0]} {table.partition_bound}"
    return columns_summary(table)


def role_summary(role: Model) -> str:
    flags = [f.name for f in fields(role) if f.name != "name" and getattr(role, f.name)]
    return ", ".join(flags) or "no attributes"


def privilege_label(grant: Model) -> str:
    column = f" ({grant.column})" if grant.column else ""
    return f"{grant.privilege}{column} TO {grant.grantee}"


# Keyed by the field name under which the collection appears (in Snapshot or in its parent).
RULES = {
    # The version string names the platform and compiler too; the number is what matters.
    "server": Rule("version", lambda _: "server", lambda v: str(v.version_num), ignored=("version",)),
    "settings": Rule("setting", by_name, lambda s: s.value),
    "roles": Rule("role", by_name, role_summary, missing_reported=False),
    "extensions": Rule("extension", by_name, lambda e: e.version),
    "schemas": Rule("schema", by_name, lambda s: "schema"),
    "tables": Rule("table", qualified, table_summary, in_schema=True),
    "views": Rule("view", qualified, lambda v: v.definition, in_schema=True),
    "materialized_views": Rule("materialized_view", qualified, lambda v: v.definition, in_schema=True),
    "sequences": Rule("sequence", qualified, lambda s: s.type, in_schema=True),
    "functions": Rule(
        "function", lambda f: f"{f.schema}.{f.name}({f.arguments})",
        lambda f: f"returns {f.result}" if f.result else f.kind, in_schema=True,
        fallback="definition",
    ),
    "enums": Rule("enum", qualified, lambda e: ", ".join(e.labels), in_schema=True),
    "domains": Rule("domain", qualified, lambda d: d.type, in_schema=True),
    "types": Rule("type", qualified, columns_summary, in_schema=True),
    "entries": Rule("migration", lambda m: f"{m.version} {m.name}", lambda m: m.checksum),
    "columns": Rule("column", by_name, lambda c: c.type),
    "constraints": Rule("constraint", by_name, lambda c: c.definition, fallback="definition"),
    "indexes": Rule("index", by_name, lambda i: ("UNIQUE " if i.unique else "") + i.definition),
    "triggers": Rule("trigger", by_name, lambda t: t.definition),
    "policies": Rule("policy", by_name, lambda p: f"{p.command} TO {', '.join(p.roles)}"),
    "privileges": Rule(
        "privilege", privilege_label,
        lambda g: "granted with grant option" if g.grantable else "granted",
    ),
}
SUMMARY_LENGTH = 80


def compare(local: Snapshot, production: Snapshot) -> tuple[Difference, ...]:
    """Every difference between the two snapshots, ordered by object, kind, name and attribute."""
    shared = {s.name for s in local.schemas} & {s.name for s in production.schemas}
    found = list(pair(RULES["server"], local.server, production.server, "server", ""))
    for f in fields(Snapshot):
        if f.name not in ("server", "ledger"):
            mine = in_schemas(f.name, getattr(local, f.name), shared)
            theirs = in_schemas(f.name, getattr(production, f.name), shared)
            found.extend(collection(f.name, mine, theirs, owner=None))
    found.extend(ledgers(local.ledger, production.ledger))
    return tuple(sorted(found, key=lambda d: (d.object, d.kind, d.name, d.attribute or "", d.status)))


def ledgers(local: Ledger | None, production: Ledger | None) -> Iterator[Difference]:
    """pgparity's own ledger rows, compared by checksum when both sides keep that ledger; other tools'
    ledgers say where a database stands, which `position` reads, not what its schema is."""
    if local is None or production is None or not local.kind == production.kind == PGPARITY:
        return iter(())
    return collection("entries", local.entries, production.entries, owner=production.table)


def in_schemas(collection_name: str, objects: Iterable[Model], schemas: set[str]) -> list[Model]:
    if not RULES[collection_name].in_schema:
        return list(objects)
    return [obj for obj in objects if obj.schema in schemas]


def collection(
    collection_name: str, local: Iterable[Model], production: Iterable[Model], owner: str | None,
) -> Iterator[Difference]:
    """Matches two collections by key; `owner` is the parent's label (None at the top level)."""
    rule = RULES[collection_name]
    local_by_key = {key_of(obj): obj for obj in local}
    production_by_key = {key_of(obj): obj for obj in production}
    for key in local_by_key.keys() | production_by_key.keys():
        mine, theirs = local_by_key.get(key), production_by_key.get(key)
        obj, name = place(rule, rule.label(mine or theirs), owner)
        if mine is not None and theirs is not None:
            yield from pair(rule, mine, theirs, obj, name)
        elif rule.missing_reported:
            summary = short(rule.summary(mine or theirs))
            yield (
                Difference(rule.kind, obj, name, None, None, summary, MISSING_IN_LOCAL) if mine is None
                else Difference(rule.kind, obj, name, None, summary, None, MISSING_IN_PRODUCTION)
            )


def place(rule: Rule, label: str, owner: str | None) -> tuple[str, str]:
    """The `object` and `name` a difference about this object is reported under."""
    if owner is not None:
        return owner, label
    if rule.container is not None:
        return rule.container, label
    return label, ""


def pair(rule: Rule, mine: Model, theirs: Model, obj: str, name: str) -> Iterator[Difference]:
    """Differences between two matched objects: their fields, comment and child collections."""
    keys, children = key_fields(type(mine)), collections(type(mine))
    changed = False
    for f in fields(mine):
        if f.name in keys or f.name in rule.ignored or f.name == rule.fallback:
            continue
        a, b = getattr(mine, f.name), getattr(theirs, f.name)
        if f.name == "comment":
            yield from comment(a, b, obj, name)
        elif f.name in children:
            yield from collection(f.name, a, b, owner=obj)
        elif a != b:
            changed = True
            yield Difference(rule.kind, obj, name, f.name, text(a), text(b), DIFFERENT)
    if rule.fallback and not changed:
        a, b = getattr(mine, rule.fallback), getattr(theirs, rule.fallback)
        if a != b:
            yield Difference(rule.kind, obj, name, rule.fallback, a, b, DIFFERENT)


def comment(local: str | None, production: str | None, obj: str, name: str) -> Iterator[Difference]:
    if local == production:
        return
    if local is None:
        yield Difference("comment", obj, name, None, None, short(production), MISSING_IN_LOCAL)
    elif production is None:
        yield Difference("comment", obj, name, None, short(local), None, MISSING_IN_PRODUCTION)
    else:
        yield Difference("comment", obj, name, "text", local, production, DIFFERENT)


def text(value: object) -> str | None:
    """A field's value as the string a report shows."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def short(summary: str) -> str:
    summary = " ".join(summary.split())
    return summary if len(summary) <= SUMMARY_LENGTH else summary[: SUMMARY_LENGTH - 1] + "…"
