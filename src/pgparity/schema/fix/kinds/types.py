"""Enums, domains and composite types; a type that cannot change in place is recreated around its columns."""

from __future__ import annotations

from psycopg import sql

from pgparity.identifiers import names
from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_as, dropping, handler_of, with_contents
from pgparity.schema.fix.lookup import Catalog, Sides, label, name_of
from pgparity.schema.fix.phases import Action, Narrowing, Phase, Step
from pgparity.schema.fix.sqltext import literal, qualified, raw, step
from pgparity.schema.model import Column, Model, Snapshot, Table


def build_enum(node: Node, sides: Sides) -> tuple[Step, ...]:
    labels = sql.SQL(", ").join(literal(text) for text in node.obj.labels)
    own = step(Phase.ENUM, "CREATE TYPE {} AS ENUM ({})", qualified(node.obj), labels)
    return with_contents(node, sides, [own])


def alter_enum(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    """Labels are added in place; removing or reordering them needs the type recreated."""
    before, after = source.obj.labels, target.obj.labels
    kept = [text for text in before if text in after]
    removed = [text for text in before if text not in after]
    if removed or kept != [text for text in after if text in before]:
        loss = f"enum {label(source)} loses label(s) {', '.join(removed)}; rows holding them fail the cast"
        recreated = recreate_type(source, target, sides)
        return Action(recreated.steps, destructive=loss if removed else None, note=recreated.note)
    steps = []
    for position, text in enumerate(after):
        if text in before:
            continue
        if position:
            where = sql.SQL(" AFTER {}").format(literal(after[position - 1]))
        else:
            where = sql.SQL(" BEFORE {}").format(literal(kept[0])) if kept else sql.SQL("")
        steps.append(step(Phase.ENUM, "ALTER TYPE {} ADD VALUE {}{}", qualified(target.obj), literal(text), where))
    return Action(tuple(steps), note="a label added here cannot be used by this same transaction")


ASIDE = "__pgparity_old"
NAME_BYTES = 63  # PostgreSQL cuts longer names, which could turn the aside name into the name itself


def aside_name(name: str) -> str:
    while len((name + ASIDE).encode()) > NAME_BYTES:
        name = name[:-1]
    return name + ASIDE


def recreate_type(source: Node, target: Node, sides: Sides) -> Action:
    """Renames the old type aside, creates the new one, recasts the columns using it, drops the old."""
    word = "DOMAIN" if source.kind == "domain" else "TYPE"
    phase = Phase.DOMAIN if source.kind == "domain" else Phase.ENUM
    obj = source.obj
    aside = aside_name(obj.name)
    steps = [step(phase, f"ALTER {word} {{}} RENAME TO {{}}", qualified(obj), sql.Identifier(aside))]
    steps += handler_of(target.kind).made(target, sides)
    users = columns_of_type(sides.source.snapshot, obj)
    for table, column in users:
        steps += recast(phase, table, column, kept_column(sides.target, table, column), source.kind == "enum")
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


def alter_domain(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    d = target.obj
    if attribute == "default":
        if d.default is None:
            return Action((step(Phase.DOMAIN, "ALTER DOMAIN {} DROP DEFAULT", qualified(d)),))
        return Action((step(Phase.DOMAIN, "ALTER DOMAIN {} SET DEFAULT {}", qualified(d), raw(d.default)),))
    if attribute == "nullable":
        if d.nullable:
            return Action((step(Phase.DOMAIN, "ALTER DOMAIN {} DROP NOT NULL", qualified(d)),))
        return Action((step(Phase.DOMAIN, "ALTER DOMAIN {} SET NOT NULL", qualified(d)),),
                      narrowing=(Narrowing(label(target), "holding NULL in columns of this domain", None),))
    return recreate_type(source, target, sides)  # type and collation cannot be altered in place


def build_composite(node: Node, sides: Sides) -> tuple[Step, ...]:
    attributes = sql.SQL(", ").join(attribute_sql(column) for column in node.obj.columns)
    own = [step(Phase.COMPOSITE, "CREATE TYPE {} AS ({})", qualified(node.obj), attributes)]
    return with_contents(node, sides, own, inline=("column",))


def attribute_sql(column: Column) -> sql.Composed:
    collation = sql.SQL(" COLLATE {}").format(raw(column.collation)) if column.collation else sql.SQL("")
    return sql.SQL("{} {}{}").format(sql.Identifier(column.name), raw(column.type), collation)


ENUM = Handler(build_enum, dropping(Phase.DROP_ENUM, "DROP TYPE {}"), alter_enum, comment_on=commented_as("TYPE"))
DOMAIN = Handler(build_domain, dropping(Phase.DROP_DOMAIN, "DROP DOMAIN {}"), alter_domain,
                 comment_on=commented_as("DOMAIN"))
COMPOSITE = Handler(build_composite, dropping(Phase.DROP_COMPOSITE, "DROP TYPE {}"), comment_on=commented_as("TYPE"))
