"""SQL text: statements composed with psycopg.sql, and names read back out of text the server printed."""

from __future__ import annotations

import re

from psycopg import sql

from pgparity.identifiers import NAME, unquote
from pgparity.schema.fix.phases import Phase, Step
from pgparity.schema.model import Model


def statement(template: str, *args: sql.Composable) -> str:
    """A statement's text: names go in as Identifier, values as Literal, never by formatting."""
    return sql.SQL(template).format(*args).as_string(None)


def step(phase: Phase, template: str, *args: sql.Composable) -> Step:
    return Step(phase, statement(template, *args))


def raw(text: str) -> sql.SQL:
    """SQL the server itself printed (a type, an expression, a definition): used verbatim."""
    return sql.SQL(text)


def literal(value: object) -> sql.SQL:
    """psycopg pads E'' strings and negative numbers with a space against merging; not needed here."""
    return sql.SQL(sql.Literal(value).as_string(None).strip())


def qualified(obj: Model) -> sql.Identifier:
    return sql.Identifier(obj.schema, obj.name)


ROW = sql.Identifier("t")  # the alias of the table a narrowing query counts in
REFERENCED = sql.Identifier("r")


def rows_of(table: Model) -> sql.Composed:
    return sql.SQL("{} AS {}").format(qualified(table), ROW)


def role_name(role: str) -> sql.Composable:
    return sql.SQL("PUBLIC") if role == "PUBLIC" else sql.Identifier(role)


def dollar_quoted(body: str) -> str:
    tag = "$pgparity$"
    while tag in body:
        tag = tag[:-1] + "_$"
    return f"{tag}{body}{tag}"


# Names and lists inside text the server printed: `public."My Table"`, `(a, "b c")`.
QUALIFIED_NAME = re.compile(rf"({NAME})\.({NAME})")
INDEX_KEY = re.compile(rf'{NAME}|[\w.]*\(.*\)', re.DOTALL)
SORT_OPTIONS = re.compile(r"(?: (?:ASC|DESC|NULLS FIRST|NULLS LAST))+$")


def named_relations(definition: str) -> frozenset[tuple[str, str]]:
    """Every schema-qualified name in a view definition (printed with an empty search_path)."""
    return frozenset((unquote(a), unquote(b)) for a, b in QUALIFIED_NAME.findall(definition))


def group(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated items of the parenthesized list opening at `start`, and where it ends."""
    depth, begin, quote, items = 0, start + 1, "", []
    for position in range(start, len(text)):
        char = text[position]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return items + [text[begin:position].strip()], position + 1
        elif char == "," and depth == 1:
            items.append(text[begin:position].strip())
            begin = position + 1
    raise ValueError(f"unbalanced parentheses in {text!r}")
