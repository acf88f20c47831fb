"""An SQL lexer just good enough to see statements as psql splits them, for lint and diagnosis.

Replay always sends whole files: a function body holds semicolons. Lint still needs each statement
and its first words, without being fooled by literals, comments or BEGIN ATOMIC bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement of a script, for inspection only: replay always sends whole files.

    `words` are the bare keywords and identifiers, upper-cased, without comments, literals and
    quoted identifiers, so a command can be recognised without being fooled by function bodies.
    """

    line: int
    text: str
    words: tuple[str, ...]


# kind ("word", "literal", "comment", "meta", ";", "(", ")" or "other"), start, end. A plain tuple:
# lint makes one per token of every file on every sync.
Token = tuple[str, int, int]


_COMMENT_MARK = re.compile(r"/\*|\*/")
# One alternation for every token but whitespace, which a search skips; an unterminated literal
# runs to the end of the script. Block comments nest, which no regular expression follows: only their
# opening is matched here.
_TOKEN = re.compile(r"""
    (?P<word>(?![Ee]')[^\W\d][\w$]*)
  | (?P<punctuation>[;()])
  | (?P<comment>--[^\n]*)
  | (?P<block>/\*)
  | (?P<literal>
        [Ee]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*(?:'|.*)
      | '[^']*(?:''[^']*)*(?:'|.*)
      | "[^"]*(?:""[^"]*)*(?:"|.*)
      | \$(?P<tag>(?:[^\W\d]\w*)?)\$(?:.*?\$(?P=tag)\$|.*)
    )
  | (?P<meta>\\[^\n]*)
  | (?P<other>\d+|\S)
""", re.VERBOSE | re.DOTALL)


def statements(sql: str, tokens: list[Token] | None = None) -> list[Statement]:
    """Split a script into statements the way psql does, each with the line it starts on.

    Semicolons inside literals, comments, parentheses and BEGIN ATOMIC bodies do not split.
    psql meta-commands end a statement and are left out (lint reports them). Comments before a
    statement belong to none, after it to no text. Lint passes the `tokens` it already has.
    """
    found: list[Statement] = []
    words: list[str] = []
    start = end = counted = parens = atomic = 0
    line = 1
    for kind, token_start, token_end in tokens if tokens is not None else tokenise(sql):
        if kind == "meta" or (kind == ";" and parens == atomic == 0):
            if end > start:
                line += sql.count("\n", counted, start)
                counted = start
                found.append(Statement(line, sql[start:end], tuple(words)))
            words, start, end, parens, atomic = [], token_end, token_end, 0, 0
            continue
        if kind == "comment":
            continue
        if end == start:
            start = token_start
        end = token_end
        if kind == "word":
            word = sql[token_start:token_end].upper()
            atomic = _atomic_depth(atomic, words[-1] if words else "", word)
            words.append(word)
        elif kind == "(":
            parens += 1
        elif kind == ")":
            parens = max(parens - 1, 0)
    if end > start:
        found.append(Statement(line + sql.count("\n", counted, start), sql[start:end], tuple(words)))
    return found


def _atomic_depth(depth: int, previous: str, word: str) -> int:
    """Track BEGIN ATOMIC ... END (SQL-standard function bodies), whose semicolons do not split."""
    if previous == "BEGIN" and word == "ATOMIC":
        return depth + 1
    if depth and word == "CASE":
        return depth + 1
    if depth and word == "END":
        return depth - 1
    return depth


def tokenise(sql: str) -> Iterator[Token]:
    """The script's tokens without whitespace. Lint tokenises every file on every sync: a hot path."""
    position = 0
    while True:
        for found in _TOKEN.finditer(sql, position):
            kind, start = found.lastgroup, found.start()
            if kind == "block":
                position = _comment_end(sql, start)
                yield "comment", start, position
                break
            yield sql[start] if kind == "punctuation" else kind, start, found.end()
        else:
            return


def _comment_end(sql: str, position: int) -> int:
    """PostgreSQL block comments nest, unlike C's."""
    depth = 0
    for mark in _COMMENT_MARK.finditer(sql, position):
        depth += 1 if mark.group() == "/*" else -1
        if depth == 0:
            return mark.end()
    return len(sql)
