"""PostgreSQL's COPY text format: how a field's value is escaped, and how a row splits into fields."""

from __future__ import annotations

import re
from collections.abc import Callable

from pgparity.errors import SanitizeError

# A value (decoded, never NULL) to the COPY field written in its place, already escaped.
ValueFunction = Callable[[bytes], bytes]
# A COPY field as the server wrote it (escaped, maybe `\\N`) to the field written in its place.
FieldFunction = Callable[[bytes], bytes]

NULL = b"\\N"
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


def decode_text(field: bytes) -> str | None:
    value = decode_field(field)
    return None if value is None else value.decode("utf-8", errors="surrogateescape")


def encode_field(value: bytes | None) -> bytes:
    """The inverse of decode_field, escaping as COPY TO does."""
    if value is None:
        return NULL
    return _SPECIAL.sub(lambda match: _ENCODED[match.group()], value) if _SPECIAL.search(value) else value


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


def on_value(function: ValueFunction) -> FieldFunction:
    """A value function applied to COPY fields: NULL stays NULL, escapes are decoded first."""
    def apply(field: bytes) -> bytes:
        value = decode_field(field)
        return field if value is None else function(value)

    return apply
