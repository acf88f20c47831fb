"""Planning: each diff Change turned into a Fix, both directions, plus the views rebuilt around them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from psycopg import sql

from pgparity.schema.diff import ONLY_IN_SOURCE, ONLY_IN_TARGET, Change, Difference, Node, short
from pgparity.schema.fix.handler import comment_step
from pgparity.schema.fix.handlers import HANDLERS
from pgparity.schema.fix.lookup import RELATION_KINDS, VIEW_KINDS, Name, Sides, catalog, name_of, rank_of
from pgparity.schema.fix.phases import Action, Narrowing
from pgparity.schema.fix.sqltext import statement
from pgparity.schema.model import Snapshot


@dataclass(frozen=True)
class Words:
    """How a fix names its two sides to a person: the database it runs on, the schema it brings it to."""

    source: str  # "local": "only in local", "makes the database it runs on (local) match production"
    target: str  # "production"
    source_place: str  # "locally": "TimeZone is UTC locally and Europe/Berlin in production"
    target_place: str  # "in production"


@dataclass(frozen=True)
class Fix:
    """What fixes one change; `change` is None for a view rebuilt around a column change."""

    change: Change | None
    subject: str
    forward: Action
    rollback: Action
    rank: int = 0  # depth among tables (partitions) or views: creations ascend, drops descend


@dataclass(frozen=True)
class Rename:
    """A column only the source has and one of the same type only the target has, in one table."""

    schema: str
    table: str
    source: str
    target: str

    @property
    def statement(self) -> str:
        return statement("ALTER TABLE {} RENAME COLUMN {} TO {}", sql.Identifier(self.schema, self.table),
                         sql.Identifier(self.source), sql.Identifier(self.target))


@dataclass(frozen=True)
class FixPlan:
    fixes: tuple[Fix, ...]
    renames: tuple[Rename, ...]
    words: Words

    @property
    def narrowings(self) -> tuple[Narrowing, ...]:
        return tuple(narrowing for fix in self.fixes for narrowing in fix.forward.narrowing)


# Changes no migration fixes: they are explained in the header instead.
NOTES: dict[str, Callable[[Difference, Words], str]] = {
    "setting": lambda d, w: (f"{d.object} is {shown_value(d.source)} {w.source_place} and {shown_value(d.target)} "
                             f"{w.target_place}: a server or database setting, mirrored by the container's "
                             "configuration (PGPARITY_* settings) or set with ALTER DATABASE … SET, not by a migration"),
    "role_setting": lambda d, w: (f"{d.object} is {shown_value(d.source)} {w.source_place} and "
                                  f"{shown_value(d.target)} {w.target_place}; roles are cluster-wide, set it with "
                                  "ALTER ROLE … SET by hand"),
    "migration": lambda d, w: (f"ledger row {d.name}: ledger rows record which files ran; replay them with "
                               "db.sync or db.migrate, or accept edited files with db.repair"),
    "role": lambda d, w: (f"role {d.object}: {d.attribute} is {d.source} {w.source_place} and {d.target} "
                          f"{w.target_place}; roles are cluster-wide and hold secrets, change them with ALTER ROLE "
                          "by hand"),
}


def shown_value(value: str | None) -> str:
    return "not set" if value is None else value


def version_only(d: Difference) -> str:
    return (f"the two servers run different PostgreSQL majors, which print the {d.attribute} differently: not "
            "drift, nothing to fix (compare on one major to see a real change)")


def plan_fix(changes: Sequence[Change], source: Snapshot, target: Snapshot, words: Words,
             owners: bool = False) -> FixPlan:
    """The fixes that make `source` match `target`, told in `words`; pure logic, no database. With `owners`
    (the changes were compared with them), each object made gets the owner its side gives it."""
    forward = Sides(catalog(source), catalog(target), owners)
    backward = forward.swapped()
    rebuilt = rebuilt_views(changes, forward)
    fixes = [fix_for(change, forward, backward, rebuilt, words) for change in changes]
    own = {view_name(change) for change in changes if is_definition(change)}
    fixes += [rebuild(name, forward, backward) for name in sorted(rebuilt - own)]
    return FixPlan(tuple(fixes), renames(changes), words)


# Column changes after which a view reading the column must be dropped and created again.
REBUILDING = ("type", "collation", "generated", "virtual")


def is_definition(change: Change) -> bool:
    return change.kind in VIEW_KINDS and change.attribute == "definition"


def view_name(change: Change) -> Name | None:
    top = change.node.top
    return name_of(top.obj) if top.kind in VIEW_KINDS else None


def rebuilt_views(changes: Sequence[Change], sides: Sides) -> set[Name]:
    """Views present on both sides that are dropped and created again: a changed definition, a
    column they read changing type, or a view they read being rebuilt."""
    both = sides.source.references.keys() & sides.target.references.keys()
    reads = {name: sides.source.references[name] | sides.target.references[name] for name in both}
    rebuilt = {view_name(change) for change in changes if is_definition(change)}
    rebuilt |= {name for name in both for change in changes
                if change.kind == "column" and change.attribute in REBUILDING
                and change.node.parent.kind in ("table", "foreign_table")
                and name_of(change.node.parent.obj) in reads[name]}
    while grown := {name for name in both - rebuilt if reads[name] & rebuilt}:
        rebuilt |= grown
    return rebuilt


def fix_for(change: Change, forward: Sides, backward: Sides, rebuilt: set[Name], words: Words) -> Fix:
    subject = describe(change, words)
    view = view_name(change)
    if view in rebuilt and not is_definition(change):
        return Fix(change, f"{subject}: done by rebuilding {'.'.join(view)}", Action(), Action())
    if change.version_only:
        return Fix(change, subject, Action(note=version_only(change.difference)), Action())
    if change.kind in NOTES:
        return Fix(change, subject, Action(note=NOTES[change.kind](change.difference, words)), Action())
    top = change.node.top
    rank = rank_of(top, forward) if top.kind in RELATION_KINDS else 0
    forward_action = act(change, change.source, change.target, forward)
    return Fix(change, subject, forward_action, act(change, change.target, change.source, backward), rank)


def act(change: Change, source: Node | None, target: Node | None, sides: Sides) -> Action:
    """One direction: the statements turning `source` (where they run) into `target`."""
    if change.kind == "comment":
        return Action((comment_step(target, target.obj.comment),))
    handler = HANDLERS[change.kind]
    if source is None:
        return handler.create(target, sides)
    if target is None:
        return handler.drop(source, sides)
    return handler.change(source, target, change.attribute, sides)


def rebuild(name: Name, forward: Sides, backward: Sides) -> Fix:
    source, target = forward.source.relations[name], forward.target.relations[name]
    handler = HANDLERS[source.kind]
    subject = f"{source.kind.replace('_', ' ')} {'.'.join(name)}: rebuilt around a change to what it reads"
    return Fix(None, subject, handler.replace(source, target, forward), handler.replace(target, source, backward),
               rank_of(source, forward))


def renames(changes: Sequence[Change]) -> tuple[Rename, ...]:
    """Same table, same type, one column only the source has and one only the target has."""
    def columns(status: str) -> list[Node]:
        return [change.node for change in changes
                if change.kind == "column" and change.status == status and change.node.parent.kind == "table"]
    return tuple(
        Rename(gone.parent.obj.schema, gone.parent.obj.name, gone.obj.name, added.obj.name)
        for gone in columns(ONLY_IN_SOURCE) for added in columns(ONLY_IN_TARGET)
        if name_of(gone.parent.obj) == name_of(added.parent.obj) and gone.obj.type == added.obj.type
    )


def describe(change: Change, words: Words) -> str:
    d = change.difference
    kind = d.kind.replace("_", " ")
    where = f"{d.object}.{d.name}" if d.kind == "column" else " ".join(part for part in (d.object, d.name) if part)
    if d.status == ONLY_IN_TARGET:
        return f"{kind} {where}: only in {words.target}"
    if d.status == ONLY_IN_SOURCE:
        return f"{kind} {where}: only in {words.source}"
    if d.attribute in ("definition", "text"):
        return f"{kind} {where}: {d.attribute} differs"
    return f"{kind} {where}: {d.attribute} {short(str(d.source))} → {short(str(d.target))}"
