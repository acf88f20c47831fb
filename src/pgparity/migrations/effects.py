"""What each migration file creates, drops and renames, read from its parse, without a database.

Used to tell how far a production that keeps no ledger has come: the objects the files name are
looked up in the production profile. Only names count here (a table, a column, an index, ...); what
a column's type is, or what a function does, is verify's business once the position is known.
Statements the parser cannot see into (DO blocks, dynamic SQL) have no effects here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ObjectType
from pglast.parser import ParseError

from pgparity.schema.model import Snapshot

# ("schema", s) ("relation", s, name) ("column", s, table, name) ("constraint", s, table, name)
# ("trigger", s, table, name) ("policy", s, table, name) ("function", s, name) ("type", s, name)
# ("label", s, type, label) ("extension", name)
Key = tuple[str, ...]
CHILDREN = ("column", "constraint", "trigger", "policy")
RELATIONS = {ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW,
             ObjectType.OBJECT_SEQUENCE, ObjectType.OBJECT_INDEX, ObjectType.OBJECT_FOREIGN_TABLE}
TYPES = {ObjectType.OBJECT_TYPE, ObjectType.OBJECT_DOMAIN}
FUNCTIONS = {ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE, ObjectType.OBJECT_ROUTINE}
ON_TABLE = {ObjectType.OBJECT_COLUMN: "column", ObjectType.OBJECT_TABCONSTRAINT: "constraint",
            ObjectType.OBJECT_TRIGGER: "trigger", ObjectType.OBJECT_POLICY: "policy"}


@dataclass(frozen=True)
class Effect:
    """One change to the set of named objects: `add`, `drop` (with everything inside it) or `rename`."""

    action: str
    key: Key
    new: Key | None = None


@dataclass(frozen=True)
class Effects:
    """A file's effects in order; `readable` is False when the parser rejected the file."""

    effects: tuple[Effect, ...]
    readable: bool = True


def of_sql(text: str) -> Effects:
    try:
        statements = parse_sql(text)
    except ParseError:
        return Effects((), readable=False)
    reader = Reader()
    return Effects(tuple(effect for raw in statements for effect in reader.statement(raw.stmt)))


def name(parts: Iterable[ast.String], schema: str) -> tuple[str, str]:
    """A possibly qualified name as (schema, name)."""
    values = [part.sval for part in parts if isinstance(part, ast.String)]
    return (values[-2], values[-1]) if len(values) > 1 else (schema, values[-1])


class Reader:
    """Walks statements in order, following `SET search_path` for unqualified names."""

    def __init__(self) -> None:
        self.schema = "public"

    def where(self, relation: ast.RangeVar) -> tuple[str, str]:
        return relation.schemaname or self.schema, relation.relname

    def statement(self, node: ast.Node) -> Iterator[Effect]:
        handler = getattr(self, type(node).__name__, None)
        return handler(node) if handler else iter(())

    def VariableSetStmt(self, node: ast.VariableSetStmt) -> Iterator[Effect]:
        if node.name == "search_path" and node.args:
            first = node.args[0]
            value = getattr(getattr(first, "val", None), "sval", None)
            if value and value != "$user":
                self.schema = value
        return iter(())

    def CreateSchemaStmt(self, node: ast.CreateSchemaStmt) -> Iterator[Effect]:
        if node.schemaname:
            yield Effect("add", ("schema", node.schemaname))
        outer, self.schema = self.schema, node.schemaname or self.schema
        for element in node.schemaElts or ():
            yield from self.statement(element)
        self.schema = outer

    def CreateStmt(self, node: ast.CreateStmt) -> Iterator[Effect]:
        schema, table = self.where(node.relation)
        yield Effect("add", ("relation", schema, table))
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                yield Effect("add", ("column", schema, table, element.colname))
                yield from self.constraints(schema, table, element.constraints or ())
            elif isinstance(element, ast.Constraint):
                yield from self.constraints(schema, table, (element,))

    def constraints(self, schema: str, table: str, constraints: Iterable[ast.Node]) -> Iterator[Effect]:
        for constraint in constraints:
            if isinstance(constraint, ast.Constraint) and constraint.conname:
                yield Effect("add", ("constraint", schema, table, constraint.conname))

    def CreateTableAsStmt(self, node: ast.CreateTableAsStmt) -> Iterator[Effect]:
        yield Effect("add", ("relation", *self.where(node.into.rel)))

    def ViewStmt(self, node: ast.ViewStmt) -> Iterator[Effect]:
        yield Effect("add", ("relation", *self.where(node.view)))

    def CreateSeqStmt(self, node: ast.CreateSeqStmt) -> Iterator[Effect]:
        yield Effect("add", ("relation", *self.where(node.sequence)))

    def IndexStmt(self, node: ast.IndexStmt) -> Iterator[Effect]:
        if node.idxname:
            yield Effect("add", ("relation", self.where(node.relation)[0], node.idxname))

    def AlterTableStmt(self, node: ast.AlterTableStmt) -> Iterator[Effect]:
        if node.objtype != ObjectType.OBJECT_TABLE:
            return
        schema, table = self.where(node.relation)
        for command in node.cmds or ():
            if command.subtype == AlterTableType.AT_AddColumn and isinstance(command.def_, ast.ColumnDef):
                yield Effect("add", ("column", schema, table, command.def_.colname))
                yield from self.constraints(schema, table, command.def_.constraints or ())
            elif command.subtype == AlterTableType.AT_DropColumn:
                yield Effect("drop", ("column", schema, table, command.name))
            elif command.subtype == AlterTableType.AT_AddConstraint:
                yield from self.constraints(schema, table, (command.def_,))
            elif command.subtype == AlterTableType.AT_DropConstraint:
                yield Effect("drop", ("constraint", schema, table, command.name))

    def RenameStmt(self, node: ast.RenameStmt) -> Iterator[Effect]:
        kind = node.renameType
        if kind in RELATIONS:
            schema, old = self.where(node.relation)
            yield Effect("rename", ("relation", schema, old), ("relation", schema, node.newname))
        elif kind in ON_TABLE and node.relation is not None:
            schema, table = self.where(node.relation)
            child = ON_TABLE[kind]
            yield Effect("rename", (child, schema, table, node.subname), (child, schema, table, node.newname))
        elif kind == ObjectType.OBJECT_SCHEMA:
            yield Effect("rename", ("schema", node.subname), ("schema", node.newname))
        elif kind in TYPES and node.object:
            schema, old = name(node.object, self.schema)
            yield Effect("rename", ("type", schema, old), ("type", schema, node.newname))
        elif kind in FUNCTIONS and isinstance(node.object, ast.ObjectWithArgs):
            schema, old = name(node.object.objname, self.schema)
            yield Effect("rename", ("function", schema, old), ("function", schema, node.newname))

    def DropStmt(self, node: ast.DropStmt) -> Iterator[Effect]:
        kind = node.removeType
        for target in node.objects or ():
            if kind in RELATIONS:
                yield Effect("drop", ("relation", *name(target, self.schema)))
            elif kind in TYPES:
                yield Effect("drop", ("type", *name(target.names, self.schema)))
            elif kind in FUNCTIONS:
                yield Effect("drop", ("function", *name(target.objname, self.schema)))
            elif kind == ObjectType.OBJECT_SCHEMA:
                yield Effect("drop", ("schema", target.sval))
            elif kind == ObjectType.OBJECT_EXTENSION:
                yield Effect("drop", ("extension", target.sval))
            elif kind in ON_TABLE:
                *relation, child = [part.sval for part in target]
                schema, table = (relation[-2], relation[-1]) if len(relation) > 1 else (self.schema, relation[-1])
                yield Effect("drop", (ON_TABLE[kind], schema, table, child))

    def CreateFunctionStmt(self, node: ast.CreateFunctionStmt) -> Iterator[Effect]:
        yield Effect("add", ("function", *name(node.funcname, self.schema)))

    def CreateEnumStmt(self, node: ast.CreateEnumStmt) -> Iterator[Effect]:
        schema, type_name = name(node.typeName, self.schema)
        yield Effect("add", ("type", schema, type_name))
        for value in node.vals or ():
            yield Effect("add", ("label", schema, type_name, value.sval))

    def AlterEnumStmt(self, node: ast.AlterEnumStmt) -> Iterator[Effect]:
        schema, type_name = name(node.typeName, self.schema)
        if node.oldVal:
            yield Effect("rename", ("label", schema, type_name, node.oldVal), ("label", schema, type_name, node.newVal))
        elif node.newVal:
            yield Effect("add", ("label", schema, type_name, node.newVal))

    def CompositeTypeStmt(self, node: ast.CompositeTypeStmt) -> Iterator[Effect]:
        yield Effect("add", ("type", *self.where(node.typevar)))

    def CreateDomainStmt(self, node: ast.CreateDomainStmt) -> Iterator[Effect]:
        yield Effect("add", ("type", *name(node.domainname, self.schema)))

    def CreateExtensionStmt(self, node: ast.CreateExtensionStmt) -> Iterator[Effect]:
        yield Effect("add", ("extension", node.extname))

    def CreateTrigStmt(self, node: ast.CreateTrigStmt) -> Iterator[Effect]:
        yield Effect("add", ("trigger", *self.where(node.relation), node.trigname))

    def CreatePolicyStmt(self, node: ast.CreatePolicyStmt) -> Iterator[Effect]:
        yield Effect("add", ("policy", *self.where(node.table), node.policy_name))


def present(snapshot: Snapshot) -> set[Key]:
    """Every named object of a snapshot, as the keys the files' effects use."""
    keys: set[Key] = {("schema", s.name) for s in snapshot.schemas}
    keys |= {("extension", e.name) for e in snapshot.extensions}
    keys |= {("function", f.schema, f.name) for f in snapshot.functions}
    for kind in (snapshot.enums, snapshot.domains, snapshot.types):
        keys |= {("type", t.schema, t.name) for t in kind}
    keys |= {("label", e.schema, e.name, label) for e in snapshot.enums for label in e.labels}
    keys |= {("relation", s.schema, s.name) for s in snapshot.sequences}
    for relation in snapshot.tables + snapshot.views + snapshot.materialized_views:
        schema, table = relation.schema, relation.name
        keys.add(("relation", schema, table))
        keys |= {("relation", schema, index.name) for index in relation.indexes}
        keys |= {("trigger", schema, table, trigger.name) for trigger in relation.triggers}
    for table in snapshot.tables:
        keys |= {("column", table.schema, table.name, column.name) for column in table.columns}
        keys |= {("constraint", table.schema, table.name, constraint.name) for constraint in table.constraints}
        keys |= {("policy", table.schema, table.name, policy.name) for policy in table.policies}
    return keys


def applied(state: set[Key], effects: Effects) -> set[Key]:
    """Apply `effects` to `state` in place; the keys the file leaves that it added (a baseline check names them)."""
    added: set[Key] = set()

    def remove(key: Key) -> list[Key]:
        gone = [k for k in state if k == key or inside(k, key)]
        state.difference_update(gone)
        added.difference_update(gone)
        return gone

    def add(key: Key) -> None:
        if key not in state:
            state.add(key)
            added.add(key)

    for effect in effects.effects:
        if effect.action == "add":
            add(effect.key)
        elif effect.action == "drop":
            remove(effect.key)
        else:
            for key in remove(effect.key):  # the object, and what lives in it, under the new name
                add(effect.new if key == effect.key else (key[0], *effect.new[1:], *key[len(effect.key):]))
    return added


def inside(key: Key, container: Key) -> bool:
    """Whether `key` lives in `container`: a column in its table, anything in its schema, a label in its type."""
    kind = container[0]
    if kind == "schema":
        return key[0] not in ("schema", "extension") and key[1] == container[1]
    if kind == "relation":
        return key[0] in CHILDREN and key[1:3] == container[1:]
    if kind == "type":
        return key[0] == "label" and key[1:3] == container[1:]
    return False


def shown(key: Key) -> str:
    """A key as a person names the object: `users.nickname`, `index public.users_email_idx`."""
    kind, *parts = key
    qualified = ".".join(part for part in parts[:2] if part != "public") if len(parts) > 1 else parts[0]
    if kind in CHILDREN:
        text = f"{qualified}.{parts[2]}"
        return text if kind == "column" else f"{kind} {text}"
    if kind == "label":
        return f"enum label {qualified}.{parts[2]!r}"
    return {"relation": qualified}.get(kind, f"{kind} {qualified}")
