"""db.dump and restore: production's schema and sanitized rows in one deterministic archive.

Production is only read. One session, REPEATABLE READ and READ ONLY (with default_transaction_read_only
set by the server too, so a rule's WHERE cannot write whatever the role may do), reads the tables, exports
its snapshot, and streams each table's rows through the sanitizer into the archive. pg_dump runs in a
one-off container of production's server version (no host client needed) and dumps the schema from that
same snapshot. Rows are masked in memory on their way in: nothing unmasked is ever written.

The archive, `dumps/<environment>-<UTC time>.sanitized.zip` (written as `.partial` until complete):

    manifest.json          format, versions, row counts, rules applied, sequences, production's ledger
    schema/pre-data.sql    pg_dump --section=pre-data, without owners or privileges
    schema/post-data.sql   pg_dump --section=post-data: keys, indexes, foreign keys, triggers
    data/NNNN.copy         one table's rows in COPY text format, deflated

Members carry a fixed timestamp, so the same production data and secret give byte-identical members.
"""

from __future__ import annotations

import json
import re
import threading
import time
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import docker
import docker.errors
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from . import __version__, ledger
from .catalog.model import Migration as LedgerRow  # a ledger row read as data, as snapshots hold it
from .config import mask_url
from .database import connect, connect_read_only, database_of
from .engine import connect_client, published_host
from .errors import DumpError, SanitizeError
from .ledger import describe_failure
from .sanitize import Column, ColumnName, Masker, Rules, TableName, TableRule, check

FORMAT = "pgparity-dump/1"
MANIFEST = "manifest.json"
PRE_DATA = "schema/pre-data.sql"
POST_DATA = "schema/post-data.sql"
SECTIONS = ((PRE_DATA, "pre-data"), (POST_DATA, "post-data"))
MEMBER_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip time: members do not change with the clock
CLIENT_LABEL = "pgparity.dump-client"
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
IDLE_SECONDS = 600  # production ends our session if it idles this long inside its snapshot
PROGRESS_SECONDS = 0.25
CHUNK_BYTES = 1 << 16
DEFAULT_JOBS = 4


# ------------------------------------------------------------------------------ production's tables

@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    parent: TableName
    parent_columns: tuple[str, ...]


@dataclass(frozen=True)
class SourceTable:
    """A production table whose rows are dumped: its stored columns (generated ones are recomputed)."""

    name: TableName
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the primary key, which orders a `limit`
    foreign_keys: tuple[ForeignKey, ...]


OUTSIDE_SYSTEM = "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"

COLUMNS_QUERY = sql.SQL("""
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory = 'S',
       NOT a.attnotnull,
       EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique
               AND (a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])
                    OR EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = i.indexrelid AND d.refclassid = 'pg_class'::regclass
                               AND d.refobjid = c.oid AND d.refobjsubid = a.attnum)))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND {outside_system}
  AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid
                  AND e.deptype = 'e')
ORDER BY n.nspname, c.relname, a.attnum
""").format(outside_system=sql.SQL(OUTSIDE_SYSTEM))

CONSTRAINTS_QUERY = sql.SQL("""
SELECT k.contype, n.nspname, c.relname,
       ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, position)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.position),
       pn.nspname, p.relname,
       ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, position)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.position)
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_class p ON p.oid = k.confrelid LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE k.contype IN ('p', 'f') AND c.relkind = 'r' AND {outside_system}
ORDER BY n.nspname, c.relname, k.conname
""").format(outside_system=sql.SQL(OUTSIDE_SYSTEM))

SEQUENCES_QUERY = """
SELECT schemaname, sequencename, last_value FROM pg_catalog.pg_sequences
WHERE last_value IS NOT NULL AND schemaname <> 'information_schema' AND schemaname !~ '^pg_'
ORDER BY schemaname, sequencename
"""


def read_tables(conn: psycopg.Connection) -> tuple[SourceTable, ...]:
    """Production's tables with data (partitions, not their parents), their keys and foreign keys."""
    columns: dict[TableName, list[Column]] = defaultdict(list)
    for schema, table, name, type_, textual, nullable, unique in conn.execute(COLUMNS_QUERY):
        table_name = TableName(schema, table)
        columns[table_name].append(Column(ColumnName(table_name, name), type_, textual, nullable, unique))
    keys: dict[TableName, tuple[str, ...]] = {}
    foreign_keys: dict[TableName, list[ForeignKey]] = defaultdict(list)
    for kind, schema, table, names, parent_schema, parent, parent_names in conn.execute(CONSTRAINTS_QUERY):
        if kind == "p":
            keys[TableName(schema, table)] = tuple(names)
        else:
            foreign_keys[TableName(schema, table)].append(
                ForeignKey(tuple(names), TableName(parent_schema, parent), tuple(parent_names)))
    return tuple(SourceTable(name, tuple(cols), keys.get(name, ()), tuple(foreign_keys[name]))
                 for name, cols in columns.items())


# ------------------------------------------------------------------------------------------- subsets

@dataclass(frozen=True)
class Selection:
    """What one table contributes to the dump: the COPY that reads it and how its rows were chosen."""

    table: SourceTable
    statement: sql.Composed | None  # None: the table's rows are excluded
    subset: str


class Subset:
    """The rows each table keeps, so that every foreign key of the restored data still holds.

    A table keeps the rows its own rule selects (`where`; `limit` takes the first rows by primary key)
    and, when a parent table does not keep all its rows, only the rows whose parent row was kept; a
    row whose foreign key is NULL stays. A capped child therefore never removes parent rows, and an
    excluded parent leaves only the children that reference nothing. A subset reaching a table through
    a foreign-key cycle (a self-reference included) would need a fixpoint, so it is refused.
    """

    def __init__(self, tables: Sequence[SourceTable], rules: Rules):
        self.tables = {table.name: table for table in tables}
        self.aliases = {name: f"kept_{index}" for index, name in enumerate(self.tables)}
        self.rules = rules
        self.partial = self._partial()

    def _partial(self) -> set[TableName]:
        """Tables not dumped whole: those with a rule, and the descendants of those."""
        children: dict[TableName, set[TableName]] = defaultdict(set)
        for table in self.tables.values():
            for key in table.foreign_keys:
                children[key.parent].add(table.name)
        todo = [rule.table for rule in self.rules.tables if rule.table in self.tables]
        partial = set(todo)
        while todo:
            for child in children[todo.pop()] - partial:
                partial.add(child)
                todo.append(child)
        return partial

    def selection(self, table: SourceTable) -> Selection:
        rule = self.rules.table(table.name) or TableRule(table.name)
        if rule.exclude:
            return Selection(table, None, rule.describe())
        columns = sql.SQL(", ").join(sql.Identifier(column.name.name) for column in table.columns)
        target = sql.Identifier(table.name.schema, table.name.name)
        if table.name not in self.partial:
            return Selection(table, sql.SQL("COPY {} ({}) TO STDOUT").format(target, columns), "all rows")
        chain = self._ancestry(table.name, ())
        ctes = sql.SQL(", ").join(sql.SQL("{} AS ({})").format(sql.Identifier(self.aliases[name]), self._kept(name))
                                  for name in chain)
        statement = sql.SQL("COPY (WITH {} SELECT {} FROM {}) TO STDOUT").format(
            ctes, columns, sql.Identifier(self.aliases[table.name]))
        return Selection(table, statement, self._describe(table, rule))

    def _parents(self, name: TableName) -> list[TableName]:
        """The parents whose kept rows restrict this table's rows."""
        if self.rules.excluded(name):
            return []
        return [key.parent for key in self.tables[name].foreign_keys
                if key.parent in self.partial and key.parent in self.tables]

    def _ancestry(self, name: TableName, path: tuple[TableName, ...]) -> list[TableName]:
        """This table and the partial tables it depends on, parents first; refuse a cycle."""
        if name in path:
            cycle = " → ".join(str(table) for table in (*path[path.index(name):], name))
            raise SanitizeError(
                f"{self.rules.source} [sanitize.tables]: a where, limit or exclude rule reaches {name} through "
                f"the foreign-key cycle {cycle}; its rows cannot be subset consistently, so dump the cycle whole"
            )
        chain: list[TableName] = []
        for parent in self._parents(name):
            chain += [table for table in self._ancestry(parent, (*path, name)) if table not in chain]
        return chain + [name]

    def _kept(self, name: TableName) -> sql.Composed:
        table = self.tables[name]
        rule = self.rules.table(name) or TableRule(name)
        conditions = [sql.SQL("false")] if rule.exclude else []
        if rule.where:
            conditions.append(sql.SQL("({})").format(sql.SQL(rule.where)))
        for key in table.foreign_keys:
            if key.parent in self._parents(name):
                conditions.append(self._references(key))
        query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(name.schema, name.name))
        if conditions:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)
        if rule.limit:
            order = sql.SQL(", ").join(map(sql.Identifier, table.key)) if table.key else sql.SQL("ctid")
            query += sql.SQL(" ORDER BY {} LIMIT {}").format(order, sql.Literal(rule.limit))
        return query

    def _references(self, key: ForeignKey) -> sql.Composed:
        """The row's parent was kept, or its foreign key is NULL (MATCH SIMPLE checks nothing then)."""
        nulls = [sql.SQL("{} IS NULL").format(sql.Identifier(column)) for column in key.columns]
        kept = sql.SQL("({}) IN (SELECT {} FROM {})").format(
            sql.SQL(", ").join(map(sql.Identifier, key.columns)),
            sql.SQL(", ").join(map(sql.Identifier, key.parent_columns)),
            sql.Identifier(self.aliases[key.parent]))
        return sql.SQL("({})").format(sql.SQL(" OR ").join([*nulls, kept]))

    def _describe(self, table: SourceTable, rule: TableRule) -> str:
        parents = sorted({str(parent) for parent in self._parents(table.name)})
        inherited = f"only rows referencing kept rows of {', '.join(parents)}" if parents else ""
        return ", ".join(part for part in (rule.describe(), inherited) if part)


# -------------------------------------------------------------------------------- pg_dump container

def client_network(url: str, engine_host: str) -> dict[str, str]:
    """Docker arguments that let a container reach the server of `url`.

    Inside a container 127.0.0.1 is the container itself; a server on the host's loopback (a tunnel, or
    a container published on 127.0.0.1 only, which the host-gateway address does not reach) is reached
    from the host's network namespace, which is this machine's only when the engine (`engine_host`, see
    engine.published_host) is local. Other hosts are reached from the default bridge, as from the host.
    """
    hosts = [host for host in conninfo_to_dict(url).get("host", "").split(",") if host]
    if not hosts or any(host.startswith("/") for host in hosts):
        raise DumpError(f"{mask_url(url)} connects through a Unix socket, which a container cannot reach; "
                        "give PGPARITY_PROD_URL a TCP host")
    if not any(host in LOOPBACK for host in hosts):
        return {}
    if engine_host != "127.0.0.1":
        raise DumpError(f"{mask_url(url)} points at this machine's loopback, but Docker runs on "
                        f"{engine_host}; use an address that machine can reach")
    return {"network_mode": "host"}


def pg_dump_command(url: str, section: str, snapshot: str) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment: read-only session, the given snapshot, password not in argv."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    params["options"] = f"{params.get('options', '')} -c default_transaction_read_only=on".strip()
    params["application_name"] = "pgparity-dump"
    argv = ["pg_dump", f"--section={section}", f"--snapshot={snapshot}", "--encoding=UTF8", "--no-owner",
            "--no-privileges", "--no-tablespaces", "--no-security-labels", "--no-publications",
            "--no-subscriptions", f"--dbname={make_conninfo(**params)}"]
    return argv, ({"PGPASSWORD": password} if password else {})


_RESTRICT = re.compile(rb"^\\restrict (\S+)\n", re.MULTILINE)


def plain_sql(script: bytes) -> bytes:
    """pg_dump's output without psql's `\\restrict KEY` / `\\unrestrict KEY` guard lines.

    pg_dump 15.14 and later wrap plain output in them; restore sends the SQL without psql, and the key is
    random per run, which would make two dumps of the same data differ.
    """
    match = _RESTRICT.search(script)
    if not match:
        return script
    key = re.escape(match.group(1))
    return re.sub(rb"^\\(?:un)?restrict " + key + rb"\n", b"", script, flags=re.MULTILINE)


class DumpClient:
    """A one-off container of production's server version running pg_dump; removed on exit."""

    def __init__(self, client: docker.DockerClient, image: str, url: str, environment: str):
        self.client = client
        self.image = image
        self.network = client_network(url, published_host(client))
        self.environment = environment
        self.container = None

    def __enter__(self) -> "DumpClient":
        try:
            self.container = self.client.containers.run(
                self.image, entrypoint=["sleep"], command=["86400"], detach=True,
                labels={CLIENT_LABEL: self.environment}, **self.network)
        except docker.errors.DockerException as error:
            raise DumpError(f"cannot start a pg_dump container from {self.image}: {error}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.container.remove(force=True, v=True)  # and the image's anonymous data volume

    def run(self, argv: list[str], environment: dict[str, str]) -> bytes:
        """The command's standard output; DumpError with its last error line when it fails."""
        api = self.client.api
        exec_id = api.exec_create(self.container.id, argv, environment=environment)["Id"]
        out, err = bytearray(), bytearray()
        for stdout, stderr in api.exec_start(exec_id, stream=True, demux=True):
            out += stdout or b""
            err += stderr or b""
        code = api.exec_inspect(exec_id)["ExitCode"]
        if code:
            lines = err.decode(errors="replace").strip().splitlines() or ["(no output)"]
            raise DumpError(f"{argv[0]} in {self.image} failed (exit {code}): {lines[-1]}")
        return bytes(out)


# ---------------------------------------------------------------------------------------- manifest

@dataclass(frozen=True)
class TableEntry:
    """One table in the archive; `member` is None when its rows were excluded."""

    schema: str
    name: str
    member: str | None
    columns: tuple[str, ...]
    rows: int
    subset: str
    masked: tuple[tuple[str, str], ...]  # (column, transformer) for every rule on the table

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class SequenceEntry:
    schema: str
    name: str
    last_value: int


@dataclass(frozen=True)
class Manifest:
    format: str
    tool_version: str
    created_at: str
    server_version: str
    database: str
    tables: tuple[TableEntry, ...]
    sequences: tuple[SequenceEntry, ...]
    ledger: tuple[LedgerRow, ...]

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        """Raises ValueError, KeyError or TypeError on anything but a manifest of this format."""
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ValueError(f"{MANIFEST} is not a {FORMAT} manifest")
        tables = tuple(TableEntry(**{**entry, "columns": tuple(entry["columns"]),
                                     "masked": tuple(tuple(pair) for pair in entry["masked"])})
                       for entry in raw["tables"])
        return cls(**{**raw, "tables": tables,
                      "sequences": tuple(SequenceEntry(**entry) for entry in raw["sequences"]),
                      "ledger": tuple(LedgerRow(**entry) for entry in raw["ledger"])})

    def members(self) -> set[str]:
        return {PRE_DATA, POST_DATA, *(table.member for table in self.tables if table.member)}


# ------------------------------------------------------------------------------------- reporting

@dataclass(frozen=True)
class TableReport:
    entry: TableEntry
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.entry.rows / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class DumpReport:
    path: str
    tables: tuple[TableReport, ...]
    sequences: int
    ledger: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    database: str
    tables: tuple[TableReport, ...]
    ledger: tuple[LedgerRow, ...]
    seconds: float


class Progress(Protocol):
    """What dump and restore report as they go, for the shell to draw rows/s per table.

    `advance` comes at most every PROGRESS_SECONDS per table; restore calls from worker threads, one at a time.
    """

    def start(self, tables: int) -> None: ...
    def advance(self, table: str, rows: int, seconds: float) -> None: ...
    def done(self, report: TableReport) -> None: ...


class Quiet:
    def start(self, tables: int) -> None: ...
    def advance(self, table: str, rows: int, seconds: float) -> None: ...
    def done(self, report: TableReport) -> None: ...


class Meter:
    """Counts one table's rows and reports them at most every PROGRESS_SECONDS."""

    def __init__(self, table: str, progress: Progress):
        self.table = table
        self.progress = progress
        self.started = self.reported = time.monotonic()
        self.rows = 0

    def add(self, data: bytes) -> None:
        self.rows += data.count(b"\n")
        now = time.monotonic()
        if now - self.reported >= PROGRESS_SECONDS:
            self.reported = now
            self.progress.advance(self.table, self.rows, now - self.started)

    def report(self, entry: TableEntry) -> TableReport:
        report = TableReport(entry, time.monotonic() - self.started)
        self.progress.done(report)
        return report


# -------------------------------------------------------------------------------------------- dump

COMPRESS_LEVEL = 1  # deflate runs on the dump's one thread; level 1 keeps it from being the bottleneck


def _member_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=MEMBER_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


@contextmanager
def _archive(path: Path) -> Iterator[zipfile.ZipFile]:
    """A zip written beside its final name and renamed when complete: a failed dump leaves no file."""
    partial = path.with_name(path.name + ".partial")
    if path.exists():
        raise DumpError(f"{path} already exists; move it away and dump again")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(partial, "x", compresslevel=COMPRESS_LEVEL) as archive:
            yield archive
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _begin_snapshot(url: str) -> psycopg.Connection:
    """A read-only REPEATABLE READ session on production: everything read comes from one snapshot.

    A COPY of a large table legitimately runs long, so statements have no timeout; the idle timeout
    still ends a stuck dump's snapshot on the server. As in pg_dump, row security off makes a policy
    that would hide rows from this role an error rather than a silently partial table.
    """
    conn = connect_read_only(url, timeout_seconds=IDLE_SECONDS)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.execute("SET statement_timeout = 0")
    conn.execute("SET client_encoding = 'UTF8'")
    conn.execute("SET row_security = off")
    return conn


def _copy_table(conn: psycopg.Connection, selection: Selection, masker: Masker, rules: Rules, member: str,
                archive: zipfile.ZipFile, progress: Progress) -> TableReport:
    table = selection.table
    meter = Meter(str(table.name), progress)
    transforms = ((column.name.name, rules.transform(column.name)) for column in table.columns)
    masked = tuple((name, str(transform)) for name, transform in transforms if transform)
    if selection.statement is not None:
        rows = masker.table(table.columns, rules)
        try:
            with archive.open(_member_info(member), "w", force_zip64=True) as out, conn.cursor() as cursor, \
                    cursor.copy(selection.statement) as copy:
                for batch in rows.stream(copy):
                    out.write(batch)
                    meter.add(batch)
        except psycopg.Error as error:
            raise DumpError(describe_failure(f"reading {table.name} from production", error)) from None
    entry = TableEntry(table.name.schema, table.name.name, member if selection.statement is not None else None,
                       tuple(column.name.name for column in table.columns), meter.rows, selection.subset, masked)
    return meter.report(entry)


def dump(prod_url: str, *, image: str, rules: Rules, secret: bytes, directory: Path, environment: str,
         progress: Progress | None = None, client: docker.DockerClient | None = None) -> DumpReport:
    """Dump production's schema and sanitized rows into a new archive in `directory`.

    Refuses before anything runs or is written when a PII-looking column has no rule.
    """
    started = time.monotonic()
    progress = progress or Quiet()
    created = datetime.now(timezone.utc)
    path = directory / f"{environment}-{created:%Y%m%dT%H%M%SZ}.sanitized.zip"
    with _begin_snapshot(prod_url) as conn:
        tables = read_tables(conn)
        check([column for table in tables if table.name.schema != ledger.SCHEMA for column in table.columns], rules)
        subset = Subset(tables, rules)
        selections = [subset.selection(table) for table in tables]
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with DumpClient(client or connect_client(), image, prod_url, environment) as container:
            schema = {member: plain_sql(container.run(*pg_dump_command(prod_url, section, snapshot)))
                      for member, section in SECTIONS}
        masker = Masker(secret)
        progress.start(len(selections))
        with _archive(path) as archive:
            for member, script in schema.items():
                archive.writestr(_member_info(member), script)
            reports = tuple(_copy_table(conn, selection, masker, rules, f"data/{index:04d}.copy", archive, progress)
                            for index, selection in enumerate(selections, 1))
            manifest = Manifest(
                FORMAT, __version__, created.isoformat(timespec="seconds"),
                conn.execute("SHOW server_version").fetchone()[0], database_of(prod_url),
                tuple(report.entry for report in reports),
                tuple(SequenceEntry(*row) for row in conn.execute(SEQUENCES_QUERY)),
                tuple(LedgerRow(row.version, row.name, row.checksum) for row in ledger.read(conn)),
            )
            archive.writestr(_member_info(MANIFEST), manifest.to_json())
    return DumpReport(str(path), reports, len(manifest.sequences), len(manifest.ledger), path.stat().st_size,
                      time.monotonic() - started)


# ----------------------------------------------------------------------------------------- restore

def verify_archive(path: Path) -> Manifest:
    """The archive's manifest, after reading every member in full: a damaged dump fails before restore."""
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            if broken:
                raise DumpError(f"{path}: {broken} is corrupt (CRC mismatch); take a new dump with `invoke db.dump`")
            manifest = Manifest.from_json(archive.read(MANIFEST))
            missing = sorted(manifest.members() - set(archive.namelist()))
    except FileNotFoundError:
        raise DumpError(f"{path}: no such dump") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError) as error:
        raise DumpError(f"{path}: not a complete pgparity dump, maybe truncated ({error}); "
                        "take a new one with `invoke db.dump`") from None
    if missing:
        raise DumpError(f"{path}: the manifest lists {', '.join(missing)}, which the archive lacks")
    return manifest


USER_RELATIONS = sql.SQL("""
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {outside_system}
""").format(outside_system=sql.SQL(OUTSIDE_SYSTEM))


def _run_script(conn: psycopg.Connection, path: Path, member: str) -> None:
    with zipfile.ZipFile(path) as archive:
        script = archive.read(member).decode()
    try:
        conn.execute(script)
    except psycopg.Error as error:
        raise DumpError(describe_failure(f"{path.name}: {member}", error)) from None


def _load_table(path: Path, url: str, entry: TableEntry, progress: Progress) -> TableReport:
    """COPY one member into its table, on its own connection so tables load in parallel."""
    meter = Meter(entry.table, progress)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(entry.schema, entry.name), sql.SQL(", ").join(map(sql.Identifier, entry.columns)))
    try:
        with zipfile.ZipFile(path) as archive, archive.open(entry.member) as source, \
                connect(url, autocommit=True, options="-c client_encoding=UTF8") as conn, conn.cursor() as cursor:
            with cursor.copy(statement) as copy:
                while chunk := source.read(CHUNK_BYTES):
                    copy.write(chunk)
                    meter.add(chunk)
            rows = cursor.rowcount
    except psycopg.Error as error:
        raise DumpError(describe_failure(f"{path.name}: loading {entry.table}", error)) from None
    except (zipfile.BadZipFile, zlib.error) as error:
        raise DumpError(f"{path}: {entry.member} is corrupt ({error})") from None
    if rows != entry.rows:
        raise DumpError(f"{path}: {entry.table} loaded {rows} rows, the manifest says {entry.rows}")
    return meter.report(entry)


class _Serialized:
    """Progress calls from worker threads, one at a time."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.lock = threading.Lock()

    def start(self, tables: int) -> None:
        with self.lock:
            self.progress.start(tables)

    def advance(self, table: str, rows: int, seconds: float) -> None:
        with self.lock:
            self.progress.advance(table, rows, seconds)

    def done(self, report: TableReport) -> None:
        with self.lock:
            self.progress.done(report)


def _load_tables(path: Path, url: str, entries: Sequence[TableEntry], jobs: int,
                 progress: Progress) -> tuple[TableReport, ...]:
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_load_table, path, url, entry, progress) for entry in entries]
        try:
            return tuple(future.result() for future in futures)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def restore(path: Path, target_url: str, jobs: int = DEFAULT_JOBS, progress: Progress | None = None) -> RestoreReport:
    """Restore a dump into the empty database at `target_url`: schema, rows (in parallel), keys and indexes.

    The archive is verified whole first. Callers restore into a scratch database and swap it in only
    when this returns, so a failure never touches the dev database; they then apply the migrations the
    dump's ledger lacks.
    """
    started = time.monotonic()
    manifest = verify_archive(path)
    progress = _Serialized(progress or Quiet())
    entries = [entry for entry in manifest.tables if entry.member]
    with connect(target_url, autocommit=True) as conn:
        if conn.execute(USER_RELATIONS).fetchone()[0]:
            raise DumpError(f"{mask_url(target_url)} is not empty; restore into a new database")
        _run_script(conn, path, PRE_DATA)
        progress.start(len(entries))
        reports = _load_tables(path, target_url, entries, jobs, progress)
        for sequence in manifest.sequences:
            name = sql.Identifier(sequence.schema, sequence.name).as_string(conn)
            conn.execute("SELECT pg_catalog.setval(%s::regclass, %s, true)", (name, sequence.last_value))
        _run_script(conn, path, POST_DATA)
        conn.execute("ANALYZE")
    return RestoreReport(database_of(target_url), reports, manifest.ledger, time.monotonic() - started)
