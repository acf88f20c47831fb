"""What the dump checks in production before it reads a row: PII in unruled columns, sampled by content,
addresses that differ only in case, and CHECK constraints that masked rows would break.

Everything is read in the dump's read-only snapshot; only counts and names leave these functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import replace

import psycopg
from psycopg import sql

from pgparity.data import pii
from pgparity.data.copytext import decode_text, encode_field, split_fields
from pgparity.data.extract import begin_snapshot
from pgparity.data.sanitize import Column, ColumnName, ColumnRule, Masker, Rules, looks_like_pii
from pgparity.data.tables import SourceTable, partition_roots, read_tables
from pgparity.data.transformers import Transform, holds_text
from pgparity.errors import counted

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
                verb = "breaks" if failing == 1 else "break"
                problems.append(f"{table.name}: {failing} of {counted(len(sample), 'masked sample row')} {verb} CHECK "
                                f"{constraint} ({expression}); choose transformers whose output it accepts, or keep")
    return problems
