"""Deploy safety: what each statement of a migration locks, rewrites or scans in production, sized from the profile.

Read from PostgreSQL's own parse (pglast) and the catalog the file meets (production's profile), never from
the text: a rewrite depends on the column's type before the statement, which only the catalog knows. The
lock levels and rewrite rules are those of ALTER TABLE's documentation, each checked on a real server by
tests/migrations/test_hazards_observed.py. A table created in the same file, or in an earlier file not yet
in production, is empty there: nothing done to it is a hazard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ConstrType, DropBehavior, ObjectType
from pglast.parser import ParseError

from pgparity.errors import HazardError, MigrationError, counted, shown
from pgparity.migrations.effects import name as qualified
from pgparity.migrations.lexer import statements
from pgparity.migrations.lint import ALLOW
from pgparity.migrations.model import SEVERITIES, HazardPolicy, Migration
from pgparity.schema.model import RelationSize, Snapshot, Table

Relation = tuple[str, str]

# Weakest first: a statement's lock is the strongest it takes. ACCESS EXCLUSIVE blocks reads too; from SHARE
# up, writes wait.
LOCKS = ("ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
         "EXCLUSIVE", "ACCESS EXCLUSIVE")
ACCESS_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE = "ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE"
SHARE_ROW_EXCLUSIVE, ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE", "ROW EXCLUSIVE"

# Each hazard code, what it means; `-- pgparity: allow <code>` accepts it.
CODES = {
    "rewrite": "rewrites every row (the table and its indexes are copied) under its lock",
    "scan": "reads every row to validate it, under its lock",
    "index": "builds an index while writes wait",
    "lock": "takes ACCESS EXCLUSIVE, which queues every query behind the longest one running",
    "data-loss": "deletes data",
    "rename": "renames what running code may still use",
    "enum": "changes an enum type",
    "timeout": "takes ACCESS EXCLUSIVE on an existing table with no lock_timeout set first",
}

@dataclass(frozen=True)
class Hazard:
    """One thing a statement does to production; `size` is the relation's from the profile (None: unknown)."""

    code: str
    lock: str | None
    relation: Relation | None
    line: int | None
    message: str
    size: RelationSize | None = None
    severity: str = "low"
    allowed: bool = False

    @property
    def sized(self) -> str:
        """The message with the size it touches: `rewrites public.events (…): 3.1M rows, 420 MB`."""
        if self.size is None:
            return self.message if self.code not in SIZED else f"{self.message}: size unknown (not in the profile)"
        return f"{self.message}: {rows_text(self.size.rows)}, {bytes_text(self.size.bytes)}"


SIZED = ("rewrite", "scan", "index", "data-loss")


@dataclass(frozen=True)
class Context:
    """What a file meets: the catalog before it (production's profile), and tables earlier files create."""

    catalog: Snapshot | None = None
    thresholds: HazardPolicy = field(default_factory=HazardPolicy)
    created: frozenset[Relation] = frozenset()


@dataclass(frozen=True)
class Analysis:
    """A file's hazards, and the tables it creates (empty in production for the files after it)."""

    hazards: tuple[Hazard, ...]
    created: frozenset[Relation]
    readable: bool = True


@dataclass(frozen=True)
class Reviewed:
    """One file's hazards. `elsewhere`: production has its changes already (an in-production fix), so they are
    measured on the schema the files before it build, as on a database that lacks them."""

    migration: Migration
    hazards: tuple[Hazard, ...]
    elsewhere: bool = False
    readable: bool = True


def review(migrations: Iterable[Migration], context: Context, elsewhere: bool = False) -> tuple[Reviewed, ...]:
    """Each file in order, against `context`'s catalog, a table created by one file being empty for the next."""
    found = []
    for migration in migrations:
        result = analysis(migration.sql, context, not migration.one_by_one)
        found.append(Reviewed(migration, result.hazards, elsewhere, result.readable))
        context = replace(context, created=result.created)
    return tuple(found)


def in_production_tail(applied: Sequence[Migration]) -> tuple[Migration, ...]:
    """The in-production fixes after the last file production ran itself: new, so worth a look; older ones are
    history."""
    tail: list[Migration] = []
    for migration in reversed(applied):
        if not migration.in_production:
            break
        tail.insert(0, migration)
    return tuple(tail)


def refuse_unknown_allowances(migrations: Iterable[Migration]) -> None:
    """An allow comment naming no hazard accepts nothing: refused, naming the file and line."""
    for migration in migrations:
        for line, code in unknown_allowances(migration.sql):
            raise MigrationError(f"{shown(migration.path)}:{line}: `-- pgparity: allow {code}` names no hazard "
                                 f"(known: {', '.join(CODES)})")


def refuse(reviewed: Iterable[Reviewed], limit: str | None) -> None:
    """`--fail-on`: a hazard of `limit` or above, not allowed, in a file production will run, fails the check in
    one line naming the first. An in-production fix changes nothing there, so its hazards are told, not failed on."""
    if limit is None:
        return
    over = [(item, h) for item in reviewed if not item.elsewhere for h in item.hazards
            if not h.allowed and SEVERITIES.index(h.severity) >= SEVERITIES.index(limit)]
    if not over:
        return
    item, first = over[0]
    more = f" (and {len(over) - 1} more)" if len(over) > 1 else ""
    raise HazardError(f"{counted(len(over), 'hazard')} at or above {limit}: {shown(item.migration.path)}:{first.line}: "
                      f"{first.severity} {first.code}: {first.sized}{more}; make the statement safe, or accept it with "
                      f"`-- pgparity: allow {first.code}` on the line above it")


def analyse(sql: str, context: Context) -> tuple[Hazard, ...]:
    return analysis(sql, context).hazards


# The first words of the statements that can lock, rewrite or drop: only these are parsed, so a file of
# INSERTs (a data load) costs the lexer's pass alone.
PARSED = frozenset({"ALTER", "CREATE", "DROP", "TRUNCATE", "DELETE", "UPDATE", "VACUUM", "CLUSTER", "REINDEX",
                    "SET"})


def analysis(sql: str, context: Context, transaction: bool = True) -> Analysis:
    """`transaction`: the file runs as one transaction (its locks held to the end); False when its statements
    are sent one by one (goose's NO TRANSACTION). Each statement psql would send is parsed on its own, so one
    the parser cannot read leaves the others told (and the file marked not `readable`)."""
    reader = Reader(context, transaction)
    found: list[Hazard] = []
    readable = True
    for statement in statements(sql):
        if statement.first in PARSED:
            try:
                parsed = parse_sql(statement.text)
            except ParseError:
                readable = False
                continue
            reader.line = statement.line
            found += (hazard for raw in parsed for hazard in reader.raw(raw))
    found = subsumed(found, transaction) + reader.timeout()
    allowed = allowances(sql)
    return Analysis(tuple(graded(h, context, allowed) for h in found), frozenset(reader.created), readable)


def subsumed(found: list[Hazard], transaction: bool) -> list[Hazard]:
    """In one transaction, a brief ACCESS EXCLUSIVE says nothing new where the file holds that lock for a longer
    hazard on the same table, or took it already."""
    if not transaction:
        return found
    heavier = {h.relation for h in found if h.code != "lock" and h.lock == ACCESS_EXCLUSIVE}
    kept, locked = [], set()
    for h in found:
        if h.code == "lock" and (h.relation in heavier or h.relation in locked):
            continue
        if h.code == "lock":
            locked.add(h.relation)
        kept.append(h)
    return kept


def ranked(found: Iterable[Hazard]) -> list[Hazard]:
    """Highest severity first, then in the file's order: how every list of hazards is shown."""
    return sorted(found, key=lambda h: (-SEVERITIES.index(h.severity), h.line or 0))


def rows_text(rows: int) -> str:
    if rows < 0:
        return "row count unknown (never analysed)"
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rows >= size:
            return f"{rows / size:.1f}".removesuffix(".0") + f"{suffix} rows"
    return f"{rows} rows"


def bytes_text(count: int) -> str:
    for size, unit in ((1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB")):
        if count >= size:
            return f"{count / size:.1f} {unit}" if count < 10 * size else f"{count // size} {unit}"
    return f"{count} bytes"


def strongest(locks: Iterable[str | None]) -> str | None:
    held = [lock for lock in locks if lock]
    return max(held, key=LOCKS.index) if held else None


def blocks_writes(lock: str | None) -> bool:
    return lock is not None and LOCKS.index(lock) >= LOCKS.index(SHARE)


def graded(hazard: Hazard, context: Context, allowed: dict[int | None, set[str]]) -> Hazard:
    """Its severity from the code, the lock and the size, and whether an allow comment accepts it."""
    if hazard.code == "data-loss":
        severity = "high"
    elif hazard.code in ("rename", "timeout"):
        severity = "medium"
    elif hazard.code in SIZED and (blocks_writes(hazard.lock) or hazard.code == "rewrite"):
        size, limits = hazard.size, context.thresholds
        severity = ("medium" if size is None
                    else "high" if size.rows >= limits.rows or size.bytes >= limits.bytes else "low")
    else:
        severity = "low"
    accepted = hazard.code in allowed.get(None, set()) | allowed.get(hazard.line, set())
    return replace(hazard, severity=severity, allowed=accepted)


def allowances(sql: str) -> dict[int | None, set[str]]:
    """`-- pgparity: allow rewrite, scan` among a file's opening comments accepts those hazards in the whole
    file (key None); on the lines just above a statement, in that statement alone (key: its first line)."""
    lines = sql.split("\n")
    found: dict[int | None, set[str]] = {}
    opening = True
    pending: set[str] = set()
    for number, line in enumerate(lines, 1):
        text = line.strip()
        match = ALLOW.match(text)
        if match:
            (found.setdefault(None, set()) if opening else pending).update(allowed_codes(match))
            continue
        if not text or text.startswith("--"):
            continue
        opening = False
        if pending:
            found.setdefault(number, set()).update(pending)
            pending = set()
    return found


def allowed_codes(match: re.Match[str]) -> list[str]:
    """The codes an allow comment names: `allow rewrite, scan` or `allow rewrite scan`."""
    return [code for code in re.split(r"[,\s]+", match.group(1).lower()) if code]


def unknown_allowances(sql: str) -> list[tuple[int, str]]:
    """Codes an allow comment names that are no hazard's, with their lines: a typo accepts nothing."""
    return [(number, code) for number, line in enumerate(sql.split("\n"), 1)
            for match in [ALLOW.match(line.strip())] if match
            for code in allowed_codes(match) if code not in CODES]


# Types as format_type prints them, by the names the parser gives.
TYPE_NAMES = {
    "varchar": "character varying", "bpchar": "character", "int2": "smallint", "int4": "integer",
    "int8": "bigint", "float4": "real", "float8": "double precision", "bool": "boolean",
    "timestamptz": "timestamp with time zone", "timestamp": "timestamp without time zone",
    "timetz": "time with time zone", "time": "time without time zone", "varbit": "bit varying",
    "decimal": "numeric", "serial": "integer", "bigserial": "bigint", "smallserial": "smallint",
}
SERIALS = ("serial", "bigserial", "smallserial", "serial4", "serial8", "serial2")
TYPE_TEXT = re.compile(r"(?P<base>.+?)(?:\((?P<modifiers>[\d, ]+)\))?(?P<rest>( with(out)? time zone)?(\[\])*)")
# Bases whose length or precision modifier PostgreSQL widens without touching a row.
WIDENED = {"character varying", "numeric", "bit varying", "timestamp without time zone",
           "timestamp with time zone", "time without time zone", "interval"}
# Casts that are binary-coercible: the rows stay as they are.
COERCIBLE = {("character varying", "text"), ("text", "character varying"), ("cidr", "inet"), ("xml", "text")}
# The default of an added column is evaluated once unless it is volatile; these are, and so are a serial's
# and an identity's sequences. A function of the catalog is looked up there.
VOLATILE = frozenset({"random", "clock_timestamp", "gen_random_uuid", "uuid_generate_v4", "uuid_generate_v1",
                      "nextval", "timeofday", "txid_current", "random_normal", "uuidv4", "uuidv7"})


def type_text(type_name: ast.TypeName) -> str:
    names = [part.sval for part in type_name.names if isinstance(part, ast.String)]
    base = TYPE_NAMES.get(names[-1], names[-1])
    modifiers = [str(getattr(getattr(m, "val", None), "ival", "")) for m in type_name.typmods or ()]
    text = base + (f"({','.join(modifiers)})" if modifiers and all(modifiers) else "")
    if base in ("timestamp without time zone", "timestamp with time zone", "time without time zone",
                "time with time zone") and modifiers:
        head, _, zone = base.partition(" with")
        text = f"{head}({','.join(modifiers)}) with{zone}"
    return text + "[]" * len(type_name.arrayBounds or ())


def split_type(text: str) -> tuple[str, tuple[int, ...] | None]:
    """`numeric(10,2)` → ("numeric", (10, 2)); `timestamp(3) with time zone` → ("timestamp with time zone", (3,))."""
    match = TYPE_TEXT.fullmatch(text)
    if not match:
        return text, None
    base = match["base"] + (match["rest"] or "")
    modifiers = tuple(int(m) for m in match["modifiers"].split(",")) if match["modifiers"] else None
    return base, modifiers


def rewrites(old: str, new: str) -> bool:
    """Whether changing a column from type `old` to `new` (format_type's text) rewrites the table."""
    if old == new:
        return False
    (old_base, old_mods), (new_base, new_mods) = split_type(old), split_type(new)
    if (old_base, new_base) in COERCIBLE:
        return new_mods is not None and new_base != "text"
    if old_base != new_base or old_base not in WIDENED:
        return True
    if new_mods is None:
        return False
    if old_mods is None:
        return True
    if old_base == "numeric":
        (old_p, old_s), (new_p, new_s) = (old_mods + (0,))[:2], (new_mods + (0,))[:2]
        return new_s != old_s or new_p < old_p
    return new_mods[0] < old_mods[0]


class Reader:
    """Walks a file's statements in order, following search_path, renames and the tables it creates."""

    def __init__(self, context: Context, transaction: bool = True) -> None:
        self.transaction = transaction
        self.held: dict[Relation, str] = {}
        self.schema = "public"
        self.created: set[Relation] = set(context.created)
        self.aliases: dict[Relation, Relation] = {}
        catalog = context.catalog
        self.tables: dict[Relation, Table] = {(t.schema, t.name): t for t in catalog.tables} if catalog else {}
        self.sizes: dict[Relation, RelationSize] = ({(s.schema, s.name): s for s in catalog.sizes}
                                                    if catalog else {})
        self.volatile = ({f.name for f in catalog.functions if f.volatility == "volatile"} if catalog else set())
        self.timeout_set = False
        self.first_exclusive: int | None = None
        self.line = 1

    # -- helpers

    def where(self, relation: ast.RangeVar) -> Relation:
        found = (relation.schemaname or self.schema, relation.relname)
        return self.aliases.get(found, found)

    def new(self, relation: Relation) -> bool:
        return relation in self.created

    def hazard(self, code: str, lock: str | None, relation: Relation | None, message: str) -> Hazard:
        """A hazard under the strongest lock held on the relation: in one transaction, a lock an earlier
        statement took is held until the file commits, so a safe form that follows it is safe no more."""
        if relation is not None and self.transaction:
            held = self.held.get(relation)
            if held and lock and LOCKS.index(held) > LOCKS.index(lock):
                message += (f", but the file took {held} on it earlier and holds it until it commits "
                            "(run this in a file of its own)")
            lock = self.held[relation] = strongest((lock, held)) or lock
        if lock == ACCESS_EXCLUSIVE and relation is not None and self.first_exclusive is None:
            self.first_exclusive = self.line
        size = self.sizes.get(relation) if relation else None
        return Hazard(code, lock, relation, self.line, message, size)

    def hold(self, relation: Relation, lock: str) -> None:
        """A lock a statement takes without a hazard of its own, held for the statements after it."""
        if self.transaction:
            self.held[relation] = strongest((lock, self.held.get(relation))) or lock

    def shown(self, relation: Relation) -> str:
        return ".".join(relation)

    def column_type(self, relation: Relation, column: str) -> str | None:
        table = self.tables.get(relation)
        found = next((c for c in table.columns if c.name == column), None) if table else None
        return found.type if found else None

    # -- dispatch

    def raw(self, raw: ast.RawStmt) -> list[Hazard]:
        handler = getattr(self, type(raw.stmt).__name__, None)
        return list(handler(raw.stmt)) if handler else []

    def timeout(self) -> list[Hazard]:
        if self.first_exclusive is None or self.timeout_set:
            return []
        return [Hazard("timeout", None, None, self.first_exclusive,
                       "takes ACCESS EXCLUSIVE with no lock_timeout: while it waits for a long query, every query "
                       "on the table queues behind it (start the file with SET lock_timeout = '5s')")]

    def VariableSetStmt(self, node: ast.VariableSetStmt) -> Iterator[Hazard]:
        first = node.args[0] if node.args else None
        value = getattr(getattr(first, "val", None), "sval", None)
        if node.name == "search_path" and value and value != "$user":
            self.schema = value
        if node.name == "lock_timeout" and first is not None:
            number = getattr(getattr(first, "val", None), "ival", None)
            self.timeout_set = bool(number) or bool(value and value.strip() not in ("0", ""))
        return iter(())

    def CreateStmt(self, node: ast.CreateStmt) -> Iterator[Hazard]:
        self.created.add(self.where(node.relation))
        return iter(())

    def CreateTableAsStmt(self, node: ast.CreateTableAsStmt) -> Iterator[Hazard]:
        self.created.add(self.where(node.into.rel))
        return iter(())

    def IndexStmt(self, node: ast.IndexStmt) -> Iterator[Hazard]:
        relation = self.where(node.relation)
        if node.concurrent or self.new(relation):
            return
        yield self.hazard("index", SHARE, relation, f"CREATE INDEX on {self.shown(relation)} blocks its writes "
                          "while it builds (CREATE INDEX CONCURRENTLY, in a no-transaction file, does not)")

    def ReindexStmt(self, node: ast.ReindexStmt) -> Iterator[Hazard]:
        concurrent = any(getattr(option, "defname", "") == "concurrently" for option in node.params or ())
        if node.relation is None or concurrent:
            return
        relation = self.where(node.relation)
        yield self.hazard("index", SHARE, relation, f"REINDEX of {self.shown(relation)} blocks its writes "
                          "(REINDEX CONCURRENTLY does not)")

    def DropStmt(self, node: ast.DropStmt) -> Iterator[Hazard]:
        for obj in node.objects or ():
            parts = getattr(obj, "names", None) or (obj if isinstance(obj, tuple) else ())
            if node.removeType == ObjectType.OBJECT_TABLE:
                relation = qualified(parts, self.schema)
                if not self.new(relation):
                    yield self.hazard("data-loss", ACCESS_EXCLUSIVE, relation,
                                      f"drops table {self.shown(relation)} and its rows")
            elif node.removeType == ObjectType.OBJECT_INDEX and not node.concurrent:
                table = self.index_table(qualified(parts, self.schema))
                if table is not None and not self.new(table):
                    yield self.hazard("lock", ACCESS_EXCLUSIVE, table,
                                      f"DROP INDEX locks {self.shown(table)} (DROP INDEX CONCURRENTLY does not)")

    def index_table(self, index: Relation) -> Relation | None:
        size = self.sizes.get(index)
        if size is not None and size.table:
            return (index[0], size.table)
        return next(((t.schema, t.name) for t in self.tables.values() if t.schema == index[0]
                     for i in t.indexes if i.name == index[1]), None)

    def TruncateStmt(self, node: ast.TruncateStmt) -> Iterator[Hazard]:
        for relation in map(self.where, node.relations):
            if not self.new(relation):
                yield self.hazard("data-loss", ACCESS_EXCLUSIVE, relation, f"TRUNCATE empties {self.shown(relation)}")

    def DeleteStmt(self, node: ast.DeleteStmt) -> Iterator[Hazard]:
        relation = self.where(node.relation)
        if node.whereClause is None and not self.new(relation):
            yield self.hazard("data-loss", ROW_EXCLUSIVE, relation, f"DELETE without WHERE empties {self.shown(relation)}")

    def UpdateStmt(self, node: ast.UpdateStmt) -> Iterator[Hazard]:
        relation = self.where(node.relation)
        if node.whereClause is None and not self.new(relation):
            yield self.hazard("rewrite", ROW_EXCLUSIVE, relation, f"UPDATE without WHERE writes a new version of every "
                              f"row of {self.shown(relation)}, each locked until the file commits")

    def RenameStmt(self, node: ast.RenameStmt) -> Iterator[Hazard]:
        if node.relation is None or node.renameType not in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN):
            return
        relation = self.where(node.relation)
        if node.renameType == ObjectType.OBJECT_TABLE:
            self.aliases[(relation[0], node.newname)] = relation
            what = f"table {self.shown(relation)} to {node.newname}"
        else:
            what = f"column {self.shown(relation)}.{node.subname} to {node.newname}"
        if not self.new(relation):
            yield self.hazard("rename", ACCESS_EXCLUSIVE, relation, f"renames {what}: code still running with "
                              "the old name fails until it is deployed (add the new name, move code, then drop)")

    def AlterEnumStmt(self, node: ast.AlterEnumStmt) -> Iterator[Hazard]:
        enum = ".".join(qualified(node.typeName, self.schema))
        if node.oldVal:
            yield self.hazard("rename", None, None, f"renames value {node.oldVal!r} of enum {enum}: code still "
                              "running with the old value fails")
        else:
            yield self.hazard("enum", None, None, f"adds value {node.newVal!r} to enum {enum}: it cannot be used "
                              "before the file commits, and no later migration can remove it")

    def VacuumStmt(self, node: ast.VacuumStmt) -> Iterator[Hazard]:
        full = any(getattr(option, "defname", "") == "full" for option in node.options or ())
        for target in node.rels or () if full else ():
            relation = self.where(target.relation)
            yield self.hazard("rewrite", ACCESS_EXCLUSIVE, relation, f"VACUUM FULL rewrites {self.shown(relation)}")

    def ClusterStmt(self, node: ast.ClusterStmt) -> Iterator[Hazard]:
        if node.relation is not None:
            relation = self.where(node.relation)
            yield self.hazard("rewrite", ACCESS_EXCLUSIVE, relation, f"CLUSTER rewrites {self.shown(relation)}")

    def AlterTableStmt(self, node: ast.AlterTableStmt) -> Iterator[Hazard]:
        if node.objtype != ObjectType.OBJECT_TABLE:
            return
        relation = self.where(node.relation)
        if self.new(relation):
            return
        found = [hazard for cmd in node.cmds for hazard in self.command(relation, cmd)]
        yield from found
        lock = strongest(cmd_lock(cmd) for cmd in node.cmds)
        if lock == ACCESS_EXCLUSIVE and not any(h.relation == relation and h.lock == ACCESS_EXCLUSIVE for h in found):
            yield self.hazard("lock", ACCESS_EXCLUSIVE, relation, f"ALTER TABLE locks {self.shown(relation)} "
                              "against reads and writes, briefly")
        elif lock:
            self.hold(relation, lock)

    # -- ALTER TABLE's subcommands

    def command(self, relation: Relation, cmd: ast.AlterTableCmd) -> Iterator[Hazard]:
        kind, table = cmd.subtype, self.shown(relation)
        if kind == AlterTableType.AT_AddColumn:
            yield from self.added_column(relation, cmd.def_)
        elif kind == AlterTableType.AT_AlterColumnType:
            old, new = self.column_type(relation, cmd.name), type_text(cmd.def_.typeName)
            if old is None:
                yield self.hazard("rewrite", ACCESS_EXCLUSIVE, relation, f"may rewrite {table} ({cmd.name} → "
                                  f"{new}; its type before is not in the profile)")
            elif cmd.def_.raw_default is not None or rewrites(old, new):
                yield self.hazard("rewrite", ACCESS_EXCLUSIVE, relation,
                                  f"rewrites {table} ({cmd.name} {old} → {new})")
        elif kind == AlterTableType.AT_SetNotNull:
            if not self.proven_not_null(relation, cmd.name):
                yield self.hazard("scan", ACCESS_EXCLUSIVE, relation, f"SET NOT NULL scans {table} for nulls in "
                                  f"{cmd.name} (a validated CHECK ({cmd.name} IS NOT NULL) first spares it)")
        elif kind == AlterTableType.AT_AddConstraint:
            yield from self.constraint(relation, cmd.def_)
        elif kind == AlterTableType.AT_ValidateConstraint:
            yield self.hazard("scan", SHARE_UPDATE_EXCLUSIVE, relation,
                              f"VALIDATE CONSTRAINT {cmd.name} reads every row of {table} (writes go on)")
        elif kind == AlterTableType.AT_DropColumn:
            yield self.hazard("data-loss", ACCESS_EXCLUSIVE, relation, f"drops column {table}.{cmd.name} and its "
                              "values" + ("" if cmd.behavior != DropBehavior.DROP_CASCADE else ", and what depends on it"))
        elif kind in (AlterTableType.AT_SetLogged, AlterTableType.AT_SetUnLogged, AlterTableType.AT_SetTableSpace):
            yield self.hazard("rewrite", ACCESS_EXCLUSIVE, relation, f"rewrites {table} (SET {rewrite_word(kind)})")
        elif kind == AlterTableType.AT_AttachPartition:
            part = self.where(cmd.def_.name)
            if self.new(part):
                return
            if self.checks_key(relation, part):
                yield self.hazard("lock", ACCESS_EXCLUSIVE, part, f"ATTACH PARTITION locks {self.shown(part)}; its "
                                  "validated CHECK on the partition key spares the scan if it implies the bound")
            else:
                yield self.hazard("scan", ACCESS_EXCLUSIVE, part, f"ATTACH PARTITION scans {self.shown(part)} for "
                                  "rows outside its bound (a validated CHECK matching the bound spares it)")

    def added_column(self, relation: Relation, column: ast.ColumnDef) -> Iterator[Hazard]:
        table = f"{self.shown(relation)}"
        names = [part.sval for part in column.typeName.names if isinstance(part, ast.String)]
        constraints = list(column.constraints or ())
        default = next((c for c in constraints if c.contype == ConstrType.CONSTR_DEFAULT), None)
        why = None
        if names[-1] in SERIALS:
            why = f"a {names[-1]} column's default is a sequence, evaluated for each row"
        elif any(c.contype == ConstrType.CONSTR_IDENTITY for c in constraints):
            why = "an identity column is filled from its sequence row by row"
        elif any(c.contype == ConstrType.CONSTR_GENERATED and c.generated_kind != "v" for c in constraints):
            why = "a stored generated column is computed for every row"
        elif default is not None and self.is_volatile(default.raw_expr):
            why = "its default is volatile, evaluated for each row"
        if why:
            yield self.hazard("rewrite", ACCESS_EXCLUSIVE, relation,
                              f"rewrites {table} (ADD COLUMN {column.colname}: {why})")
        elif default is None and any(c.contype == ConstrType.CONSTR_NOTNULL for c in constraints):
            yield self.hazard("scan", ACCESS_EXCLUSIVE, relation, f"ADD COLUMN {column.colname} NOT NULL without a "
                              f"default scans {table} and fails on its first row (give it a default)")
        for constraint in constraints:
            yield from self.constraint(relation, constraint, column.colname)

    def is_volatile(self, expression: ast.Node | None) -> bool:
        functions = {call.funcname[-1].sval for call in walk(expression) if isinstance(call, ast.FuncCall)}
        return bool(functions & (VOLATILE | self.volatile))

    def constraint(self, relation: Relation, constraint: ast.Constraint, column: str | None = None) -> Iterator[Hazard]:
        table, kind = self.shown(relation), constraint.contype
        label = constraint.conname or (f"on {column}" if column else "(unnamed)")
        if kind == ConstrType.CONSTR_FOREIGN:
            parent = self.where(constraint.pktable)
            if not constraint.skip_validation:
                yield self.hazard("scan", SHARE_ROW_EXCLUSIVE, relation, f"FOREIGN KEY {label} checks every row of "
                                  f"{table} while writes to it and to {self.shown(parent)} wait (add it NOT VALID, "
                                  "then VALIDATE CONSTRAINT)")
        elif kind == ConstrType.CONSTR_CHECK and not constraint.skip_validation:
            yield self.hazard("scan", ACCESS_EXCLUSIVE, relation, f"CHECK {label} scans {table} under ACCESS "
                              "EXCLUSIVE (add it NOT VALID, then VALIDATE CONSTRAINT)")
        elif kind == ConstrType.CONSTR_NOTNULL and column is None:
            yield self.hazard("scan", ACCESS_EXCLUSIVE, relation, f"NOT NULL {label} scans {table}")
        elif kind in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION):
            nullable = self.nullable_index_columns(relation, constraint.indexname) if kind == ConstrType.CONSTR_PRIMARY \
                and constraint.indexname else []
            if nullable:
                yield self.hazard("scan", ACCESS_EXCLUSIVE, relation, f"PRIMARY KEY {label} sets "
                                  f"{', '.join(nullable)} NOT NULL, which scans {table} for nulls")
            if not constraint.indexname:
                yield self.hazard("index", ACCESS_EXCLUSIVE, relation, f"{constraint_word(kind)} {label} builds its "
                                  f"index under ACCESS EXCLUSIVE on {table} (build it with CREATE UNIQUE INDEX "
                                  "CONCURRENTLY, then ADD CONSTRAINT … USING INDEX)")

    def checks_key(self, parent: Relation, part: Relation) -> bool:
        """Whether the partition has a validated CHECK naming a column of the parent's partition key."""
        table, partitioned = self.tables.get(part), self.tables.get(parent)
        if table is None or partitioned is None or not partitioned.partition_key:
            return False
        key = set(re.findall(r"\w+", partitioned.partition_key.partition("(")[2]))
        return any(c.type == "check" and c.validated and key & set(re.findall(r"\w+", c.definition))
                   for c in table.constraints)

    def nullable_index_columns(self, relation: Relation, index: str) -> list[str]:
        """The columns of an existing index that may hold nulls: PRIMARY KEY USING INDEX sets them NOT NULL."""
        table = self.tables.get(relation)
        found = next((i for i in table.indexes if i.name == index), None) if table else None
        if found is None:
            return []
        try:
            [statement] = parse_sql(f"CREATE INDEX i ON t {found.definition}")  # kept without its head
        except (ParseError, ValueError):
            return []
        named = {element.name for element in statement.stmt.indexParams if element.name}
        return [c.name for c in table.columns if c.name in named and c.nullable]

    def proven_not_null(self, relation: Relation, column: str) -> bool:
        """A validated CHECK (column IS NOT NULL) lets SET NOT NULL skip its scan (PostgreSQL 12 and later)."""
        table = self.tables.get(relation)
        wanted = {f"CHECK (({column} IS NOT NULL))", f'CHECK (("{column}" IS NOT NULL))'}
        return table is not None and any(c.type == "check" and c.validated and c.definition in wanted
                                         for c in table.constraints)


def cmd_lock(cmd: ast.AlterTableCmd) -> str:
    """The lock ALTER TABLE takes for one subcommand, as its documentation lists them."""
    kind = cmd.subtype
    if kind in LIGHTER:
        return LIGHTER[kind]
    if kind == AlterTableType.AT_AddConstraint and cmd.def_.contype == ConstrType.CONSTR_FOREIGN:
        return SHARE_ROW_EXCLUSIVE
    return ACCESS_EXCLUSIVE


LIGHTER = {
    AlterTableType.AT_SetStatistics: SHARE_UPDATE_EXCLUSIVE, AlterTableType.AT_ValidateConstraint: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_SetRelOptions: SHARE_UPDATE_EXCLUSIVE, AlterTableType.AT_ResetRelOptions: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_ClusterOn: SHARE_UPDATE_EXCLUSIVE, AlterTableType.AT_DropCluster: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_AttachPartition: SHARE_UPDATE_EXCLUSIVE,
    AlterTableType.AT_EnableTrig: SHARE_ROW_EXCLUSIVE, AlterTableType.AT_DisableTrig: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableTrigAll: SHARE_ROW_EXCLUSIVE, AlterTableType.AT_DisableTrigAll: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableTrigUser: SHARE_ROW_EXCLUSIVE, AlterTableType.AT_DisableTrigUser: SHARE_ROW_EXCLUSIVE,
    AlterTableType.AT_EnableAlwaysTrig: SHARE_ROW_EXCLUSIVE, AlterTableType.AT_EnableReplicaTrig: SHARE_ROW_EXCLUSIVE,
}


def rewrite_word(kind: AlterTableType) -> str:
    return {AlterTableType.AT_SetLogged: "LOGGED", AlterTableType.AT_SetUnLogged: "UNLOGGED"}.get(kind, "TABLESPACE")


def constraint_word(kind: ConstrType) -> str:
    return {ConstrType.CONSTR_PRIMARY: "PRIMARY KEY", ConstrType.CONSTR_UNIQUE: "UNIQUE"}.get(kind, "EXCLUDE")


def walk(node: object) -> Iterator[ast.Node]:
    """Every node below `node`, to find the functions an expression calls."""
    if isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from walk(getattr(node, name))
    elif isinstance(node, tuple):
        for item in node:
            yield from walk(item)
