"""Diff: two snapshots compared object by object, as a flat list of changes from source to target.

Objects are matched by their key fields (a table by schema and name, a column by name, a
constraint or index by name), never by OID or position, and renames are never guessed. An object
missing on one side is one change, nothing is reported about its contents; objects inside a
schema missing on one side are covered by that schema's change. Owners are recorded in the
snapshot but not compared unless a project asks (`[verify] owners = true`): they say who ran the DDL
(a local superuser, production's deploy role), not what the schema is.

Servers of different majors print some catalog text differently (a view's definition, a function's);
between such servers a change to that text is marked `version_only`: shown, never drift to act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace

from pgparity.schema.model import Ledger, Model, Snapshot, collections, key_fields, key_of

PGPARITY = "pgparity"
# Snapshot fields that are not schema: the server's version, the ledger (compared on their own) and production's sizes.
NOT_SCHEMA = ("server", "ledger", "sizes")
OWNER = "owner"  # the field naming who owns an object, compared only when a project asks for it

KINDS = (
    "schema", "table", "column", "constraint", "index", "sequence", "view", "materialized_view",
    "function", "trigger", "enum", "domain", "type", "extension", "policy", "privilege", "schema_privilege",
    "sequence_privilege", "function_privilege", "type_privilege", "default_privilege", "comment",
    "setting", "role_setting", "migration", "role", "event_trigger",
    "statistics", "rule",
    "operator", "operator_family", "operator_class", "text_search_parser", "text_search_template",
    "text_search_dictionary", "text_search_configuration",
    "aggregate", "cast", "collation",
    "publication", "publication_table", "subscription",
    "foreign_data_wrapper", "foreign_server", "user_mapping", "foreign_table", "foreign_data_wrapper_privilege",
    "foreign_server_privilege",
)
# The statuses are the report's words (its JSON values); the names say which side has the object.
DIFFERENT = "different"
ONLY_IN_TARGET = "missing_in_local"
ONLY_IN_SOURCE = "missing_in_production"


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


@dataclass(frozen=True)
class Change:
    """One way the source differs from the target, holding the objects of both sides.

    `kind` is what is reported: the object's kind, or "comment" for its comment, whose objects are then
    the commented ones (both sides have them). `object` and `name` place it as the report does; `source`
    or `target` is None when that side lacks the object; `attribute` is None when a whole object is missing.
    """

    kind: str
    object: str
    name: str
    attribute: str | None
    status: str
    source: Node | None
    target: Node | None
    version_only: bool = False  # text the two sides' majors print differently: not drift

    @property
    def node(self) -> Node:
        return self.source or self.target

    @property
    def difference(self) -> Difference:
        """The report's row: both sides' values as text, a missing object by its summary (whole: a table
        of them shortens it, JSON does not)."""
        return Difference(self.kind, self.object, self.name, self.attribute, *shown(self), self.status,
                          self.version_only)


@dataclass(frozen=True)
class Difference:
    """A change as the report shows it; `source` and `target` are each side's value as text."""

    kind: str
    object: str
    name: str
    attribute: str | None
    source: str | None
    target: str | None
    status: str
    version_only: bool = False


@dataclass(frozen=True)
class Rule:
    """How one collection of objects is reported."""

    kind: str
    label: Callable[[Model], str]  # how the object is named in `object` or `name`
    summary: Callable[[Model], str]  # the value shown when the object is missing on one side
    in_schema: bool = False  # covered by its schema's change when the schema is missing
    container: str | None = None  # top-level objects reported as `name` inside this object
    fallback: str | None = None  # a field compared only when no other field differs
    ignored: tuple[str, ...] = (OWNER,)  # compared only when asked for (`owners`)
    # A snapshot lists only the roles its grants and policies name, so a role absent from one
    # side is unreferenced there, not missing; the grant that names it is the change.
    missing_reported: bool = True
    # Fields whose text depends on the server's major (how it prints a definition, an extension's
    # default version): a change to them between two majors is version-only.
    by_major: tuple[str, ...] = ()
    # Children reported under another kind when their parent is of one of these kinds.
    kind_in: tuple[tuple[str, str], ...] = ()

    def kind_under(self, parent: Node | None) -> str:
        return dict(self.kind_in).get(parent.kind, self.kind) if parent is not None else self.kind


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


def role_setting_label(setting: Model) -> str:
    return f"{setting.name} for role {setting.role}" + (" in this database" if setting.in_database else "")


def publication_summary(publication: Model) -> str:
    """`FOR TABLE public.users, TABLES IN SCHEMA audit`, `FOR ALL TABLES`, or `no tables`."""
    if publication.all_tables:
        return "FOR ALL TABLES"
    named = [f"TABLE {', '.join(map(qualified, publication.members))}"] if publication.members else []
    named += [f"TABLES IN SCHEMA {', '.join(publication.schemas)}"] if publication.schemas else []
    return f"FOR {', '.join(named)}" if named else "no tables"


def publication_table_summary(member: Model) -> str:
    columns = f"({', '.join(member.columns)})" if member.columns else "every column"
    return columns + (f" WHERE {member.row_filter}" if member.row_filter else "")


def privilege_label(grant: Model) -> str:
    column = f" ({grant.column})" if grant.column else ""
    return f"{grant.privilege}{column} TO {grant.grantee}"


def default_privilege_label(entry: Model) -> str:
    """`for role app in schema public: SELECT ON TABLES TO reader`."""
    where = f" in schema {entry.schema}" if entry.schema else ""
    return f"for role {entry.role}{where}: {entry.privilege} ON {entry.objects} TO {entry.grantee}"


def grant_summary(grant: Model) -> str:
    return "granted with grant option" if grant.grantable else "granted"


def default_privilege_summary(entry: Model) -> str:
    return grant_summary(entry) if entry.granted else "revoked"


def aggregate_summary(aggregate: Model) -> str:
    """`state integer by int4pl`, with `ordered-set` or `hypothetical` first for those kinds."""
    kind = "" if aggregate.kind == "normal" else f"{aggregate.kind} "
    return f"{kind}state {aggregate.state_type} by {aggregate.state_function}"


def cast_summary(cast: Model) -> str:
    """`WITH FUNCTION public.f(public.t) AS ASSIGNMENT`, `WITH INOUT`, `WITHOUT FUNCTION AS IMPLICIT`."""
    how = {"function": f"WITH FUNCTION {cast.function}", "inout": "WITH INOUT"}.get(cast.method, "WITHOUT FUNCTION")
    return how + ("" if cast.context == "explicit" else f" AS {cast.context.upper()}")


def collation_summary(collation: Model) -> str:
    """`libc C`, `icu und-u-ks-level2 nondeterministic`."""
    locale = collation.locale if collation.provider != "libc" else collation.lc_collate
    return f"{collation.provider} {locale}" + ("" if collation.deterministic else " nondeterministic")


# Grants on schemas, sequences, functions and types are kinds of their own; on relations, `privilege`.
PRIVILEGE_KINDS = (("schema", "schema_privilege"), ("sequence", "sequence_privilege"),
                   ("function", "function_privilege"), ("enum", "type_privilege"), ("domain", "type_privilege"),
                   ("type", "type_privilege"), ("aggregate", "function_privilege"),
                   ("foreign_data_wrapper", "foreign_data_wrapper_privilege"),
                   ("foreign_server", "foreign_server_privilege"))


def operator_label(operator: Model) -> str:
    """`public.=== (integer, integer)`; a prefix operator's left is NONE."""
    return f"{operator.schema}.{operator.name} ({operator.left}, {operator.right})"


def using(obj: Model) -> str:
    """An operator class or family: `public.int4_rev USING btree`."""
    return f"{obj.schema}.{obj.name} USING {obj.method}"


def wrapper_summary(wrapper: Model) -> str:
    functions = [f"{word} {name}" for word, name in (("HANDLER", wrapper.handler), ("VALIDATOR", wrapper.validator))
                 if name]
    return " ".join(functions) or "no handler"


def foreign_table_summary(table: Model) -> str:
    return f"{columns_summary(table)} SERVER {table.server}"


# Keyed by the field name under which the collection appears (in Snapshot or in its parent).
RULES = {
    "settings": Rule("setting", by_name, lambda s: s.value),
    "role_settings": Rule("role_setting", role_setting_label, lambda s: s.value),
    "roles": Rule("role", by_name, role_summary, missing_reported=False),
    "extensions": Rule("extension", by_name, lambda e: e.version, by_major=("version",)),
    "schemas": Rule("schema", by_name, lambda s: "schema"),
    "tables": Rule("table", qualified, table_summary, in_schema=True),
    "views": Rule("view", qualified, lambda v: v.definition, in_schema=True, by_major=("definition",)),
    "materialized_views": Rule("materialized_view", qualified, lambda v: v.definition, in_schema=True,
                               by_major=("definition",)),
    "sequences": Rule("sequence", qualified, lambda s: s.type, in_schema=True),
    "functions": Rule(
        "function", lambda f: f"{f.schema}.{f.name}({f.arguments})",
        lambda f: f"returns {f.result}" if f.result else f.kind, in_schema=True,
        fallback="definition", by_major=("definition",),
    ),
    "enums": Rule("enum", qualified, lambda e: ", ".join(e.labels), in_schema=True),
    "domains": Rule("domain", qualified, lambda d: d.type, in_schema=True),
    "types": Rule("type", qualified, columns_summary, in_schema=True),
    "event_triggers": Rule("event_trigger", by_name, lambda e: f"ON {e.event} EXECUTE FUNCTION {e.function}()"),
    "foreign_data_wrappers": Rule("foreign_data_wrapper", by_name, wrapper_summary),
    "foreign_servers": Rule("foreign_server", by_name, lambda s: f"FOREIGN DATA WRAPPER {s.wrapper}"),
    "user_mappings": Rule("user_mapping", lambda m: f"for {m.user} server {m.server}",
                          lambda m: ", ".join(m.options) or "no options"),
    "foreign_tables": Rule("foreign_table", qualified, foreign_table_summary, in_schema=True),
    "entries": Rule("migration", lambda m: f"{m.version} {m.name}", lambda m: m.checksum),
    "columns": Rule("column", by_name, lambda c: c.type),
    "constraints": Rule("constraint", by_name, lambda c: c.definition, fallback="definition"),
    "indexes": Rule("index", by_name, lambda i: ("UNIQUE " if i.unique else "") + i.definition),
    "triggers": Rule("trigger", by_name, lambda t: t.definition),
    "policies": Rule("policy", by_name, lambda p: f"{p.command} TO {', '.join(p.roles)}"),
    "privileges": Rule("privilege", privilege_label, grant_summary, kind_in=PRIVILEGE_KINDS),
    "default_privileges": Rule("default_privilege", default_privilege_label, default_privilege_summary),
    "statistics": Rule("statistics", qualified, lambda s: s.definition, fallback="definition",
                       by_major=("definition",)),
    "rules": Rule("rule", by_name, lambda r: r.definition, by_major=("definition",)),
    "operators": Rule("operator", operator_label, lambda o: f"FUNCTION = {o.function}", in_schema=True),
    "operator_families": Rule("operator_family", using, lambda f: "operator family", in_schema=True),
    "operator_classes": Rule("operator_class", using,
                             lambda c: ("DEFAULT " if c.default else "") + f"FOR TYPE {c.type}", in_schema=True),
    "text_search_parsers": Rule("text_search_parser", qualified, lambda p: f"GETTOKEN = {p.gettoken}",
                                in_schema=True),
    "text_search_templates": Rule("text_search_template", qualified, lambda t: f"LEXIZE = {t.lexize}",
                                  in_schema=True),
    "text_search_dictionaries": Rule("text_search_dictionary", qualified, lambda d: f"TEMPLATE = {d.template}",
                                     in_schema=True),
    "text_search_configurations": Rule("text_search_configuration", qualified, lambda c: f"PARSER = {c.parser}",
                                       in_schema=True),
    "aggregates": Rule("aggregate", lambda a: f"{a.schema}.{a.name}({a.arguments})", aggregate_summary, in_schema=True),
    "casts": Rule("cast", lambda c: f"({c.source} AS {c.target})", cast_summary),
    "collations": Rule("collation", qualified, collation_summary, in_schema=True),
    "publications": Rule("publication", by_name, publication_summary),
    "members": Rule("publication_table", qualified, publication_table_summary),
    # PostgreSQL 18 streams in parallel by default, where 17 did not stream.
    "subscriptions": Rule("subscription", by_name, lambda s: f"PUBLICATION {', '.join(s.publications)}",
                          by_major=("streaming",)),
}
RULES_BY_KIND = {kind: rule for rule in RULES.values() for kind in (rule.kind, *dict(rule.kind_in).values())}
SUMMARY_LENGTH = 80


def compare(source: Snapshot, target: Snapshot, owners: bool = False) -> tuple[Change, ...]:
    """Every change from source to target, ordered by object, kind, name and attribute; with `owners`
    (`[verify] owners = true`), who owns each object too.

    The server's version is not schema: verify's `ServerCheck` compares it, and no fix acts on it.
    """
    shared = {s.name for s in source.schemas} & {s.name for s in target.schemas}
    found: list[Change] = []
    for f in fields(Snapshot):
        if f.name not in NOT_SCHEMA:
            found.extend(collection(f.name, in_schemas(f.name, getattr(source, f.name), shared),
                                    in_schemas(f.name, getattr(target, f.name), shared), owners=owners))
    found.extend(ledgers(source.ledger, target.ledger))
    if source.server.major != target.server.major:
        majors = sorted((source.server.major, target.server.major))
        found = [replace(c, version_only=True) if printed_by_major(c) or initdb_by_major(c, *majors) else c
                 for c in found]
    return tuple(sorted(found, key=lambda c: (c.object, c.kind, c.name, c.attribute or "", c.status)))


# What initdb itself makes differently from a major on: (kind, object, name) -> that major. PostgreSQL 15
# stopped granting CREATE on the public schema to PUBLIC.
INITDB_SINCE = {("schema_privilege", "public", "CREATE TO PUBLIC"): 15}


def initdb_by_major(change: Change, older: int, newer: int) -> bool:
    since = INITDB_SINCE.get((change.kind, change.object, change.name))
    return since is not None and older < since <= newer


def printed_by_major(change: Change) -> bool:
    rule = RULES_BY_KIND.get(change.kind)
    return change.status == DIFFERENT and rule is not None and change.attribute in rule.by_major


def ledgers(source: Ledger | None, target: Ledger | None) -> Iterator[Change]:
    """pgparity's own ledger rows, compared by checksum when both sides keep that ledger; other tools'
    ledgers say where a database stands, which `position` reads, not what its schema is."""
    if source is None or target is None or not source.kind == target.kind == PGPARITY:
        return iter(())
    return collection("entries", source.entries, target.entries, owner=target.table)


def in_schemas(collection_name: str, objects: Iterable[Model], schemas: set[str]) -> list[Model]:
    if not RULES[collection_name].in_schema:
        return list(objects)
    return [obj for obj in objects if obj.schema in schemas]


def collection(
    collection_name: str, source: Iterable[Model], target: Iterable[Model], owner: str | None = None,
    parents: tuple[Node | None, Node | None] = (None, None), owners: bool = False,
) -> Iterator[Change]:
    """Matches two collections by key; `owner` is the parents' label (None at the top level)."""
    rule = RULES[collection_name]
    source_by_key = {key_of(obj): obj for obj in source}
    target_by_key = {key_of(obj): obj for obj in target}
    kinds = [rule.kind_under(parent) for parent in parents]
    for key in source_by_key.keys() | target_by_key.keys():
        found = source_by_key.get(key), target_by_key.get(key)
        obj, name = place(rule, rule.label(found[0] or found[1]), owner)
        source_node, target_node = (None if o is None else Node(kind, o, parent)
                                    for o, parent, kind in zip(found, parents, kinds))
        if source_node is not None and target_node is not None:
            yield from pair(rule, source_node, target_node, obj, name, owners)
        elif rule.missing_reported:
            status = ONLY_IN_TARGET if source_node is None else ONLY_IN_SOURCE
            node = source_node or target_node
            yield Change(node.kind, obj, name, None, status, source_node, target_node)


def place(rule: Rule, label: str, owner: str | None) -> tuple[str, str]:
    """The `object` and `name` a change to this object is reported under."""
    if owner is not None:
        return owner, label
    if rule.container is not None:
        return rule.container, label
    return label, ""


def pair(rule: Rule, source: Node, target: Node, obj: str, name: str, owners: bool = False) -> Iterator[Change]:
    """Changes between two matched objects: their fields, comment and child collections."""
    model = type(source.obj)
    keys, children = key_fields(model), collections(model)
    ignored = tuple(f for f in rule.ignored if not (owners and f == OWNER))
    changed = False
    for f in fields(model):
        if f.name in keys or f.name in ignored or f.name == rule.fallback:
            continue
        a, b = getattr(source.obj, f.name), getattr(target.obj, f.name)
        if f.name == "comment":
            yield from comment(source, target, obj, name)
        elif f.name in children:
            yield from collection(f.name, a, b, obj, (source, target), owners)
        elif a != b:
            changed = True
            yield Change(source.kind, obj, name, f.name, DIFFERENT, source, target)
    if rule.fallback and not changed and getattr(source.obj, rule.fallback) != getattr(target.obj, rule.fallback):
        yield Change(source.kind, obj, name, rule.fallback, DIFFERENT, source, target)


def comment(source: Node, target: Node, obj: str, name: str) -> Iterator[Change]:
    a, b = source.obj.comment, target.obj.comment
    if a == b:
        return
    status = ONLY_IN_TARGET if a is None else ONLY_IN_SOURCE if b is None else DIFFERENT
    yield Change("comment", obj, name, "text" if status == DIFFERENT else None, status, source, target)


def shown(change: Change) -> tuple[str | None, str | None]:
    """Each side's value as the report shows it: a missing object or comment by its summary, on one line."""
    if change.kind == "comment":
        values = change.source.obj.comment, change.target.obj.comment
        return values if change.status == DIFFERENT else tuple(v and one_line(v) for v in values)
    if change.status != DIFFERENT:
        summary = one_line(RULES_BY_KIND[change.kind].summary(change.node.obj))
        return (None, summary) if change.source is None else (summary, None)
    return tuple(text(getattr(node.obj, change.attribute)) for node in (change.source, change.target))


def label(node: Node) -> str:
    """How diff names the object among its siblings: `public.users`, `email`, `SELECT TO reader`."""
    return RULES_BY_KIND[node.kind].label(node.obj)


def children(node: Node) -> Iterator[Node]:
    """The objects `node` holds, each with its kind: columns, constraints, ..., privileges."""
    for name in collections(type(node.obj)):
        kind = RULES[name].kind_under(node)
        for child in getattr(node.obj, name):
            yield Node(kind, child, node)


def in_schema(snapshot: Snapshot, schema: str) -> Iterator[Node]:
    """The objects in `schema` that its change stands for when the schema is missing on one side."""
    return (node for node in top_level(snapshot)
            if RULES_BY_KIND[node.kind].in_schema and node.obj.schema == schema)


def top_level(snapshot: Snapshot) -> Iterator[Node]:
    """Every object directly in the snapshot (not its ledger or server), with its kind."""
    for f in fields(Snapshot):
        if f.name not in NOT_SCHEMA:
            yield from (Node(RULES[f.name].kind, obj) for obj in getattr(snapshot, f.name))


def text(value: object) -> str | None:
    """A field's value as the string a report shows."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def one_line(summary: str) -> str:
    return " ".join(summary.split())


def short(summary: str) -> str:
    """A value shortened for a table or a fix file's comment, where a long definition would drown the rest."""
    summary = one_line(summary)
    return summary if len(summary) <= SUMMARY_LENGTH else summary[: SUMMARY_LENGTH - 1] + "…"
