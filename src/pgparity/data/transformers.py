"""The masking transformers a `[sanitize.columns]` rule can name, one entry each in `TRANSFORMERS`.

An entry says how its rule is spelled (an argument after a colon, the choices it takes, a table form),
what it writes (text at all, distinct values for distinct inputs, how long), which columns it fits,
and builds the function that masks one column's COPY fields. A new transformer is one entry and its
mask function; parsing, the checks before a dump, `str()` and masking all go through the entry.
Its mask function receives the run's Masker (sanitize.py), which holds what is shared: the secret's
keyed hashes (`keyed`), identity ids kept unique across the dump (`identity`), and `leaf`, a rule
applied to a value inside another (a json string, an array element).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pgparity.data import jsonmask, passwords, pii
from pgparity.data.copytext import NULL, FieldFunction, decode_field, encode_field, on_value
from pgparity.data.passwords import dev_password_hash

if TYPE_CHECKING:
    from pgparity.data.sanitize import Column, Masker


@dataclass(frozen=True)
class Transform:
    """One column's transformer, as written in the rules: `email`, `constant:free`, ..."""

    kind: str
    argument: str = ""
    paths: tuple[tuple[str, "Transform"], ...] = ()  # json: each path's own transformer; `argument` is the rest's

    def __str__(self) -> str:
        return TRANSFORMERS[self.kind].spelling(self)


# ------------------------------------------------------------------------------------- column types

TEXT_TYPES = ("text", "citext", "character varying", "character", "varchar", "char", "name")
JSON_TYPES = ("json", "jsonb")


def text_array(column: Column) -> bool:
    """An array whose elements are text (`text[]`, `varchar(50)[]`, ...)."""
    return column.type.endswith("[]") and column.type.removesuffix("[]").split("(")[0] in TEXT_TYPES


def holds_text(column: Column) -> bool:
    """Whether a column's values can carry text: strings, json, arrays and row types (content is sampled in
    these, and `scrub` masks their text form)."""
    return column.textual or column.composite or column.type in JSON_TYPES or column.type.endswith("[]")


# ------------------------------------------------------------------------------------ the registry

Mask = Callable[["Masker", Transform, bool], FieldFunction | None]  # masker, rule, unique column


@dataclass(frozen=True)
class Transformer:
    """One transformer: what it writes, how it is spelled and checked, and its mask function.

    `mask` returns None to pass the column's bytes through untouched. `length` is the longest value it
    writes (None: the input's length, or nothing), given the identity formats in use. `fits` says which
    columns take its text, `misfit` names a problem of its own before the shared checks run.
    """

    name: str
    mask: Mask
    writes_text: bool
    distinct: bool  # distinct inputs give distinct outputs: fit for a unique column
    takes_argument: bool = False  # `name:<value>`, the argument required
    choices: tuple[str, ...] = ()  # the argument it may take after a colon, when it may take one
    elements: bool = False  # an array of text takes it element by element
    alternative: bool = False  # offered when a column is too short for the transformer its rule names
    length: Callable[[Transform, Mapping[str, IdFormat]], int | None] = lambda transform, formats: None
    fits: Callable[[Column], bool] = lambda column: column.textual
    misfit: Callable[[Column], str | None] = lambda column: None
    id_format: IdFormat | None = None  # an identity transformer's spelling of a value's keyed hash
    from_table: Callable[[dict], Transform] | None = None  # the rule written as a TOML table, not a string
    spell: Callable[[Transform], str] | None = None  # how a rule is shown, when not `name[:argument]`

    def spelling(self, transform: Transform) -> str:
        if self.spell:
            return self.spell(transform)
        return f"{self.name}:{transform.argument}" if transform.argument or self.takes_argument else self.name

    def accepts(self, column: Column) -> bool:
        """Whether the column takes what it writes, its elements' type for an array of text."""
        return self.fits(column) or self.elements and text_array(column)


def known() -> str:
    """Every transformer's spelling, for error messages."""
    return ", ".join(sorted(f"{name}:<value>" if kind.takes_argument else
                            f"{name}[:{'|'.join(kind.choices)}]" if kind.choices else name
                            for name, kind in TRANSFORMERS.items()))


def parse_transform(text: Any) -> Transform:
    """A transformer from its spelling; ValueError says what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"must be a transformer name (a string); known: {known()}")
    name, colon, argument = text.partition(":")
    kind = TRANSFORMERS.get(name)
    if kind is None or bool(colon) and not kind.takes_argument and argument not in kind.choices \
            or kind.takes_argument and not colon:
        raise ValueError(f"unknown transformer {text!r}; known: {known()}")
    return Transform(name, argument)


def parse_table(value: dict) -> Transform:
    """A rule written as a table: the transformer it names by key, else the first that has a table form."""
    tabled = [kind for kind in TRANSFORMERS.values() if kind.from_table]
    return next((kind for kind in tabled if kind.name in value), tabled[0]).from_table(value)


# ------------------------------------------------------------------- identity: email, phone, hash

@dataclass(frozen=True)
class IdFormat:
    """How an identity transformer spells a digest: a template around its last `lengths[0]` characters.

    When distinct values of unique columns share that id, they take the next length, and finally the
    whole digest, which no other digest can spell (see resolve): distinct digests never share an output.
    """

    template: str
    decimal: bool
    lengths: tuple[int, ...]

    def spell(self, digest: bytes, length: int | None = None) -> str:
        """The digest's last `length` characters, or all of it."""
        if self.decimal:
            number = int.from_bytes(digest, "big")
            return str(number % 10 ** length).zfill(length) if length else str(number).zfill(78)
        return digest.hex()[-length:] if length else digest.hex()

    def first_function(self) -> Callable[[bytes], str]:
        """The id a digest takes unless it is contested: `spell` at the first length, without its overhead.

        Built per use, for the hot loops (a closure kept on this object would make it unpicklable).
        """
        if not self.lengths:
            return self.spell
        length = self.lengths[0]
        if self.decimal:
            modulus = 10 ** length
            return lambda digest: str(int.from_bytes(digest, "big") % modulus).zfill(length)
        return lambda digest: digest.hex()[-length:]



def identity_length(transform: Transform, formats: Mapping[str, IdFormat]) -> int | None:
    """Counted at its longest id: its whole digest is spelled only after two values share every shorter id,
    a collision of 128 bits."""
    spec = formats[transform.kind]
    length = max(spec.lengths) if spec.lengths else (78 if spec.decimal else 64)
    return len(spec.template) - 2 + length


def identity(masker: Masker, transform: Transform, unique: bool) -> FieldFunction:
    return masker.identity(transform, unique)


def email(masker: Masker, transform: Transform, unique: bool) -> FieldFunction:
    """Masked case-folded, so `lower(a.email) = lower(b.email)` joins still match, unless `email:exact`."""
    return masker.identity(transform, unique, fold=transform.argument != "exact")


# ------------------------------------------------------------------------------------------ persons

FIRST_NAMES = ("Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas",
               "Kemal", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
               "Ulla", "Viktor", "Wanda", "Xenia", "Yusuf", "Zofia")
LAST_NAMES = ("Abbott", "Bergstrom", "Castellano", "Delacroix", "Eriksen", "Fontaine", "Grimaldi",
              "Halvorsen", "Ivanova", "Jaramillo", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura",
              "Okonkwo", "Petrovic", "Quintero", "Rasmussen", "Szabo", "Takahashi", "Underhill",
              "Vasquez", "Whitfield", "Yilmaz", "Zielinski")
PERSON_KINDS = {"first_name": "{first}", "last_name": "{last}", "full_name": "{first} {last}"}
# Each distinct name is masked once per column and run; the cache's size bounds its memory.
CACHE_SIZE = 1 << 16


def person_length(transform: Transform, formats: Mapping[str, IdFormat]) -> int:
    first, last = max(map(len, FIRST_NAMES)), max(map(len, LAST_NAMES))
    return len(PERSON_KINDS[transform.kind].format(first="x" * first, last="x" * last))


def person(masker: Masker, transform: Transform, unique: bool) -> FieldFunction:
    """A fake name picked by the value's keyed hash. Names repeat in any real column, so they are cached."""
    template = PERSON_KINDS[transform.kind]

    def name(value: bytes) -> bytes:
        digest = masker.keyed(transform.kind, value)
        first = FIRST_NAMES[int.from_bytes(digest[:4], "big") % len(FIRST_NAMES)]
        last = LAST_NAMES[int.from_bytes(digest[4:8], "big") % len(LAST_NAMES)]
        return template.format(first=first, last=last).encode()

    return functools.lru_cache(CACHE_SIZE)(on_value(name))


# --------------------------------------------------------------------------------------- free text

_LETTERS_AND_DIGITS = re.compile(r"[^\W_]")


def redact(value: bytes) -> bytes:
    """Letters and digits become `x`; length, spacing and punctuation stay, so layouts still fit."""
    return encode_field(_LETTERS_AND_DIGITS.sub("x", value.decode()).encode())


def text(masker: Masker, transform: Transform, unique: bool) -> FieldFunction:
    return on_value(redact)


class Sparse:
    """A field function that changes few fields (scrub): given a block's whole column, it finds the few with
    one cheap pass over all of them and calls the function on those alone."""

    def __init__(self, function: FieldFunction):
        self.function = function

    def __call__(self, field: bytes) -> bytes:
        return self.function(field)

    def column(self, fields: Sequence[bytes]) -> Sequence[bytes]:
        changed = pii.flagged(fields)
        if not changed:
            return fields
        out = list(fields)
        for index in changed:
            out[index] = self.function(fields[index])
        return out


def scrub(masker: Masker, transform: Transform, unique: bool) -> Sparse:
    """Free text with its embedded PII replaced by the same fakes the columns get.

    Most fields hold nothing to replace and pass as they came: the cheap test reads the field as COPY
    wrote it, whose escapes (a backslash before a control character) never stand where a pattern looks.
    """
    def field_function(field: bytes) -> bytes:
        kinds = pii.candidates(field)
        value = decode_field(field) if kinds else None
        if value is None:
            return field
        scrubbed = pii.scrub(value.decode("utf-8", errors="surrogateescape"), masker.keyed, kinds)
        return encode_field(scrubbed.encode("utf-8", errors="surrogateescape"))

    return Sparse(field_function)


# -------------------------------------------------------------------------------------------- json

JSON_SHAPE = '{ json = { "$.path" = "<transformer>", ... }, rest = "scrub" or "keep" }'


def parse_json_rule(value: dict) -> Transform:
    """`{ json = { "$.email" = "email", ... }, rest = "scrub" }`: a json column masked path by path."""
    paths, rest = value.get("json"), value.get("rest", "scrub")
    if set(value) - {"json", "rest"} or not isinstance(paths, dict) or not paths or rest not in ("scrub", "keep"):
        raise ValueError(f"a json rule is {JSON_SHAPE}")
    parsed = []
    for text, spelled in paths.items():
        jsonmask.parse_path(text)
        transform = parse_transform(spelled)
        if transform.kind == "json":
            raise ValueError(f"json path {text!r}: a path takes a value transformer, not json")
        parsed.append((text, transform))
    return Transform("json", rest, tuple(parsed))


def json(masker: Masker, transform: Transform, unique: bool) -> FieldFunction:
    """A json document masked path by path, every other string scrubbed (or kept)."""
    paths = [(jsonmask.parse_path(path), masker.leaf(rule)) for path, rule in transform.paths]
    rest = masker.leaf(Transform("scrub")) if transform.argument == "scrub" else None
    return on_value(lambda value: encode_field(jsonmask.mask(value.decode(), paths, rest).encode()))


def json_misfit(column: Column) -> str | None:
    if column.type in JSON_TYPES:
        return None
    return f"{column.name} is {column.type}; a json rule needs a json or jsonb column"


def spell_json(transform: Transform) -> str:
    return "json{" + ", ".join(f"{path}={rule}" for path, rule in transform.paths) + f"; rest={transform.argument}}}"


# ------------------------------------------------------------------------------------------ fixed

def password_hash(transform: Transform) -> bytes:
    return dev_password_hash(transform.argument or passwords.DEFAULT)


def fixed(output: bytes) -> FieldFunction:
    """Every value becomes `output`; NULL stays NULL."""
    return lambda field: field if field == NULL else output


def password(masker: Masker, transform: Transform, unique: bool) -> FieldFunction:
    """Every user's password becomes DEV_PASSWORD, hashed in the column's scheme."""
    return fixed(password_hash(transform))


def constant(masker: Masker, transform: Transform, unique: bool) -> FieldFunction:
    return fixed(encode_field(transform.argument.encode()))


def null(masker: Masker, transform: Transform, unique: bool) -> FieldFunction:
    return lambda field: NULL


def null_misfit(column: Column) -> str | None:
    return None if column.nullable else f"{column.name} is NOT NULL; null cannot fill it"


def keep(masker: Masker, transform: Transform, unique: bool) -> None:
    """The column's bytes pass through untouched."""
    return None


TRANSFORMERS: Mapping[str, Transformer] = {transformer.name: transformer for transformer in (
    Transformer("email", email, writes_text=True, distinct=True, choices=("exact",), elements=True,
                alternative=True, length=identity_length,
                id_format=IdFormat("user-{}@example.com", decimal=False, lengths=(16, 24, 32))),
    Transformer("phone", identity, writes_text=True, distinct=True, elements=True, alternative=True,
                length=identity_length, id_format=IdFormat("+1555{}", decimal=True, lengths=(8, 10, 12))),
    Transformer("first_name", person, writes_text=True, distinct=False, elements=True, alternative=True,
                length=person_length),
    Transformer("last_name", person, writes_text=True, distinct=False, elements=True, alternative=True,
                length=person_length),
    Transformer("full_name", person, writes_text=True, distinct=False, elements=True, alternative=True,
                length=person_length),
    # Tokens are long anyway: the whole HMAC is unique with nothing to remember, so a token table of any
    # size streams in constant memory.
    Transformer("hash", identity, writes_text=True, distinct=True, elements=True, alternative=True,
                length=identity_length, id_format=IdFormat("{}", decimal=False, lengths=())),
    Transformer("text", text, writes_text=True, distinct=False, elements=True),
    # Free text, json, arrays: embedded PII replaced, the rest kept.
    Transformer("scrub", scrub, writes_text=True, distinct=False, fits=holds_text),
    # By path, see jsonmask.
    Transformer("json", json, writes_text=True, distinct=False, choices=("scrub", "keep"),
                fits=lambda column: column.textual or column.type in JSON_TYPES, misfit=json_misfit,
                from_table=parse_json_rule, spell=spell_json),
    Transformer("password", password, writes_text=True, distinct=False, choices=tuple(passwords.SCHEMES),
                elements=True, length=lambda transform, formats: len(password_hash(transform))),
    Transformer("constant", constant, writes_text=False, distinct=False, takes_argument=True, elements=True,
                length=lambda transform, formats: len(transform.argument)),
    Transformer("null", null, writes_text=False, distinct=True, misfit=null_misfit),
    Transformer("keep", keep, writes_text=False, distinct=True),
)}
