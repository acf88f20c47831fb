"""Tables, their columns, and the attributes of composite types (columns of a type)."""

from __future__ import annotations

from psycopg import sql

from pgparity.schema import diff
from pgparity.schema.diff import Node
from pgparity.schema.fix.handler import Handler, commented_as, dropping, with_contents
from pgparity.schema.fix.kinds.options import (
    changed_generic_options,
    changed_options,
    option_list,
    parsed,
    with_options,
)
from pgparity.schema.fix.kinds.types import attribute_sql
from pgparity.schema.fix.lookup import Sides, label
from pgparity.schema.fix.narrowing import Conversion, converted
from pgparity.schema.fix.phases import Action, Narrowing, Phase, Step
from pgparity.schema.fix.sqltext import dollar_quoted, literal, qualified, raw, rows_of, statement, step
from pgparity.schema.model import Column, Table


def column_sql(c: Column) -> sql.Composed:
    parts = [sql.Identifier(c.name), raw(c.type)]
    parts += [sql.SQL("OPTIONS ({})").format(option_list(parsed(c.options)))] if c.options else []
    parts += [sql.SQL("COLLATE {}").format(raw(c.collation))] if c.collation else []
    stored = "VIRTUAL" if c.virtual else "STORED"
    parts += [sql.SQL("GENERATED ALWAYS AS ({}) " + stored).format(raw(c.generated))] if c.generated else []
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
    body += with_options(t.options)
    own = [Step(Phase.TABLE, (head + body).as_string(None))]
    own += [flag_step(t, attribute, True) for attribute in ("rls_enabled", "rls_forced") if getattr(t, attribute)]
    own += [replica_identity_step(t)] if t.replica_identity != "default" else []
    own += [s for column in diff.children(node) if column.kind == "column" for s in column_settings(column)]
    return with_contents(node, sides, own, inline=("column",))


FLAGS = {
    "unlogged": ("SET UNLOGGED", "SET LOGGED"),
    "rls_enabled": ("ENABLE ROW LEVEL SECURITY", "DISABLE ROW LEVEL SECURITY"),
    "rls_forced": ("FORCE ROW LEVEL SECURITY", "NO FORCE ROW LEVEL SECURITY"),
}


def flag_step(table: Table, attribute: str, value: bool) -> Step:
    on, off = FLAGS[attribute]
    return step(Phase.ALTER_TABLE, "ALTER TABLE {} " + (on if value else off), qualified(table))


def replica_identity_step(table: Table) -> Step:
    """REPLICA IDENTITY DEFAULT, FULL, NOTHING or USING INDEX, once the index is there."""
    identity = table.replica_identity
    if identity.startswith("index "):
        return step(Phase.REPLICA_IDENTITY, "ALTER TABLE {} REPLICA IDENTITY USING INDEX {}", qualified(table),
                    sql.Identifier(identity.removeprefix("index ")))
    return step(Phase.REPLICA_IDENTITY, f"ALTER TABLE {{}} REPLICA IDENTITY {identity.upper()}", qualified(table))


def alter_table(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    t = target.obj
    if attribute in FLAGS:
        return Action((flag_step(t, attribute, getattr(t, attribute)),))
    if attribute == "replica_identity":
        return Action((replica_identity_step(t),))
    if attribute == "options":
        return Action(changed_options("TABLE", qualified(t), source.obj.options, t.options))
    partitioned = source.obj.partition_bound is not None or t.partition_bound is not None
    if attribute == "partition_bound" and source.obj.parents == t.parents:
        parent = raw(t.parents[0])
        return Action((
            step(Phase.ALTER_TABLE, "ALTER TABLE {} DETACH PARTITION {}", parent, qualified(t)),
            step(Phase.ALTER_TABLE, "ALTER TABLE {} ATTACH PARTITION {} {}", parent, qualified(t),
                 raw(t.partition_bound)),
        ), narrowing=(Narrowing(label(target), f"outside the new bound {t.partition_bound}", None),))
    if attribute == "parents" and not partitioned:
        gone = [step(Phase.ALTER_TABLE, "ALTER TABLE {} NO INHERIT {}", qualified(t), raw(p))
                for p in source.obj.parents if p not in t.parents]
        added = [step(Phase.ALTER_TABLE, "ALTER TABLE {} INHERIT {}", qualified(t), raw(p))
                 for p in t.parents if p not in source.obj.parents]
        return Action(tuple(gone + added))
    return Action(note=f"{attribute.replace('_', ' ')} cannot be changed in place: recreate {label(target)} "
                  "and move its rows by hand")


def table_data(node: Node, sides: Sides) -> str:
    return f"drops table {label(node)} and its rows"


# Columns of tables and foreign tables, and attributes of composite types.

def altered(node: Node) -> str:
    """What ALTER names a column's relation by: TABLE, or FOREIGN TABLE."""
    return "FOREIGN TABLE" if node.parent.kind == "foreign_table" else "TABLE"


def build_column(node: Node, sides: Sides) -> tuple[Step, ...]:
    parent, c = node.parent.obj, node.obj
    if node.parent.kind == "type":
        own = step(Phase.COMPOSITE, "ALTER TYPE {} ADD ATTRIBUTE {}", qualified(parent), attribute_sql(c))
    else:
        own = step(Phase.ADD_COLUMN, f"ALTER {altered(node)} {{}} ADD COLUMN {{}}", qualified(parent), column_sql(c))
    return with_contents(node, sides, [own, *column_settings(node)])


def remove_column(node: Node, sides: Sides) -> tuple[Step, ...]:
    template = ("ALTER TYPE {} DROP ATTRIBUTE {}" if node.parent.kind == "type"
                else f"ALTER {altered(node)} {{}} DROP COLUMN {{}}")
    return (step(Phase.DROP_COLUMN, template, qualified(node.parent.obj), sql.Identifier(node.obj.name)),)


def column_data(node: Node, sides: Sides) -> str | None:
    if node.parent.kind == "foreign_table":
        return None  # its data is the foreign server's
    return f"drops column {label(node)} and its data"


def column_narrowing(node: Node, sides: Sides) -> tuple[Narrowing, ...]:
    c = node.obj
    if node.parent.kind != "table" or c.nullable or c.default is not None or c.identity or c.generated:
        return ()  # a foreign table's rows are its server's
    return (Narrowing(label(node), "that would hold NULL in this new NOT NULL column without a default",
                      statement("SELECT count(*) FROM {}", rows_of(node.parent.obj))),)


def alter_column(source: Node, target: Node, attribute: str, sides: Sides) -> Action:
    if target.parent.kind == "type":
        return alter_attribute(source, target)
    return COLUMN_CHANGES[attribute](source, target, sides)


def alter_clause(node: Node, phase: Phase, clause: str, *args: sql.Composable) -> Step:
    return step(phase, f"ALTER {altered(node)} {{}} ALTER COLUMN {{}} " + clause, qualified(node.parent.obj),
                sql.Identifier(node.obj.name), *args)


def column_type(source: Node, target: Node, sides: Sides) -> Action:
    """Without USING, PostgreSQL converts as by assignment: a too-long value fails, never truncates."""
    c = target.obj
    conversion = converted(source.obj.type, c.type, sql.Identifier(c.name))
    collation = sql.SQL(" COLLATE {}").format(raw(c.collation)) if c.collation else sql.SQL("")
    using = sql.SQL("")
    if conversion.using and target.parent.kind == "table":  # a foreign table's type is only a declaration
        using = sql.SQL(" USING {}::{}").format(sql.Identifier(c.name), raw(c.type))
    steps = [alter_clause(target, Phase.COLUMN_TYPE, "TYPE {}{}{}", raw(c.type), collation, using)]
    if source.obj.default is not None:  # the old default may not convert: set it again afterwards
        steps.insert(0, alter_clause(target, Phase.DROP_DEFAULT, "DROP DEFAULT"))
        if source.obj.default == c.default:
            steps.append(alter_clause(target, Phase.COLUMN_DEFAULT, "SET DEFAULT {}", raw(c.default)))
    steps += [storage_step(target)] if c.storage is not None else []  # a new type brings its own storage
    return Action(tuple(steps), destructive=conversion.loss and f"{label(target)}: {conversion.loss}",
                  narrowing=failing_rows(target, conversion))


def failing_rows(node: Node, conversion: Conversion) -> tuple[Narrowing, ...]:
    if conversion.failing is None or node.parent.kind != "table":
        return ()  # a foreign table's rows are its server's
    condition, predicate = conversion.failing
    query = statement("SELECT count(*) FROM {} WHERE {}", rows_of(node.parent.obj), predicate)
    return (Narrowing(label(node), condition, query),)


def column_collation(source: Node, target: Node, sides: Sides) -> Action:
    c = target.obj
    collation = raw(c.collation) if c.collation else sql.Identifier("default")
    return Action((alter_clause(target, Phase.COLUMN_TYPE, "TYPE {} COLLATE {}", raw(c.type), collation),))


def column_nullable(source: Node, target: Node, sides: Sides) -> Action:
    if target.obj.nullable:
        return Action((alter_clause(target, Phase.COLUMN_NULL, "DROP NOT NULL"),))
    set_not_null = alter_clause(target, Phase.COLUMN_NULL, "SET NOT NULL")
    if target.parent.kind != "table":
        return Action((set_not_null,))  # a foreign table's rows are its server's
    check = statement("SELECT count(*) FROM {} WHERE {} IS NULL", rows_of(target.parent.obj),
                      sql.Identifier(target.obj.name))
    return Action((set_not_null,), narrowing=(Narrowing(label(target), "holding NULL, which NOT NULL refuses", check),))


def column_default(source: Node, target: Node, sides: Sides) -> Action:
    if target.obj.default is None:
        return Action((alter_clause(target, Phase.DROP_DEFAULT, "DROP DEFAULT"),))
    return Action((alter_clause(target, Phase.COLUMN_DEFAULT, "SET DEFAULT {}", raw(target.obj.default)),))


def column_identity(source: Node, target: Node, sides: Sides) -> Action:
    identity = target.obj.identity
    if identity is None:
        return Action((alter_clause(target, Phase.DROP_DEFAULT, "DROP IDENTITY"),))
    if source.obj.identity is not None:
        return Action((alter_clause(target, Phase.COLUMN_DEFAULT, f"SET GENERATED {identity.upper()}"),))
    table, name = qualified(target.parent.obj), sql.Identifier(target.obj.name)
    # The new sequence starts at 1: move it past the values the rows already hold.
    restart = step(Phase.COLUMN_DEFAULT,
                   "SELECT setval(pg_get_serial_sequence({}, {}), coalesce(max({}), 0) + 1, false) FROM {}",
                   literal(table.as_string(None)), literal(target.obj.name), name, table)
    add = alter_clause(target, Phase.COLUMN_DEFAULT, f"ADD GENERATED {identity.upper()} AS IDENTITY")
    return Action((add, restart))


def column_generated(source: Node, target: Node, sides: Sides) -> Action:
    """A stored expression can only be dropped; a new one, or a virtual column's change, needs the column
    dropped and re-added."""
    if target.obj.generated is None and not source.obj.virtual:
        return Action((alter_clause(target, Phase.DROP_DEFAULT, "DROP EXPRESSION"),))
    why = ("replaces its values by the generated ones" if source.obj.generated is None
           else "drops and re-adds it; indexes, constraints and views on it go too")
    steps = remove_column(source, sides) + build_column(target, sides)
    return Action(steps, destructive=f"{label(target)}: {why}")


# Storage, compression and statistics target: each kept only where set, so a fresh column has none.
# Storage goes back to its type's own (SET STORAGE DEFAULT is 16's), read where the fix runs.
TYPE_STORAGE = """
BEGIN EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STORAGE %s', {table}, {column},
    (SELECT CASE t.typstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = {table}::regclass AND a.attname = {column})); END"""


def storage_step(node: Node) -> Step:
    storage = node.obj.storage
    if storage is not None:
        return alter_clause(node, Phase.COLUMN_STORAGE, f"SET STORAGE {storage.upper()}")
    table = literal(qualified(node.parent.obj).as_string(None))
    body = sql.SQL(TYPE_STORAGE).format(table=table, column=literal(node.obj.name)).as_string(None)
    return Step(Phase.COLUMN_STORAGE, "DO " + dollar_quoted(body))


def compression_step(node: Node) -> Step:
    return alter_clause(node, Phase.COLUMN_STORAGE, f"SET COMPRESSION {node.obj.compression or 'default'}")


def statistics_step(node: Node) -> Step:
    target = node.obj.statistics
    return alter_clause(node, Phase.COLUMN_STORAGE, "SET STATISTICS {}", literal(-1 if target is None else target))


SETTINGS = {"storage": storage_step, "compression": compression_step, "statistics": statistics_step}


def column_settings(node: Node) -> tuple[Step, ...]:
    """What a new column sets after it is added: only the settings it has."""
    if node.parent.kind == "type":
        return ()
    return tuple(make(node) for attribute, make in SETTINGS.items() if getattr(node.obj, attribute) is not None)


def column_options(source: Node, target: Node, sides: Sides) -> Action:
    """A foreign table column's own OPTIONS, set, added and dropped in place."""
    changed = changed_generic_options(source.obj.options, target.obj.options)
    return Action((alter_clause(target, Phase.ALTER_TABLE, "{}", changed),))


def column_setting(attribute: str):
    return lambda source, target, sides: Action((SETTINGS[attribute](target),))


COLUMN_CHANGES = {
    "type": column_type, "collation": column_collation, "nullable": column_nullable,
    "default": column_default, "identity": column_identity, "generated": column_generated,
    "virtual": column_generated, **{attribute: column_setting(attribute) for attribute in SETTINGS},
    "options": column_options,
}


def alter_attribute(source: Node, target: Node) -> Action:
    """Composite attributes have only a type and a collation; ALTER ATTRIBUTE takes no USING."""
    c = target.obj
    conversion = converted(source.obj.type, c.type, sql.Identifier(c.name))
    collation = sql.SQL(" COLLATE {}").format(raw(c.collation)) if c.collation else sql.SQL("")
    alter = step(Phase.COMPOSITE, "ALTER TYPE {} ALTER ATTRIBUTE {} TYPE {}{}", qualified(target.parent.obj),
                 sql.Identifier(c.name), raw(c.type), collation)
    return Action((alter,), destructive=conversion.loss and f"{label(target)}: {conversion.loss}")


def column_named(node: Node) -> sql.Composable:
    parent = node.parent.obj
    return sql.SQL("COLUMN {}").format(sql.Identifier(parent.schema, parent.name, node.obj.name))


TABLE = Handler(build_table, dropping(Phase.DROP_TABLE, "DROP TABLE {}"), alter_table, holds_data=table_data,
                comment_on=commented_as("TABLE"))
COLUMN = Handler(build_column, remove_column, alter_column, holds_data=column_data, narrowing=column_narrowing,
                 comment_on=column_named)
