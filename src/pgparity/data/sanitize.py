"""Sanitize rules and the masking of PostgreSQL COPY text streams; pure logic, no server needed.

Production rows pass through here on their way into a dump, so real emails, names, phones and tokens
never reach a developer's disk. The rules come from the `[sanitize]` section of pgparity.toml:

    [sanitize.columns]
    "public.users.email" = "email"           # user-<id>@example.com
    "public.users.first_name" = "first_name"
    "public.users.password_hash" = "password" # every user's password becomes DEV_PASSWORD
    "public.users.api_key" = "hash"
    "public.users.country" = "keep"
    "public.users.plan" = "constant:free"
    [sanitize.tables]
    "public.audit_log" = { exclude = true }
    "public.events" = { where = "created_at > now() - interval '30 days'" }
    "public.orders" = { limit = 1000 }

Names are `schema.table.column` as the catalog stores them (case-sensitive, unquoted). Each transformer
is one entry in transformers.TRANSFORMERS; this module parses and checks rules and runs the masking.

Masking is deterministic: a value's output depends only on the value, the transformer and the secret
(PGPARITY_SANITIZE_SECRET), so the same email becomes the same fake email in every table and every run
and joins still match. NULL stays NULL under every transformer except `null`.

Unique columns stay unique: `email` and `phone` spell a short part of the value's HMAC-SHA256, and values
of unique columns that share it move to a longer part (see resolve); `hash` writes the whole HMAC. Either
way two outputs of unique columns are equal only if two distinct values had equal HMAC-SHA256 digests.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pgparity.data import pgarray
from pgparity.data.copytext import (
    FieldFunction,
    ValueFunction,
    decode_field,
    decode_text,
    encode_field,
    on_value,
    split_fields,
)
from pgparity.data.transformers import (
    TRANSFORMERS,
    IdFormat,
    Sparse,
    Transform,
    holds_text,
    parse_table,
    parse_transform,
    text_array,
)
from pgparity.errors import SanitizeError

SECRET_VARIABLE = "PGPARITY_SANITIZE_SECRET"
MIN_SECRET_LENGTH = 16


# ---------------------------------------------------------------------------------------------- names

@dataclass(frozen=True, order=True)
class TableName:
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True, order=True)
class ColumnName:
    table: TableName
    name: str

    def __str__(self) -> str:
        return f"{self.table}.{self.name}"


def _parts(text: str, count: int) -> list[str] | None:
    parts = text.split(".")
    if len(parts) != count or not all(part and part == part.strip() for part in parts):
        return None
    return parts


def parse_table_name(text: str) -> TableName | None:
    parts = _parts(text, 2)
    return TableName(*parts) if parts else None


def parse_column_name(text: str) -> ColumnName | None:
    parts = _parts(text, 3)
    return ColumnName(TableName(parts[0], parts[1]), parts[2]) if parts else None


# ---------------------------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class ColumnRule:
    column: ColumnName
    transform: Transform


@dataclass(frozen=True)
class TableRule:
    """Which rows of a table are dumped: none (`exclude`), those matching `where`, at most `limit`."""

    table: TableName
    exclude: bool = False
    where: str | None = None
    limit: int | None = None

    def describe(self) -> str:
        if self.exclude:
            return "excluded"
        parts = ([f"where {self.where}"] if self.where else []) + ([f"limit {self.limit}"] if self.limit else [])
        return " ".join(parts)


@dataclass(frozen=True)
class Rules:
    """Every sanitize rule of the project; empty when pgparity.toml has no [sanitize] section."""

    columns: tuple[ColumnRule, ...] = ()
    tables: tuple[TableRule, ...] = ()
    source: str = "pgparity.toml"

    @functools.cached_property
    def _transforms(self) -> dict[ColumnName, Transform]:
        return {rule.column: rule.transform for rule in self.columns}

    @functools.cached_property
    def _tables(self) -> dict[TableName, TableRule]:
        return {rule.table: rule for rule in self.tables}

    def transform(self, column: ColumnName) -> Transform | None:
        return self._transforms.get(column)

    def table(self, name: TableName) -> TableRule | None:
        return self._tables.get(name)

    def excluded(self, name: TableName) -> bool:
        rule = self.table(name)
        return rule is not None and rule.exclude

    def for_partitions(self, roots: Mapping[TableName, TableName]) -> "Rules":
        """The rules with each one naming a partitioned table given to its partitions (`roots`: partition ->
        partitioned table at the top), present and future; a partition's own rule wins."""
        grouped: dict[TableName, list[TableName]] = defaultdict(list)
        for partition, root in roots.items():
            grouped[root].append(partition)
        children = dict(grouped)  # a plain dict: looking a table up must not add it
        own = {rule.column for rule in self.columns if rule.column.table not in children}
        columns = [rule for rule in self.columns if rule.column.table not in children]
        columns += [ColumnRule(named, rule.transform) for rule in self.columns
                    for partition in children.get(rule.column.table, ())
                    if (named := ColumnName(partition, rule.column.name)) not in own]
        tables = [rule for rule in self.tables if rule.table not in children]
        mine = {rule.table for rule in tables}
        tables += [replace(rule, table=partition) for rule in self.tables for partition in children.get(rule.table, ())
                   if partition not in mine]
        return Rules(tuple(columns), tuple(tables), self.source)


def _key(path: Path, section: str, key: str) -> str:
    return f"{path}: sanitize.{section}.\"{key}\""


def _column_rule(path: Path, key: str, value: Any) -> ColumnRule:
    column = parse_column_name(key)
    if column is None:
        raise SanitizeError(f"{_key(path, 'columns', key)}: name a column \"schema.table.column\", in quotes")
    try:
        return ColumnRule(column, parse_table(value) if isinstance(value, dict) else parse_transform(value))
    except ValueError as error:
        raise SanitizeError(f"{_key(path, 'columns', key)}: {error}") from None


def _table_rule(path: Path, key: str, value: Any) -> TableRule:
    where = _key(path, "tables", key)
    table = parse_table_name(key)
    if table is None:
        raise SanitizeError(f"{where}: name a table \"schema.table\", in quotes")
    if not isinstance(value, dict) or not value or set(value) - {"exclude", "where", "limit"}:
        raise SanitizeError(
            f"{where}: must be {{ exclude = true }}, {{ where = \"<SQL>\" }} and/or {{ limit = <rows> }}")
    exclude, condition, limit = value.get("exclude", False), value.get("where"), value.get("limit")
    if not isinstance(exclude, bool):
        raise SanitizeError(f"{where}: exclude must be true or false")
    if condition is not None and (not isinstance(condition, str) or not condition.strip()):
        raise SanitizeError(f"{where}: where must be a non-empty SQL condition")
    if condition is not None and (problem := unsafe_condition(condition)):
        raise SanitizeError(f"{where}: {problem}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise SanitizeError(f"{where}: limit must be a positive number of rows, got {limit!r}")
    if exclude and (condition or limit):
        raise SanitizeError(f"{where}: exclude = true dumps no rows; where and limit make no sense with it")
    if not exclude and condition is None and limit is None:
        raise SanitizeError(f"{where}: exclude = false with no where or limit is no rule; remove it")
    return TableRule(table, exclude, condition.strip() if condition else None, limit)


# Functions a `where` may not call: they reach other servers or the server's files, or change state that a
# read-only transaction does not protect (sequences, settings, other sessions, notifications).
UNSAFE_FUNCTIONS = re.compile(r"dblink.*|pg_(?:read|ls|stat)_.*|lo_.*|pg_(?:terminate|cancel)_backend|"
                              r"nextval|setval|set_config|pg_notify|pg_advisory.*|pg_sleep.*|pg_reload_conf|"
                              r"pg_rotate_logfile|pg_switch_wal|pg_create_.*|pg_drop_.*|query_to_xml.*|"
                              r"pg_file_.*|pg_logical_.*|pg_replication_.*")


def unsafe_condition(condition: str) -> str | None:
    """Why a `where` condition may not run on production: not one SQL condition, or a call that reaches out."""
    from pglast import ast, parse_sql  # the parser is loaded only for a project with where rules
    from pglast.parser import ParseError
    from pglast.visitors import Visitor

    try:
        parsed = parse_sql(f"SELECT WHERE ({condition})")
    except ParseError as error:
        return f"where is not one SQL condition ({error})"
    if len(parsed) != 1:
        return "where must be one condition, not several statements"
    calls: list[str] = []

    class Calls(Visitor):
        def visit_FuncCall(self, parent: object, node: ast.FuncCall) -> None:
            calls.append(node.funcname[-1].sval.lower())

    Calls()(parsed)
    unsafe = sorted({name for name in calls if UNSAFE_FUNCTIONS.fullmatch(name)})
    return f"where calls {', '.join(unsafe)}, which production must not run for a dump" if unsafe else None


def parse_rules(table: dict, path: Path) -> Rules:
    """The `[sanitize]` section of pgparity.toml; SanitizeError names the file and the bad key."""
    if not isinstance(table, dict):
        raise SanitizeError(f"{path}: [sanitize] must be a table")
    unknown = sorted(set(table) - {"columns", "tables"})
    if unknown:
        raise SanitizeError(f"{path}: unknown key sanitize.{unknown[0]}; known: columns, tables")
    sections = {name: table.get(name, {}) for name in ("columns", "tables")}
    for name, section in sections.items():
        if not isinstance(section, dict):
            raise SanitizeError(f"{path}: [sanitize.{name}] must be a table")
    return Rules(
        columns=tuple(_column_rule(path, key, value) for key, value in sections["columns"].items()),
        tables=tuple(_table_rule(path, key, value) for key, value in sections["tables"].items()),
        source=str(path),
    )


def secret_key(value: str | None) -> bytes:
    """The HMAC key; refuse a missing or short one, since a guessable key lets hashes be reversed."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        raise SanitizeError(
            f"{SECRET_VARIABLE} must be set to at least {MIN_SECRET_LENGTH} characters (keep it in .env.local, "
            "never commit it); make one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return value.encode()


# ------------------------------------------------------------------------------------- PII detection

@dataclass(frozen=True)
class Column:
    """A production column as the checks need it; `unique` when any unique index or key covers it."""

    name: ColumnName
    type: str
    textual: bool
    nullable: bool
    unique: bool
    composite: bool = False  # an array or a row type: it holds text in its text form whatever its elements


PII_WORDS = frozenset({
    "name", "firstname", "lastname", "surname", "fullname", "nickname", "username",
    "email", "mail", "phone", "mobile", "tel", "telephone", "fax",
    "address", "addr", "street", "city", "zip", "zipcode", "postal", "postcode",
    "birth", "birthday", "birthdate", "dob", "ssn", "passport", "login",
    "token", "secret", "password", "passwd", "pwd", "salt", "otp", "credential", "credentials",
    "ip", "iban", "bic", "card", "ccn", "cvv", "cvc", "lat", "latitude", "lon", "lng", "longitude",
})
# Matched inside the name with its separators removed: catches `emailAddress`, `api_key`, `date_of_birth`.
PII_FRAGMENTS = ("email", "phone", "firstname", "lastname", "fullname", "password", "passwd", "secret",
                 "token", "apikey", "privatekey", "accesskey", "address", "street", "birth", "iban",
                 "creditcard", "cardnumber", "taxid", "nationalid")
PII_TYPES = frozenset({"inet", "cidr", "macaddr", "macaddr8"})


def words(name: str) -> list[str]:
    """`homeAddress2` and `home_address_2` both give ["home", "address"]."""
    return re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower())


# Types that hold no personal data whatever the column is called (`email_verified boolean`, `phone_updated_at`),
# unless the name says it is the kind of number or date that is (a birth date, a location).
NEVER_PII_TYPES = frozenset({"boolean"})
TIME_TYPES = ("timestamp", "date", "time", "interval")
NUMBER_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
PII_DATES = frozenset({"birth", "birthday", "birthdate", "dob"})
PII_NUMBERS = frozenset({"lat", "latitude", "lon", "lng", "longitude", "phone", "mobile", "ssn", "zip", "zipcode",
                         "postal", "postcode", "card", "ccn", "cvv", "cvc", "iban"})


def looks_like_pii(column: Column) -> bool:
    parts = words(column.name.name)
    joined = "".join(parts)
    base = column.type.removesuffix("[]")
    if base in NEVER_PII_TYPES:
        return False
    if base.startswith(TIME_TYPES):
        return bool(PII_DATES.intersection(parts)) or "birth" in joined
    if base.startswith(NUMBER_TYPES):
        return bool(PII_NUMBERS.intersection(parts))
    return (base in PII_TYPES or any(part in PII_WORDS for part in parts)
            or any(fragment in joined for fragment in PII_FRAGMENTS))


# The transformer a name suggests, first match wins; unique columns take one that keeps values distinct.
SUGGESTED = (
    (("email", "mail"), "email"), (("phone", "mobile", "tel", "telephone", "fax"), "phone"),
    (("firstname", "givenname"), "first_name"), (("lastname", "surname", "familyname"), "last_name"),
    (("password", "passwd", "pwd"), "password"),
    (("token", "secret", "apikey", "accesskey", "privatekey", "salt", "otp", "credential"), "hash"),
    (("name", "fullname", "nickname", "username", "login"), "full_name"),
)


def suggest(column: Column, found: Mapping[str, int]) -> tuple[Transform, str]:
    """A transformer for a flagged column, and why it was flagged, for the user to review."""
    joined = "".join(words(column.name.name))
    reason = (f"content: {', '.join(f'{kind} {count}' for kind, count in sorted(found.items()))} in a sample"
              if found else f"name{' and type' if column.type.removesuffix('[]') in PII_TYPES else ''}")
    if not column.textual:
        return (Transform("scrub") if holds_text(column) else Transform("null" if column.nullable else "keep")), reason
    for fragments, name in SUGGESTED:
        transform = Transform(name)
        limit, longest = type_length(column.type), output_length(transform)
        if any(fragment in joined for fragment in fragments) and (TRANSFORMERS[name].distinct or not column.unique) \
                and (limit is None or longest is None or longest <= limit):
            return transform, reason
    return Transform("hash" if column.unique else "scrub" if found else "text"), reason


def find_uncovered(columns: Iterable[Column], rules: Rules) -> list[str]:
    """PII-looking columns of dumped tables without a rule (an explicit `keep` covers one)."""
    return sorted(str(c.name) for c in columns
                  if looks_like_pii(c) and rules.transform(c.name) is None and not rules.excluded(c.name.table))


def find_stale(columns: Iterable[Column], rules: Rules) -> list[str]:
    """Rules naming no column or table: a renamed column would otherwise leave its data unmasked."""
    names = {c.name for c in columns}
    tables = {name.table for name in names}
    return sorted([str(r.column) for r in rules.columns if r.column not in names]
                  + [str(r.table) for r in rules.tables if r.table not in tables])


def find_misfits(columns: Iterable[Column], rules: Rules) -> list[str]:
    """Rules whose output the column would reject at restore: wrong type, too long, broken uniqueness, NULL."""
    problems = []
    for column in columns:
        transform = rules.transform(column.name)
        if transform is None or rules.excluded(column.name.table):
            continue
        kind = TRANSFORMERS[transform.kind]
        limit, longest = type_length(column.type), output_length(transform)
        if text_array(column):
            limit = type_length(column.type.removesuffix("[]"))
        if problem := kind.misfit(column):
            problems.append(problem)
        elif kind.writes_text and not kind.accepts(column):
            problems.append(f"{column.name} is {column.type}; {transform} writes text (use keep, null or constant:)")
        elif limit is not None and longest is not None and longest > limit:
            problems.append(f"{column.name} is {column.type}; {transform} writes up to {longest} characters "
                            f"({fitting(limit, column.unique)})")
        elif column.unique and not kind.distinct:
            problems.append(f"{column.name} is unique; {transform} repeats values (use email, phone, hash or keep)")
    return problems


_LENGTH = re.compile(r"(?:character varying|character|varchar|char|bpchar)\((\d+)\)")


def type_length(type_name: str) -> int | None:
    """The most characters a `varchar(n)` or `char(n)` column holds; None when its type sets no limit."""
    found = _LENGTH.fullmatch(type_name)
    return int(found.group(1)) if found else None


def output_length(transform: Transform, formats: Mapping[str, IdFormat] | None = None) -> int | None:
    """The longest value a transformer writes; None when it keeps the input's length (or writes nothing)."""
    return TRANSFORMERS[transform.kind].length(transform, formats or ID_FORMATS)


def fitting(limit: int, unique: bool) -> str:
    """What fits in `limit` characters instead."""
    fits = [name for name, kind in TRANSFORMERS.items()
            if kind.alternative and unique <= kind.distinct and output_length(Transform(name)) <= limit]
    fits += [] if unique else ["text (same length)"]
    return f"use {', '.join(fits)}, or widen the column" if fits else "nothing that keeps it unique fits; widen it"


def find_by_content(columns: Iterable[Column], rules: Rules, found: Mapping[ColumnName, Mapping[str, int]],
                    sampled: Mapping[ColumnName, int]) -> list[str]:
    """Columns without a rule whose sampled values hold PII: the counts and kinds, never the values."""
    return [f"{column.name} ({', '.join(f'{kind} {count}' for kind, count in sorted(found[column.name].items()))} "
            f"in {sampled.get(column.name, 0)} sampled values)"
            for column in sorted(columns, key=lambda c: str(c.name))
            if found.get(column.name) and rules.transform(column.name) is None and not rules.excluded(column.name.table)]


def check(columns: Sequence[Column], rules: Rules, found: Mapping[ColumnName, Mapping[str, int]] | None = None,
          sampled: Mapping[ColumnName, int] | None = None) -> None:
    """Refuse, in one line listing every problem, rules that would leak PII or fail to restore.

    `found` is what sampling production's values turned up per column (see pii); `sampled`, how many values.
    """
    problems = []
    uncovered = find_uncovered(columns, rules)
    if uncovered:
        problems.append(f"PII-looking columns without a rule: {', '.join(uncovered)} "
                        "(add a transformer, or \"keep\" to dump one as it is)")
    by_content = find_by_content([c for c in columns if str(c.name) not in uncovered], rules, found or {},
                                 sampled or {})
    if by_content:
        problems.append(f"PII found in the values of columns without a rule: {', '.join(by_content)} "
                        "(scrub masks it inside free text and json; \"keep\" dumps a column as it is)")
    stale = find_stale(columns, rules)
    if stale:
        problems.append(f"rules that match nothing in production: {', '.join(stale)}")
    problems += find_misfits(columns, rules)
    if problems:
        raise SanitizeError(f"refusing to dump ({rules.source} [sanitize]): " + "; ".join(problems))


# ------------------------------------------------------------------------------------------- masking

# Per identity transformer, the values whose short id is contested: digest -> the id spelled instead.
Moves = Mapping[str, Mapping[bytes, str]]


# The identity transformers' spellings, each from its registry entry.
ID_FORMATS: Mapping[str, IdFormat] = {name: kind.id_format for name, kind in TRANSFORMERS.items() if kind.id_format}


def resolve(formats: Mapping[str, IdFormat], seen: Mapping[str, Iterable[bytes]]) -> dict[str, dict[bytes, str]]:
    """The moves that keep unique columns unique, given the digests of every value they hold (repeats allowed).

    A digest whose first id is shared by another seen digest takes its id at the next length, among the
    digests still contested there, and so on; ids of different lengths never meet. The outcome depends
    only on the set of values, never on the order they were read in, so parallel dumps agree byte for byte.
    """
    moves: dict[str, dict[bytes, str]] = {}
    for kind, digests in seen.items():
        spec = formats[kind]
        moved = _moves(spec, _contested(spec, digests))
        if moved:
            moves[kind] = moved
    return moves


def _contested(spec: IdFormat, digests: Iterable[bytes]) -> set[bytes]:
    """The distinct digests whose first id another digest shares: one pass, one id per value held."""
    owners: dict[str, bytes] = {}
    contested: set[bytes] = set()
    first = spec.first_function()
    for digest in digests:
        owner = owners.setdefault(first(digest), digest)
        if owner != digest:
            contested.update((owner, digest))
    return contested


def _moves(spec: IdFormat, contested: Collection[bytes]) -> dict[bytes, str]:
    """Contested digests to the id at the first longer length no other contested digest shares there."""
    moved: dict[bytes, str] = {}
    remaining = sorted(contested)
    for length in spec.lengths[1:]:
        ids = [spec.spell(digest, length) for digest in remaining]
        counts = Counter(ids)
        moved.update((digest, id_) for digest, id_ in zip(remaining, ids) if counts[id_] == 1)
        remaining = [digest for digest, id_ in zip(remaining, ids) if counts[id_] > 1]
    moved.update((digest, spec.spell(digest)) for digest in remaining)
    return moved


class KeyedHash:
    """HMAC-SHA256 of `kind NUL value` under the secret: the kind keeps an email's hash from its fake email.

    Equal to hmac.digest(secret, kind + b"\0" + value, "sha256"); the padded-key states of RFC 2104 are
    computed once instead of per value, which makes it three times faster over millions of values.
    """

    BLOCK = 64

    def __init__(self, secret: bytes, kind: str):
        key = (hashlib.sha256(secret).digest() if len(secret) > self.BLOCK else secret).ljust(self.BLOCK, b"\0")
        self.inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key) + kind.encode() + b"\0")
        self.outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def __call__(self, value: bytes) -> bytes:
        inner = self.inner.copy()
        inner.update(value)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def records(transform: Transform | None, unique: bool, formats: Mapping[str, IdFormat] = ID_FORMATS) -> bool:
    """Whether a column's values must be seen to resolve contested ids: unique, masked to a short id."""
    return unique and transform is not None and transform.kind in formats and bool(formats[transform.kind].lengths)


class Masker:
    """Turns rules into field functions sharing one secret, the run's moves, and the digests seen.

    `seen` collects, per identity transformer, the digests of every value of a unique column masked here;
    resolve turns the seen digests of the whole dump into the moves a rerun is given.
    """

    def __init__(self, secret: bytes, formats: Mapping[str, IdFormat] = ID_FORMATS, moves: Moves | None = None):
        self.formats = formats
        self.moves = moves or {}
        self.seen: dict[str, set[bytes]] = {kind: set() for kind in formats}
        self.secret = secret
        self.digests: dict[str, KeyedHash] = {}

    def function(self, transform: Transform, unique: bool) -> FieldFunction | None:
        """The function for one column's COPY fields, its transformer's; None when its bytes pass untouched."""
        return TRANSFORMERS[transform.kind].mask(self, transform, unique)

    def identity(self, transform: Transform, unique: bool, fold: bool = False) -> FieldFunction:
        """A fake email, phone or hash: the template around the value's id, moved if contested.

        With `fold` the id is the lower-cased value's, so `lower(a.email) = lower(b.email)` joins still match.
        The hottest path of a dump, hence written out in one function.
        """
        kind = transform.kind
        seen = self.seen[kind] if records(transform, unique, self.formats) else None
        spec, keyed, moved = self.formats[kind], self.hasher(kind), self.moves.get(kind, {})
        prefix, suffix = (part.encode() for part in spec.template.split("{}"))
        inner, outer, first = keyed.inner.copy, keyed.outer.copy, spec.first_function()

        def mask(field: bytes) -> bytes:
            value = decode_field(field)
            if value is None:
                return field
            if fold:
                value = folded(value)
            state = inner()
            state.update(value)
            final = outer()
            final.update(state.digest())
            digest = final.digest()
            if seen is not None:
                seen.add(digest)
            return prefix + (moved.get(digest) or first(digest)).encode() + suffix

        return mask

    def elements(self, transform: Transform) -> ValueFunction:
        """An array of text with each element masked by `transform`."""
        leaf = self.leaf(transform)
        return lambda value: encode_field(pgarray.mask(value.decode("utf-8", "surrogateescape"), leaf).encode(
            "utf-8", "surrogateescape"))

    def leaf(self, rule: Transform) -> Callable[[str], str | None]:
        """`rule` on one value inside a larger one (a json string, an array element)."""
        function = self.function(rule, unique=False)
        if function is None:
            return lambda text: text
        return lambda text: decode_text(function(encode_field(text.encode("utf-8", "surrogateescape"))))

    def hasher(self, kind: str) -> KeyedHash:
        """The secret's keyed hash for `kind`, made once per run."""
        if kind not in self.digests:
            self.digests[kind] = KeyedHash(self.secret, kind)
        return self.digests[kind]

    def keyed(self, kind: str, value: bytes) -> bytes:
        return self.hasher(kind)(value)

    def table(self, columns: Sequence[Column], rules: Rules) -> "RowMasker":
        """The masker for one table's COPY rows, whose fields are `columns` in order; an array of text is
        masked element by element by a value transformer."""
        plan = []
        for index, column in enumerate(columns):
            transform = rules.transform(column.name)
            if transform and text_array(column) and TRANSFORMERS[transform.kind].elements:
                function = on_value(self.elements(transform))
            else:
                function = self.function(transform, column.unique) if transform else None
            if function is not None:
                plan.append((index, function))
        return RowMasker(len(columns), tuple(plan))


def folded(value: bytes) -> bytes:
    """`value` lower-cased as text: ASCII the fast way, anything else through Unicode."""
    return value.lower() if value.isascii() else value.decode("utf-8", "surrogateescape").lower().encode(
        "utf-8", "surrogateescape")


BATCH_BYTES = 1 << 16


class RowMasker:
    """Masks one table's COPY text rows; fields without a rule are passed on as they came.

    Rows are masked a block at a time and column by column, so the per-row work left in Python is
    the masking functions themselves.
    """

    def __init__(self, width: int, plan: tuple[tuple[int, FieldFunction], ...]):
        self.width = width
        self.plan = plan

    def rows(self, block: bytes) -> bytes:
        """Complete rows, each ending in a newline, masked."""
        if not self.plan or not block:
            return block
        rows = [line.split(b"\t") if b"\\\t" not in line else split_fields(line)
                for line in block[:-1].split(b"\n")]
        widths = set(map(len, rows))
        if widths != {self.width}:
            raise SanitizeError(f"a COPY row has {max(widths - {self.width})} fields, expected {self.width}")
        columns: list[Iterable[bytes]] = list(zip(*rows))
        for index, function in self.plan:
            columns[index] = function.column(columns[index]) if isinstance(function, Sparse) else map(function,
                                                                                                    columns[index])
        return b"\n".join(map(b"\t".join, zip(*columns))) + b"\n"

    def stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Masked rows in blocks of about BATCH_BYTES; a block at a time is held, never a table.

        COPY TO escapes data newlines, so `\\n` ends a row; chunks may cut rows anywhere.
        """
        batch: list[bytes] = []
        size = 0
        for chunk in chunks:
            batch.append(chunk)
            size += len(chunk)
            if size >= BATCH_BYTES:
                data = b"".join(batch)
                cut = data.rfind(b"\n") + 1
                if cut:
                    yield self.rows(data[:cut])
                batch, size = [data[cut:]], len(data) - cut
        data = b"".join(batch)
        if data and not data.endswith(b"\n"):
            raise SanitizeError("the COPY stream ended in the middle of a row")
        if data:
            yield self.rows(data)
