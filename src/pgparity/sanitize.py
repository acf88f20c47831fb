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

Names are `schema.table.column` as the catalog stores them (case-sensitive, unquoted).

Masking is deterministic: a value's output depends only on the value, the transformer and the secret
(PGPARITY_SANITIZE_SECRET), so the same email becomes the same fake email in every table and every run
and joins still match. NULL stays NULL under every transformer except `null`.

Unique columns stay unique: `email` and `phone` spell a short part of the value's HMAC-SHA256 and move a
value to a longer part when a distinct value already holds the short one (see Registry); `hash` writes the
whole HMAC. Either way two outputs are equal only if two distinct values had equal HMAC-SHA256 digests.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SanitizeError

SECRET_VARIABLE = "PGPARITY_SANITIZE_SECRET"
MIN_SECRET_LENGTH = 16
DEV_PASSWORD = "pgparity-dev"
# Django's format (`pbkdf2_sha256$iterations$salt$base64`): hashlib makes it, and werkzeug/passlib
# users can put their own hash of DEV_PASSWORD into a `constant:` rule instead.
PASSWORD_ITERATIONS = 600_000
PASSWORD_SALT = "pgparitydevsalt"


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
class Kind:
    """What a transformer writes: text at all, and whether distinct inputs stay distinct (unique-safe)."""

    name: str
    writes_text: bool
    distinct: bool
    takes_argument: bool = False


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("email", writes_text=True, distinct=True),
    Kind("phone", writes_text=True, distinct=True),
    Kind("hash", writes_text=True, distinct=True),
    Kind("first_name", writes_text=True, distinct=False),
    Kind("last_name", writes_text=True, distinct=False),
    Kind("full_name", writes_text=True, distinct=False),
    Kind("text", writes_text=True, distinct=False),
    Kind("password", writes_text=True, distinct=False),
    Kind("constant", writes_text=False, distinct=False, takes_argument=True),
    Kind("null", writes_text=False, distinct=True),
    Kind("keep", writes_text=False, distinct=True),
)}


@dataclass(frozen=True)
class Transform:
    """One column's transformer, as written in the rules: `email`, `constant:free`, ..."""

    kind: str
    argument: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.argument}" if KINDS[self.kind].takes_argument else self.kind


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


def _key(path: Path, section: str, key: str) -> str:
    return f"{path}: sanitize.{section}.\"{key}\""


def parse_transform(text: Any) -> Transform:
    """A transformer from its spelling; ValueError says what is wrong."""
    known = ", ".join(sorted(f"{name}:<value>" if kind.takes_argument else name for name, kind in KINDS.items()))
    if not isinstance(text, str):
        raise ValueError(f"must be a transformer name (a string); known: {known}")
    name, colon, argument = text.partition(":")
    kind = KINDS.get(name)
    if kind is None or bool(colon) != kind.takes_argument:
        raise ValueError(f"unknown transformer {text!r}; known: {known}")
    return Transform(name, argument)


def _column_rule(path: Path, key: str, value: Any) -> ColumnRule:
    column = parse_column_name(key)
    if column is None:
        raise SanitizeError(f"{_key(path, 'columns', key)}: name a column \"schema.table.column\", in quotes")
    try:
        return ColumnRule(column, parse_transform(value))
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
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise SanitizeError(f"{where}: limit must be a positive number of rows, got {limit!r}")
    if exclude and (condition or limit):
        raise SanitizeError(f"{where}: exclude = true dumps no rows; where and limit make no sense with it")
    if not exclude and condition is None and limit is None:
        raise SanitizeError(f"{where}: exclude = false with no where or limit is no rule; remove it")
    return TableRule(table, exclude, condition.strip() if condition else None, limit)


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


def looks_like_pii(column: Column) -> bool:
    parts = words(column.name.name)
    joined = "".join(parts)
    return (column.type.removesuffix("[]") in PII_TYPES or any(part in PII_WORDS for part in parts)
            or any(fragment in joined for fragment in PII_FRAGMENTS))


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
    """Rules whose output the column would reject at restore: wrong type, broken uniqueness, NULL."""
    problems = []
    for column in columns:
        transform = rules.transform(column.name)
        if transform is None or rules.excluded(column.name.table):
            continue
        kind = KINDS[transform.kind]
        if kind.writes_text and not column.textual:
            problems.append(f"{column.name} is {column.type}; {transform} writes text (use keep, null or constant:)")
        elif column.unique and not kind.distinct:
            problems.append(f"{column.name} is unique; {transform} repeats values (use email, phone, hash or keep)")
        elif transform.kind == "null" and not column.nullable:
            problems.append(f"{column.name} is NOT NULL; null cannot fill it")
    return problems


def check(columns: Sequence[Column], rules: Rules) -> None:
    """Refuse, in one line listing every problem, rules that would leak PII or fail to restore."""
    problems = []
    uncovered = find_uncovered(columns, rules)
    if uncovered:
        problems.append(f"PII-looking columns without a rule: {', '.join(uncovered)} "
                        "(add a transformer, or \"keep\" to dump one as it is)")
    stale = find_stale(columns, rules)
    if stale:
        problems.append(f"rules that match nothing in production: {', '.join(stale)}")
    problems += find_misfits(columns, rules)
    if problems:
        raise SanitizeError(f"refusing to dump ({rules.source} [sanitize]): " + "; ".join(problems))


# ------------------------------------------------------------------------------------------- masking

FIRST_NAMES = ("Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas",
               "Kemal", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
               "Ulla", "Viktor", "Wanda", "Xenia", "Yusuf", "Zofia")
LAST_NAMES = ("Abbott", "Bergstrom", "Castellano", "Delacroix", "Eriksen", "Fontaine", "Grimaldi",
              "Halvorsen", "Ivanova", "Jaramillo", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura",
              "Okonkwo", "Petrovic", "Quintero", "Rasmussen", "Szabo", "Takahashi", "Underhill",
              "Vasquez", "Whitfield", "Yilmaz", "Zielinski")

PERSON_KINDS = {"first_name": "{first}", "last_name": "{last}", "full_name": "{first} {last}"}

# A value (decoded, never NULL) to the COPY field written in its place, already escaped.
ValueFunction = Callable[[bytes], bytes]


@dataclass(frozen=True)
class IdFormat:
    """How an identity transformer spells a digest: a template around its last `lengths[0]` characters.

    When a distinct value already holds that id, the next length is tried, and finally the whole digest,
    which no other digest can spell: distinct digests never share an output.
    """

    template: str
    decimal: bool
    lengths: tuple[int, ...]

    def spell(self, digest: bytes) -> str:
        return str(int.from_bytes(digest, "big")).zfill(78) if self.decimal else digest.hex()


ID_FORMATS: Mapping[str, IdFormat] = {
    "email": IdFormat("user-{}@example.com", decimal=False, lengths=(16, 24, 32)),
    "phone": IdFormat("+1555{}", decimal=True, lengths=(8, 10, 12)),
    # Tokens are long anyway: the whole HMAC is unique with nothing to remember, so a token table of any
    # size streams in constant memory.
    "hash": IdFormat("{}", decimal=False, lengths=()),
}


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


class Registry:
    """The short ids one identity transformer handed out in a run, and which digest owns each.

    Values of unique columns are recorded (about 180 bytes each: the price of the guarantee); every other
    column only looks ids up and streams in constant memory, yet a value keeps one spelling across
    tables even after a collision moved it to a longer id.
    """

    def __init__(self, spec: IdFormat):
        self.spec = spec
        self.owners: dict[str, bytes] = {}

    def claim(self, digest: bytes, record: bool) -> str:
        full = self.spec.spell(digest)
        for length in self.spec.lengths:
            candidate = full[-length:]
            owner = self.owners.setdefault(candidate, digest) if record else self.owners.get(candidate, digest)
            if owner == digest:
                return candidate
        return full


@functools.cache
def dev_password_hash() -> bytes:
    """One hash of DEV_PASSWORD, computed once: every masked user logs in with that password."""
    derived = hashlib.pbkdf2_hmac("sha256", DEV_PASSWORD.encode(), PASSWORD_SALT.encode(), PASSWORD_ITERATIONS)
    return f"pbkdf2_sha256${PASSWORD_ITERATIONS}${PASSWORD_SALT}${base64.b64encode(derived).decode()}".encode()


_LETTERS_AND_DIGITS = re.compile(r"[^\W_]")


def redact(value: bytes) -> bytes:
    """Letters and digits become `x`; length, spacing and punctuation stay, so layouts still fit."""
    return encode_field(_LETTERS_AND_DIGITS.sub("x", value.decode()).encode())


class Masker:
    """Turns rules into value functions sharing one secret and one registry per identity transformer."""

    def __init__(self, secret: bytes, formats: Mapping[str, IdFormat] = ID_FORMATS):
        self.formats = formats
        self.registries = {kind: Registry(spec) for kind, spec in formats.items()}
        self.digests = {kind: KeyedHash(secret, kind) for kind in (*formats, *PERSON_KINDS)}

    def function(self, transform: Transform, unique: bool) -> ValueFunction | None:
        """The function for one column; None for `keep`, whose bytes pass through untouched."""
        kind = transform.kind
        if kind == "keep":
            return None
        if kind in self.formats:
            return functools.partial(self.identity, kind, unique)
        if kind in PERSON_KINDS:
            return functools.partial(self.person, kind)
        if kind == "text":
            return redact
        if kind == "password":
            output = dev_password_hash()
        elif kind == "constant":
            output = encode_field(transform.argument.encode())
        else:  # null
            output = NULL
        return lambda value: output

    def identity(self, kind: str, record: bool, value: bytes) -> bytes:
        short_id = self.registries[kind].claim(self.digests[kind](value), record)
        return self.formats[kind].template.format(short_id).encode()

    def person(self, kind: str, value: bytes) -> bytes:
        digest = self.digests[kind](value)
        first = FIRST_NAMES[int.from_bytes(digest[:4], "big") % len(FIRST_NAMES)]
        last = LAST_NAMES[int.from_bytes(digest[4:8], "big") % len(LAST_NAMES)]
        return PERSON_KINDS[kind].format(first=first, last=last).encode()

    def table(self, columns: Sequence[Column], rules: Rules) -> "RowMasker":
        """The masker for one table's COPY rows, whose fields are `columns` in order."""
        plan = []
        for index, column in enumerate(columns):
            transform = rules.transform(column.name)
            function = self.function(transform, column.unique) if transform else None
            if function is not None:
                plan.append((index, function))
        return RowMasker(len(columns), tuple(plan))


# ---------------------------------------------------------------------------------- COPY text format

NULL = b"\\N"
BATCH_BYTES = 1 << 16
_ESCAPED = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)
_DECODED = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
_SPECIAL = re.compile(rb"[\\\t\n\r\b\f\v]")
_ENCODED = {b"\\": b"\\\\", b"\t": b"\\t", b"\n": b"\\n", b"\r": b"\\r", b"\b": b"\\b", b"\f": b"\\f",
            b"\v": b"\\v"}
_FIELD = re.compile(rb"(?:[^\\\t]|\\.)*", re.DOTALL)


def _decode_escape(match: re.Match[bytes]) -> bytes:
    octal, hexadecimal, char = match.groups()
    if octal:
        return bytes([int(octal, 8) & 0xFF])
    if hexadecimal:
        return bytes([int(hexadecimal, 16)])
    return _DECODED.get(char, char)


def decode_field(field: bytes) -> bytes | None:
    """A COPY text field's value: `\\N` is NULL; `\\t`, `\\n`, `\\\\`, octal and hex escapes are decoded."""
    if field == NULL:
        return None
    return _ESCAPED.sub(_decode_escape, field) if b"\\" in field else field


def encode_field(value: bytes | None) -> bytes:
    """The inverse of decode_field, escaping as COPY TO does."""
    if value is None:
        return NULL
    return _SPECIAL.sub(lambda match: _ENCODED[match.group()], value)


def split_fields(line: bytes) -> list[bytes]:
    """A row's fields; a backslash escapes the character after it, a tab included.

    COPY TO writes data tabs as `\\t`, so a tab right after a backslash only occurs after an escaped
    backslash; lines without that pair split plainly.
    """
    if b"\\\t" not in line:
        return line.split(b"\t")
    fields, position = [], 0
    while True:
        match = _FIELD.match(line, position)
        fields.append(match.group())
        position = match.end()
        if position == len(line):
            return fields
        if line[position] != 0x09:
            raise SanitizeError(f"malformed COPY row: a backslash ends the line: {line[:60]!r}...")
        position += 1


def copy_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Rows of a COPY stream cut anywhere into chunks; COPY TO escapes data newlines, so `\\n` ends a row."""
    pending = b""
    for chunk in chunks:
        data = pending + bytes(chunk) if pending else bytes(chunk)
        lines = data.split(b"\n")
        pending = lines.pop()
        yield from lines
    if pending:
        raise SanitizeError("the COPY stream ended in the middle of a row")


class RowMasker:
    """Masks one table's COPY text rows; fields without a rule are passed on as they came."""

    def __init__(self, width: int, plan: tuple[tuple[int, ValueFunction], ...]):
        self.width = width
        self.plan = plan

    def row(self, line: bytes) -> bytes:
        if not self.plan:
            return line + b"\n"
        fields = split_fields(line)
        if len(fields) != self.width:
            raise SanitizeError(f"a COPY row has {len(fields)} fields, expected {self.width}")
        for index, function in self.plan:
            field = fields[index]
            if field != NULL:
                fields[index] = function(decode_field(field))
        return b"\t".join(fields) + b"\n"

    def stream(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Masked rows in batches of about BATCH_BYTES; one row at a time is held, never a table.

        A table without rules is passed through as it came, without cutting it into rows.
        """
        return batched(self.row(line) for line in copy_lines(chunks)) if self.plan else batched(whole_rows(chunks))


def whole_rows(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks unchanged, after checking the stream does not end in the middle of a row."""
    last = b"\n"
    for chunk in chunks:
        if chunk:
            last = bytes(chunk)
            yield last
    if not last.endswith(b"\n"):
        raise SanitizeError("the COPY stream ended in the middle of a row")


def batched(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Pieces joined into batches of about BATCH_BYTES, so the writer sees few large writes."""
    batch, size = [], 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= BATCH_BYTES:
            yield b"".join(batch)
            batch, size = [], 0
    if batch:
        yield b"".join(batch)
