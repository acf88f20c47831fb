"""db.dump and restore: production's schema and sanitized rows in one deterministic archive.

Production is only read. One session, REPEATABLE READ and READ ONLY (with default_transaction_read_only
set by the server too, so a rule's WHERE cannot write whatever the role may do), reads the catalog and
exports its snapshot. Worker processes (extract.py) import that snapshot and stream the tables' rows, a
part at a time, through the sanitizer; pg_dump, in a one-off container of production's server version
(no host client needed), dumps the schema from the same snapshot meanwhile. Rows are masked in memory on
their way out of production: nothing unmasked is ever written.

The archive, `dumps/<environment>-<UTC time>.sanitized.zip` (written as `.partial` until complete):

    manifest.json            format, versions, row counts, rules applied, sequences, production's ledger
    schema/pre-data.sql      pg_dump --section=pre-data, without owners or privileges
    schema/post-data.sql     pg_dump --section=post-data: keys, indexes, foreign keys, triggers
    data/NNNN.PPP.copy.zst   part PPP of table NNNN's rows in COPY text format, zstd-compressed, stored

A large table is cut into parts by ranges of its pages, so it is read, masked and restored in parallel.
Members carry a fixed timestamp, so the same production data and secret give byte-identical members.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import docker
import docker.errors
import psycopg
import zstandard
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgparity import __version__
from pgparity.config import LedgerTable, mask_url
from pgparity.container.engine import connect_client, published_host
from pgparity.data import pii, postdata
from pgparity.data.extract import (
    PROGRESS_SECONDS,
    Extractor,
    Part,
    PartResult,
    begin_snapshot,
    part_file,
    plan_part,
)
from pgparity.data.sanitize import (
    Column,
    ColumnName,
    ColumnRule,
    Masker,
    Rules,
    TableName,
    TableRule,
    Transform,
    check,
    decode_text,
    encode_field,
    holds_text,
    looks_like_pii,
    split_fields,
)
from pgparity.database import connect, database_of
from pgparity.errors import DumpError, SanitizeError
from pgparity.folders import own_folder
from pgparity.migrations.apply import describe_failure
from pgparity.migrations.ledgers import hidden, read_ledger
from pgparity.schema.model import Ledger
from pgparity.schema.serialize import from_plain

FORMAT = "pgparity-dump/3"  # 3: production's ledger of any tool, left out of the schema and rows
MANIFEST = "manifest.json"
PRE_DATA = "schema/pre-data.sql"
POST_DATA = "schema/post-data.sql"
SECTIONS = ((PRE_DATA, "pre-data"), (POST_DATA, "post-data"))
MEMBER_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip time: members do not change with the clock
CLIENT_LABEL = "pgparity.dump-client"
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
CHUNK_BYTES = 1 << 16
DEFAULT_JOBS = max(2, min(4, os.cpu_count() or 1))
PART_PAGES = 4096  # 32 MiB of heap per part: large tables are read, masked and loaded by several workers
TID_RANGE_SCANS = 140000  # server_version_num from which a ctid range reads only its pages


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
    pages: int = 0  # the table's size in pages when the dump began


OUTSIDE_SYSTEM = "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"

COLUMNS_QUERY = sql.SQL("""
SELECT n.nspname, c.relname, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int,
       a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory = 'S', t.typcategory IN ('A', 'C'),
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

# With the table owning each sequence (serial, identity), so that a ledger's own sequence stays behind with it.
SEQUENCES_QUERY = """
SELECT s.schemaname, s.sequencename, s.last_value, tn.nspname || '.' || t.relname
FROM pg_catalog.pg_sequences s
     JOIN pg_namespace sn ON sn.nspname = s.schemaname
     JOIN pg_class c ON c.relnamespace = sn.oid AND c.relname = s.sequencename
     LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     LEFT JOIN pg_class t ON t.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE s.last_value IS NOT NULL AND s.schemaname <> 'information_schema' AND s.schemaname !~ '^pg_'
ORDER BY s.schemaname, s.sequencename
"""


SAMPLE_PAGES = 64  # about 0.5 MiB of each table is read for the content check, whatever its size
SAMPLE_ROWS = 1000


def sample_pii(conn: psycopg.Connection, tables: Sequence[SourceTable], rules: Rules
               ) -> tuple[dict[ColumnName, Counter[str]], dict[ColumnName, int]]:
    """The PII that a sample of each unruled text, json or array column holds, counted by kind, and how many
    values were sampled. Read in the dump's own read-only snapshot; only counts leave this function."""
    found: dict[ColumnName, Counter[str]] = {}
    sampled: dict[ColumnName, int] = {}
    for table in tables:
        columns = [c for c in table.columns if holds_text(c) and rules.transform(c.name) is None]
        if not columns or not table.pages or rules.excluded(table.name):
            continue
        percent = min(100.0, 100.0 * SAMPLE_PAGES / table.pages)
        query = sql.SQL("SELECT {} FROM {} TABLESAMPLE SYSTEM ({}) LIMIT {}").format(
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c.name.name)) for c in columns),
            sql.Identifier(table.name.schema, table.name.name), sql.Literal(percent), sql.Literal(SAMPLE_ROWS))
        rows = conn.execute(query).fetchall()
        for index, column in enumerate(columns):
            values = [row[index] for row in rows if row[index] is not None]
            sampled[column.name] = len(values)
            found[column.name] = pii.census(values)
    return found, sampled


PARTITION_ROOTS = sql.SQL("""
SELECT n.nspname, c.relname, rn.nspname, r.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_class r ON r.oid = pg_partition_root(c.oid) JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.relispartition AND c.relkind = 'r' AND {outside_system}
""").format(outside_system=sql.SQL(OUTSIDE_SYSTEM))


def survey(prod_url: str, rules: Rules, ruled: bool = False) -> list[tuple[Column, Counter[str]]]:
    """Every column of production's tables that looks like PII by name or holds it by content and has no
    rule (or any rule, with `ruled`), with what its sampled values held: what `db.dump --init-rules` writes
    and `db.dump --explain` shows. Unruled columns are sampled; with `ruled`, every text-like one is."""
    with closing(begin_snapshot(prod_url)) as conn:
        tables = read_tables(conn)
        roots = partition_roots(conn)
        rules = rules.for_partitions(roots)
        found, _ = sample_pii(conn, tables, Rules() if ruled else rules)
    flagged: dict[ColumnName, tuple[Column, Counter[str]]] = {}
    for table in tables:
        for column in table.columns:
            if (ruled or rules.transform(column.name) is None) and not rules.excluded(table.name) \
                    and (looks_like_pii(column) or found.get(column.name)):
                # A partition's column is named as its partitioned table's: one rule covers them all.
                named = ColumnName(roots.get(table.name, table.name), column.name.name)
                seen = flagged.get(named, (replace(column, name=named), Counter()))
                flagged[named] = (seen[0], seen[1] + found.get(column.name, Counter()))
    return list(flagged.values())


def partition_roots(conn: psycopg.Connection) -> dict[TableName, TableName]:
    """Each partition holding rows, and the partitioned table at the top of its tree."""
    return {TableName(schema, name): TableName(root_schema, root) for schema, name, root_schema, root
            in conn.execute(PARTITION_ROOTS)}


CHECKS_QUERY = """
SELECT c.conname, pg_get_expr(c.conbin, c.conrelid),
       ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey))
FROM pg_constraint c WHERE c.contype = 'c' AND c.conrelid = %s::regclass ORDER BY c.conname
"""
CHECK_ROWS = 100


def exact_where_case_differs(conn: psycopg.Connection, tables: Sequence[SourceTable],
                             rules: Rules) -> tuple[Rules, list[str]]:
    """The rules with `email` made `email:exact` on a unique column holding two addresses that differ only in
    case: folded, they would mask to one value and break the key. Said in the notes."""
    exact, notes = [], []
    for table in tables:
        for column in table.columns:
            transform = rules.transform(column.name)
            if not (column.unique and transform == Transform("email")):
                continue
            # Two addresses differing only in case need one that is not lower case already: look for that first,
            # which one pass without grouping settles for the usual column of lower-case addresses.
            query = sql.SQL("SELECT EXISTS (SELECT FROM {table} WHERE {name} <> lower({name})) AND EXISTS "
                            "(SELECT FROM {table} WHERE {name} IS NOT NULL GROUP BY lower({name}) HAVING count(*) > 1)")
            found = query.format(table=sql.Identifier(table.name.schema, table.name.name),
                                 name=sql.Identifier(column.name.name))
            if conn.execute(found).fetchone()[0]:
                exact.append(column.name)
                notes.append(f"{column.name} holds addresses that differ only in case; masked exactly (email:exact), "
                             "so lower() joins on it may not match")
    if not exact:
        return rules, notes
    kept = tuple(rule for rule in rules.columns if rule.column not in exact)
    return Rules(kept + tuple(ColumnRule(name, Transform("email", "exact")) for name in exact), rules.tables,
                 rules.source), notes


def broken_checks(conn: psycopg.Connection, tables: Sequence[SourceTable], rules: Rules, secret: bytes) -> list[str]:
    """CHECK constraints on masked columns that masked sample rows would break at restore, with counts.

    The sample is masked here, in memory, and the constraint evaluated on it as literal rows: nothing is written.
    """
    masker = Masker(secret)
    problems = []
    for table in tables:
        masked = {c.name.name for c in table.columns if rules.transform(c.name)}
        name = sql.Identifier(table.name.schema, table.name.name)
        if not masked or rules.excluded(table.name):
            continue
        checks = [(constraint, expression) for constraint, expression, columns
                  in conn.execute(CHECKS_QUERY, (name.as_string(conn),)) if masked & set(columns)]
        if not checks:
            continue
        rows = conn.execute(sql.SQL("SELECT {} FROM {} LIMIT {}").format(
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c.name.name)) for c in table.columns),
            name, sql.Literal(CHECK_ROWS))).fetchall()
        if not rows:
            continue
        block = b"".join(b"\t".join(encode_field(None if v is None else v.encode()) for v in row) + b"\n" for row in rows)
        sample = [[decode_text(field) for field in split_fields(line)]
                  for line in masker.table(table.columns, rules).rows(block)[:-1].split(b"\n")]
        values = sql.SQL(", ").join(
            sql.SQL("({})").format(sql.SQL(", ").join(
                sql.SQL("{}::{}").format(sql.Literal(value), sql.SQL(column.type))
                for value, column in zip(row, table.columns))) for row in sample)
        aliases = sql.SQL(", ").join(sql.Identifier(c.name.name) for c in table.columns)
        for constraint, expression in checks:
            failing = conn.execute(sql.SQL("SELECT count(*) FROM (VALUES {}) AS t ({}) WHERE NOT ({})").format(
                values, aliases, sql.SQL(expression))).fetchone()[0]
            if failing:
                problems.append(f"{table.name}: {failing} of {len(sample)} masked sample rows break CHECK {constraint} "
                                f"({expression}); choose transformers whose output it accepts, or keep")
    return problems


def read_tables(conn: psycopg.Connection) -> tuple[SourceTable, ...]:
    """Production's tables with data (partitions, not their parents), their keys and foreign keys."""
    columns: dict[TableName, list[Column]] = defaultdict(list)
    pages: dict[TableName, int] = {}
    for schema, table, size, name, type_, textual, composite, nullable, unique in conn.execute(COLUMNS_QUERY):
        table_name = TableName(schema, table)
        pages[table_name] = size
        columns[table_name].append(Column(ColumnName(table_name, name), type_, textual, nullable, unique, composite))
    keys: dict[TableName, tuple[str, ...]] = {}
    foreign_keys: dict[TableName, list[ForeignKey]] = defaultdict(list)
    for kind, schema, table, names, parent_schema, parent, parent_names in conn.execute(CONSTRAINTS_QUERY):
        if kind == "p":
            keys[TableName(schema, table)] = tuple(names)
        else:
            foreign_keys[TableName(schema, table)].append(
                ForeignKey(tuple(names), TableName(parent_schema, parent), tuple(parent_names)))
    return tuple(SourceTable(name, tuple(cols), keys.get(name, ()), tuple(foreign_keys[name]), pages[name])
                 for name, cols in columns.items())


# ------------------------------------------------------------------------------------------- subsets

@dataclass(frozen=True)
class Selection:
    """What one table contributes to the dump: the COPY statements reading its parts, and how its rows were chosen."""

    table: SourceTable
    statements: tuple[sql.Composed, ...]  # none: the table's rows are excluded
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

    def selection(self, table: SourceTable, parts: int = 1) -> Selection:
        """The table's selection; a table dumped whole is read in `parts` ranges of its pages."""
        rule = self.rules.table(table.name) or TableRule(table.name)
        if rule.exclude:
            return Selection(table, (), rule.describe())
        columns = sql.SQL(", ").join(sql.Identifier(column.name.name) for column in table.columns)
        target = sql.Identifier(table.name.schema, table.name.name)
        if table.name not in self.partial:
            if parts == 1:
                return Selection(table, (sql.SQL("COPY {} ({}) TO STDOUT").format(target, columns),), "all rows")
            return Selection(table, tuple(sql.SQL("COPY (SELECT {} FROM {} WHERE {}) TO STDOUT").format(
                columns, target, page_range(part, parts, table.pages)) for part in range(parts)), "all rows")
        chain = self._ancestry(table.name, ())
        ctes = sql.SQL(", ").join(sql.SQL("{} AS ({})").format(sql.Identifier(self.aliases[name]), self._kept(name))
                                  for name in chain)
        statement = sql.SQL("COPY (WITH {} SELECT {} FROM {}) TO STDOUT").format(
            ctes, columns, sql.Identifier(self.aliases[table.name]))
        return Selection(table, (statement,), self._describe(table, rule))

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


def page_range(part: int, parts: int, pages: int) -> sql.Composed:
    """The rows of one part: its share of the pages, the last part open-ended for rows added since."""
    size = -(-pages // parts)
    bounds = []
    if part:
        bounds.append(sql.SQL("ctid >= {}::tid").format(sql.Literal(f"({part * size},0)")))
    if part < parts - 1:
        bounds.append(sql.SQL("ctid < {}::tid").format(sql.Literal(f"({(part + 1) * size},0)")))
    return sql.SQL(" AND ").join(bounds)


def part_count(table: SourceTable, server_version: int) -> int:
    """How many parts a table is read in: one per PART_PAGES, when the server scans a ctid range alone."""
    return table.pages // PART_PAGES + 1 if server_version >= TID_RANGE_SCANS else 1


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


def pg_dump_command(url: str, section: str, snapshot: str, left_out: Bookkeeping = None
                    ) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment: read-only session, the given snapshot, password not in argv;
    production's ledger tables (`left_out`) are not dumped: the manifest records where production stands."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    params["options"] = f"{params.get('options', '')} -c default_transaction_read_only=on".strip()
    params["application_name"] = "pgparity-dump"
    argv = ["pg_dump", f"--section={section}", f"--snapshot={snapshot}", "--encoding=UTF8", "--no-owner",
            "--no-tablespaces", "--no-security-labels", "--no-publications",
            "--no-subscriptions", *exclusions(left_out), f"--dbname={make_conninfo(**params)}"]
    return argv, ({"PGPASSWORD": password} if password else {})


Bookkeeping = tuple[frozenset[str], frozenset[str]] | None  # the qualified tables and the schemas of a ledger


def exclusions(left_out: Bookkeeping) -> list[str]:
    """pg_dump options leaving out a ledger's tables and schemas, as exact (quoted) patterns."""
    if not left_out:
        return []
    tables, schemas = left_out
    quoted = [".".join(f'"{part}"' for part in table.split(".", 1)) for table in sorted(tables)]
    return [f"--exclude-table={table}" for table in quoted] + [f'--exclude-schema="{schema}"' for schema in sorted(schemas)]


def bookkeeping(name: str, left_out: Bookkeeping) -> bool:
    """Whether the qualified table or sequence `name` belongs to the ledger."""
    if not left_out:
        return False
    tables, schemas = left_out
    return name in tables or name.split(".", 1)[0] in schemas


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
class Member:
    """One part of a table's rows in the archive."""

    name: str
    rows: int


@dataclass(frozen=True)
class TableEntry:
    """One table in the archive; no members when its rows were excluded."""

    schema: str
    name: str
    members: tuple[Member, ...]
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
    ledger: Ledger | None  # production's, apart from the dump: its position, not its data

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        """Raises ValueError, KeyError or TypeError on anything but a manifest of this format."""
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            found = raw.get("format") if isinstance(raw, dict) else None
            raise ValueError(f"{MANIFEST} has format {found!r}; this pgparity reads {FORMAT}")
        tables = tuple(TableEntry(**{**entry, "columns": tuple(entry["columns"]),
                                     "members": tuple(Member(**member) for member in entry["members"]),
                                     "masked": tuple(tuple(pair) for pair in entry["masked"])})
                       for entry in raw["tables"])
        return cls(**{**raw, "tables": tables,
                      "sequences": tuple(SequenceEntry(**entry) for entry in raw["sequences"]),
                      "ledger": from_plain(Ledger | None, raw["ledger"], "manifest.ledger")})

    def members(self) -> set[str]:
        return {PRE_DATA, POST_DATA, *(member.name for table in self.tables for member in table.members)}


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
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestoreReport:
    database: str
    tables: tuple[TableReport, ...]
    ledger: Ledger | None
    seconds: float
    notes: tuple[str, ...] = ()  # what could not be restored as it was, such as a grant to a missing role


class Progress(Protocol):
    """What dump and restore report as they go, for the shell to draw rows/s per table.

    `advance` comes at most every PROGRESS_SECONDS per table, with the rows so far; calls come one at a time.
    """

    def start(self, tables: int) -> None: ...
    def advance(self, table: str, rows: int, seconds: float) -> None: ...
    def done(self, report: TableReport) -> None: ...


class Quiet:
    def start(self, tables: int) -> None: ...
    def advance(self, table: str, rows: int, seconds: float) -> None: ...
    def done(self, report: TableReport) -> None: ...


class Meter:
    """Counts one table's rows over its parts and reports them at most every PROGRESS_SECONDS."""

    def __init__(self, table: str, parts: int, progress: Progress):
        self.table = table
        self.progress = progress
        self.started = self.reported = time.monotonic()
        self.rows = [0] * parts

    def count(self, part: int, rows: int) -> None:
        """The rows one part has read or loaded so far."""
        self.rows[part] = rows
        now = time.monotonic()
        if now - self.reported >= PROGRESS_SECONDS:
            self.reported = now
            self.progress.advance(self.table, sum(self.rows), now - self.started)


# -------------------------------------------------------------------------------------------- dump

def _member_info(name: str, compress: bool = True) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=MEMBER_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    return info


@contextmanager
def _archive(path: Path) -> Iterator[zipfile.ZipFile]:
    """A zip written beside its final name and renamed when complete: a failed dump leaves no file."""
    partial = path.with_name(path.name + ".partial")
    try:
        # Readable by its owner alone, from its first byte: masked rows are still production's rows.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file, \
                zipfile.ZipFile(file, "w") as archive:
            yield archive
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _store(archive: zipfile.ZipFile, member: str, source: Path) -> None:
    """A worker's zstd file as a stored member: its rows were compressed once, in the worker."""
    with source.open("rb") as data, archive.open(_member_info(member, compress=False), "w", force_zip64=True) as out:
        shutil.copyfileobj(data, out, CHUNK_BYTES * 16)


class _Tables:
    """Every table's meter, reached through the members of its parts; reports tables once all are done."""

    def __init__(self, tables: Sequence[tuple[str, Sequence[str]]], progress: Progress):
        progress.start(len(tables))
        self.meters: dict[str, tuple[Meter, int]] = {}
        for table, members in tables:
            meter = Meter(table, len(members), progress)
            self.meters.update((member, (meter, position)) for position, member in enumerate(members))
        self.progress = progress
        self.reports: list[TableReport] = []

    def count(self, member: str, rows: int) -> None:
        meter, position = self.meters[member]
        meter.count(position, rows)

    def report(self, entry: TableEntry, results: Sequence[PartResult]) -> None:
        """Rows/s over the time from the table's first part starting to its last one ending."""
        seconds = max(r.finished for r in results) - min(r.started for r in results) if results else 0.0
        self.reports.append(TableReport(entry, seconds))
        self.progress.done(self.reports[-1])


def _plan(conn: psycopg.Connection, tables: Sequence[SourceTable], rules: Rules) -> list[tuple[Selection, list[Part]]]:
    """Each table's selection and the parts that read it, numbered into member names."""
    subset = Subset(tables, rules)
    planned = []
    for index, table in enumerate(tables, 1):
        selection = subset.selection(table, part_count(table, conn.info.server_version))
        parts = [plan_part(str(table.name), f"data/{index:04d}.{number:03d}.copy.zst", statement.as_string(conn),
                           table.columns, rules) for number, statement in enumerate(selection.statements, 1)]
        planned.append((selection, parts))
    return planned


def _entry(selection: Selection, parts: Sequence[Part], results: dict[str, PartResult], rules: Rules) -> TableEntry:
    table = selection.table
    transforms = ((column.name.name, rules.transform(column.name)) for column in table.columns)
    masked = tuple((name, str(transform)) for name, transform in transforms if transform)
    members = tuple(Member(part.member, results[part.member].rows) for part in parts)
    return TableEntry(table.name.schema, table.name.name, members, tuple(column.name.name for column in table.columns),
                      sum(member.rows for member in members), selection.subset, masked)


def _schema(client: docker.DockerClient, image: str, url: str, environment: str, snapshot: str,
            left_out: Bookkeeping) -> dict[str, bytes]:
    with DumpClient(client, image, url, environment) as container:
        return {member: plain_sql(container.run(*pg_dump_command(url, section, snapshot, left_out)))
                for member, section in SECTIONS}


def dump(prod_url: str, *, image: str, rules: Rules, secret: bytes, directory: Path, environment: str,
         progress: Progress | None = None, client: docker.DockerClient | None = None,
         jobs: int = DEFAULT_JOBS, production_ledger: LedgerTable | None = None) -> DumpReport:
    """Dump production's schema and sanitized rows into a new archive in `directory`.

    Refuses before anything runs or is written when a PII-looking column has no rule. `jobs` worker
    processes read the tables' parts, while pg_dump dumps the schema. Production's ledger (the one
    `production_ledger` names, or the first found) goes into the manifest, not into the dump.
    """
    started = time.monotonic()
    created = datetime.now(timezone.utc)
    path = directory / f"{environment}-{created:%Y%m%dT%H%M%SZ}.sanitized.zip"
    if path.exists():
        raise DumpError(f"{path} already exists; move it away and dump again")
    with closing(begin_snapshot(prod_url)) as conn:  # closed, not committed: its work ends with the export
        found = read_ledger(conn, production_ledger)
        left_out = hidden(found) if found else None
        tables = tuple(table for table in read_tables(conn) if not bookkeeping(str(table.name), left_out))
        rules = rules.for_partitions(partition_roots(conn))
        check([column for table in tables for column in table.columns], rules, *sample_pii(conn, tables, rules))
        rules, notes = exact_where_case_differs(conn, tables, rules)
        if problems := broken_checks(conn, tables, rules, secret):
            raise SanitizeError(f"refusing to dump ({rules.source} [sanitize]): " + "; ".join(problems))
        planned = _plan(conn, tables, rules)
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        sequences = tuple(SequenceEntry(schema, name, value) for schema, name, value, owner in conn.execute(SEQUENCES_QUERY)
                          if not bookkeeping(f"{schema}.{name}", left_out) and not bookkeeping(owner or "", left_out))
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        client = client or connect_client()
        own_folder(directory, "sanitized production dumps")
        meters = _Tables([(str(selection.table.name), [part.member for part in parts]) for selection, parts in planned],
                         progress or Quiet())
        with tempfile.TemporaryDirectory(prefix=".pgparity-dump-", dir=directory) as work, \
                Extractor(prod_url, snapshot, secret, rules, Path(work), jobs) as pool, ThreadPoolExecutor(1) as thread:
            schema = thread.submit(_schema, client, image, prod_url, environment, snapshot, left_out)
            results = pool.run([part for _, parts in planned for part in parts], meters.count)
            entries = []
            for selection, parts in planned:
                entries.append(_entry(selection, parts, results, rules))
                meters.report(entries[-1], [results[part.member] for part in parts])
            manifest = Manifest(FORMAT, __version__, created.isoformat(timespec="seconds"), server_version,
                                database_of(prod_url), tuple(entries), sequences, found)
            with _archive(path) as archive:
                for member, script in schema.result().items():
                    archive.writestr(_member_info(member), script)
                for _, parts in planned:
                    for part in parts:
                        _store(archive, part.member, part_file(Path(work), part.member))
                archive.writestr(_member_info(MANIFEST), manifest.to_json())
    return DumpReport(str(path), tuple(meters.reports), len(sequences), len(found.entries) if found else 0,
                      path.stat().st_size, time.monotonic() - started, tuple(notes))


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


def _script(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode()


def _run(conn: psycopg.Connection, path: Path, member: str, script: str) -> None:
    try:
        conn.execute(script)
    except psycopg.Error as error:
        raise DumpError(describe_failure(f"{path.name}: {member}", error)) from None


def _load_table(path: Path, url: str, entry: TableEntry,
                on_rows: Callable[[str, int], None]) -> list[PartResult]:
    """COPY a table's parts in order, in one transaction on its own connection, so tables load in parallel.

    In order, the rows keep production's physical order (a primary key's sort finds them sorted); in the
    transaction that empties the table, COPY FREEZE writes them frozen, so building indexes, checking
    foreign keys and ANALYZE never rewrite a page to set hint bits.
    """
    table = sql.Identifier(entry.schema, entry.name)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        table, sql.SQL(", ").join(map(sql.Identifier, entry.columns)))
    results = []
    try:
        with zipfile.ZipFile(path) as archive, \
                connect(url, options="-c client_encoding=UTF8") as conn, conn.cursor() as cursor:
            cursor.execute(sql.SQL("TRUNCATE ONLY {}").format(table))
            for member in entry.members:
                started, loaded = time.monotonic(), 0
                with archive.open(member.name) as stored, zstandard.ZstdDecompressor().stream_reader(stored) as source, \
                        cursor.copy(statement) as copy:
                    while chunk := source.read(CHUNK_BYTES):
                        copy.write(chunk)
                        loaded += chunk.count(b"\n")
                        on_rows(member.name, loaded)
                if cursor.rowcount != member.rows:
                    raise DumpError(f"{path}: {member.name} of {entry.table} loaded {cursor.rowcount} rows, "
                                    f"the manifest says {member.rows}")
                results.append(PartResult(member.name, member.rows, started, time.monotonic()))
    except psycopg.Error as error:
        raise DumpError(describe_failure(f"{path.name}: loading {entry.table}", error)) from None
    except (zipfile.BadZipFile, zstandard.ZstdError) as error:
        raise DumpError(f"{path}: a part of {entry.table} is corrupt ({error})") from None
    return results


def _rebuild(path: Path, url: str, manifest: Manifest, jobs: int, progress: Progress) -> tuple[TableReport, ...]:
    """Rows, keys, indexes, foreign keys, the rest of post-data and statistics, in parallel (postdata.py)."""
    entries = [entry for entry in manifest.tables if entry.members]
    meters = _Tables([(entry.table, [member.name for member in entry.members]) for entry in entries], progress)
    lock = threading.Lock()
    loaded: dict[str, list[PartResult]] = {}

    def count(member: str, rows: int) -> None:
        with lock:
            meters.count(member, rows)

    def load(entry: TableEntry) -> None:
        loaded[entry.table] = _load_table(path, url, entry, count)

    def run_step(step: postdata.Step) -> None:
        try:
            sessions.execute(step.statement)
        except psycopg.Error as error:
            where = f"{path.name}: {POST_DATA}: {step.type.lower()} {step.name}"
            raise DumpError(describe_failure(where, error)) from None

    def table(entry: TableEntry) -> frozenset[postdata.Table]:
        return frozenset({(entry.schema, entry.name)})

    preamble, found = postdata.steps(_script(path, POST_DATA))
    sessions = postdata.Sessions(url, preamble)
    loads = [postdata.Job(f"load {entry.table}", table(entry), functools.partial(load, entry))
             for entry in sorted(entries, key=lambda entry: entry.rows, reverse=True)]
    analyze = [postdata.Job(f"analyze {entry.table}", table(entry), functools.partial(run_step, postdata.Step(
        entry.table, "ANALYZE", sql.SQL("ANALYZE {}").format(sql.Identifier(entry.schema, entry.name)), table(entry))))
        for entry in manifest.tables]
    try:
        postdata.run(postdata.plan(loads, found, run_step, analyze), jobs)
    finally:
        sessions.close()
    for entry in entries:
        meters.report(entry, loaded[entry.table])
    return tuple(meters.reports)


def restore(path: Path, target_url: str, jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
            manifest: Manifest | None = None) -> RestoreReport:
    """Restore a dump into the empty database at `target_url`: schema, rows (in parallel), keys and indexes.

    The archive is verified whole first, unless the caller did (`manifest`). Callers restore into a scratch
    database and swap it in only when this returns, so a failure never touches the dev database; they then
    apply the migrations production had not applied when it was dumped.
    """
    started = time.monotonic()
    manifest = manifest or verify_archive(path)
    with connect(target_url, autocommit=True) as conn:
        if conn.execute(USER_RELATIONS).fetchone()[0]:
            raise DumpError(f"{mask_url(target_url)} is not empty; restore into a new database")
        preamble, entries = postdata.steps(_script(path, PRE_DATA))
        grants = [entry for entry in entries if entry.type in PRIVILEGES]
        _run(conn, path, PRE_DATA, preamble + "".join(entry.statement for entry in entries if entry not in grants))
        for sequence in manifest.sequences:
            name = sql.Identifier(sequence.schema, sequence.name).as_string(conn)
            conn.execute("SELECT pg_catalog.setval(%s::regclass, %s, true)", (name, sequence.last_value))
    reports = _rebuild(path, target_url, manifest, jobs, progress or Quiet())
    with connect(target_url, autocommit=True) as conn:
        notes = _grant(conn, path, grants)
    return RestoreReport(database_of(target_url), reports, manifest.ledger, time.monotonic() - started, notes)


PRIVILEGES = frozenset({"ACL", "DEFAULT ACL"})


def _grant(conn: psycopg.Connection, path: Path, grants: Sequence[postdata.Step]) -> tuple[str, ...]:
    """Production's privileges, last; one naming a role this server lacks is left out and said so (db.up
    creates the roles the production profile lists)."""
    notes = []
    for grant in grants:
        try:
            conn.execute(grant.statement)
        except psycopg.errors.UndefinedObject as error:
            notes.append(f"privileges on {grant.name} not restored: {error.diag.message_primary}")
        except psycopg.Error as error:
            raise DumpError(describe_failure(f"{path.name}: {PRE_DATA}: privileges on {grant.name}", error)) from None
    return tuple(notes)
