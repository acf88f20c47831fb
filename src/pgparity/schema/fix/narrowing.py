"""Narrowing: type conversions that need USING, fail on rows or change values, and counting those rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from pgparity.schema.fix.phases import Narrowing
from pgparity.schema.fix.sqltext import literal

if TYPE_CHECKING:  # the plan's DDL modules use the conversions below
    from pgparity.schema.fix.plan import FixPlan


@dataclass(frozen=True)
class Conversion:
    using: bool
    failing: tuple[str, sql.Composable] | None = None  # condition, predicate of failing rows
    loss: str | None = None


TYPE_PARTS = re.compile(r"(?P<base>[a-z][a-z ]*?)(?:\((?P<modifiers>\d+(?:,\d+)?)\))?")
STRING_TYPES = frozenset({"character varying", "text", "character", "bpchar"})
INTEGER_RANGES = {"smallint": (-2**15, 2**15 - 1), "integer": (-2**31, 2**31 - 1), "bigint": (-2**63, 2**63 - 1)}


def converted(source: str, target: str, column: sql.Identifier) -> Conversion:
    a, b = TYPE_PARTS.fullmatch(source), TYPE_PARTS.fullmatch(target)
    if a and b and a["base"] in STRING_TYPES and b["base"] in STRING_TYPES:
        limit, wider = b["modifiers"], a["modifiers"]
        if limit is None or (wider is not None and int(limit) >= int(wider)):
            return Conversion(False)
        return Conversion(False, (f"longer than {limit} characters",
                                  sql.SQL("length({}) > {}").format(column, literal(int(limit)))))
    if a and b and a["base"] in INTEGER_RANGES and b["base"] in INTEGER_RANGES:
        low, high = INTEGER_RANGES[b["base"]]
        predicate = sql.SQL("{} NOT BETWEEN {} AND {}").format(column, literal(low), literal(high))
        failing = (f"outside the range of {target}", predicate)
        return Conversion(False, failing if low > INTEGER_RANGES[a["base"]][0] else None)
    if a and b and a["base"] == b["base"] == "numeric":
        return numeric_conversion(precision(a["modifiers"]), precision(b["modifiers"]), column)
    lossless = b is not None and b["base"] in ("text", "character varying") and b["modifiers"] is None
    return Conversion(True, loss=None if lossless else f"converting {source} to {target} may change values")


def precision(modifiers: str | None) -> tuple[int | None, int | None]:
    if modifiers is None:
        return None, None
    digits, _, scale = modifiers.partition(",")
    return int(digits), int(scale or 0)


def numeric_conversion(source: tuple, target: tuple, column: sql.Identifier) -> Conversion:
    (old_digits, old_scale), (digits, scale) = source, target
    failing = None
    if digits is not None and (old_digits is None or digits - scale < old_digits - old_scale):
        bound = sql.SQL(f"1e{digits - scale}")
        failing = (f"too large for numeric({digits},{scale})",
                   sql.SQL("abs(round({}, {})) >= {}").format(column, literal(scale), bound))
    rounds = scale is not None and (old_scale is None or scale < old_scale)
    return Conversion(False, failing, f"rounds values to {scale} decimal places" if rounds else None)


@dataclass(frozen=True)
class NarrowingCheck:
    narrowing: Narrowing
    rows: int | None  # None: not counted, see `reason`
    reason: str | None = None


def check_narrowing(conn: psycopg.Connection, plan: FixPlan) -> tuple[NarrowingCheck, ...]:
    """Counts, in a read-only transaction that is rolled back, the rows each narrowing would fail on."""
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ ONLY")
        return tuple(count_rows(conn, narrowing) for narrowing in plan.narrowings)


def count_rows(conn: psycopg.Connection, narrowing: Narrowing) -> NarrowingCheck:
    if narrowing.query is None:
        return NarrowingCheck(narrowing, None, "no query can count them")
    try:
        with conn.transaction():
            return NarrowingCheck(narrowing, int(conn.execute(narrowing.query).fetchone()[0]))
    except psycopg.Error as error:
        return NarrowingCheck(narrowing, None, str(error).splitlines()[0])
