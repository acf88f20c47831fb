"""The two snapshots as lookups: relations by name, what each view reads, how deep each relation sits."""

from __future__ import annotations

from dataclasses import dataclass

from pgparity.identifiers import names
from pgparity.schema import diff
from pgparity.schema.diff import Node
from pgparity.schema.fix.sqltext import named_relations
from pgparity.schema.model import Model, Snapshot

VIEW_KINDS = ("view", "materialized_view")
RELATION_KINDS = ("table", *VIEW_KINDS)
Name = tuple[str, str]  # schema, name


@dataclass(frozen=True, eq=False)
class Catalog:
    """One snapshot with its relations found by name."""

    snapshot: Snapshot
    relations: dict[Name, Node]  # tables, views and materialized views
    references: dict[Name, frozenset[Name]]  # the names each view's definition mentions
    ranks: dict[Name, int]


@dataclass(frozen=True)
class Sides:
    """One direction of a fix: a rollback swaps the two."""

    source: Catalog  # the database the statements run on
    target: Catalog  # the schema they bring it to
    owners: bool = False  # owners are compared: each object made is given the target's owner

    def swapped(self) -> Sides:
        return Sides(self.target, self.source, self.owners)


def catalog(snapshot: Snapshot) -> Catalog:
    relations = {name_of(n.obj): n for n in diff.top_level(snapshot) if n.kind in RELATION_KINDS}
    references = {name: named_relations(n.obj.definition) for name, n in relations.items() if n.kind in VIEW_KINDS}
    return Catalog(snapshot, relations, references, depths(relations, references))


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


def name_of(obj: Model) -> Name:
    return obj.schema, obj.name


def rank_of(node: Node, sides: Sides) -> int:
    name = name_of(node.obj)
    return max(sides.source.ranks.get(name, 0), sides.target.ranks.get(name, 0))


def label(node: Node) -> str:
    """How headers and warnings name an object: public.users, public.users.email, ..."""
    parent = node.parent
    if node.kind == "column":
        return f"{diff.qualified(parent.obj)}.{node.obj.name}"
    if parent is not None:
        return f"{diff.qualified(parent.obj)} {node.kind} {diff.label(node)}"
    return diff.label(node)
