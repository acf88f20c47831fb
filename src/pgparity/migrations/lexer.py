"""An SQL lexer just good enough to see statements as psql splits them, for lint and diagnosis.

Replay always sends whole files: a function body holds semicolons. Lint still needs each statement
and its first words, without being fooled by literals, comments or BEGIN ATOMIC bodies. It reads every
file it has not seen at disk speed: a statement of plain tokens and shallow parentheses is matched by one
regular expression, in C; only the rest (block comments, BEGIN, `$tag$` bodies, deep nesting, psql
meta-commands) is walked token by token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter


@dataclass(frozen=True)
class Statement:
    """One statement of a script, for inspection only: replay always sends whole files."""

    line: int
    text: str

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The bare keywords and identifiers, upper-cased, without comments, literals and quoted
        identifiers, so a command can be recognised without being fooled by function bodies. Read when
        asked: most statements of a large file are known by their first word."""
        if "/*" in self.text:  # comments nest: only the token scanner follows them
            return tuple(self.text[start:end].upper() for kind, start, end in tokenise(self.text) if kind == "word")
        return tuple(" ".join(map(itemgetter(2), _WORDS.findall(self.text))).upper().split())

    @cached_property
    def head(self) -> tuple[str, ...]:
        """The first `HEAD` words (fewer if it has fewer), which name the command, read without the rest of the
        statement: in one match as a rule."""
        if "words" in self.__dict__:
            return self.words[:HEAD]
        head = _HEAD.match(self.text).groups()  # its groups fill in order
        if head[-1]:
            return tuple(map(str.upper, head))
        found: list[str] = []
        for match in _WORDS.finditer(self.text):
            if match.lastgroup == "block":
                return self.words[:HEAD]
            if match.lastgroup == "word":
                found.append(match.group().upper())
                if len(found) == HEAD:
                    break
        return tuple(found)

    @property
    def first(self) -> str:
        """The first word; "" if there is none."""
        return self.head[0] if self.head else ""


@dataclass(frozen=True)
class Meta:
    """A psql meta-command (`\\i file`): it ends the statement before it and belongs to none."""

    line: int
    text: str


# kind ("word", "literal", "comment", "meta", ";", "(", ")" or "other"), start, end.
Token = tuple[str, int, int]

HEAD = 4  # words that name any command lint tells apart (CREATE UNIQUE INDEX CONCURRENTLY)

# The pieces of both scanners. An unterminated literal runs to the end of the script.
_WORD = r"(?![Ee]')[^\W\d][\w$]*+"
_LITERALS = r"""
    [Ee]'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+(?:'|.*+)
  | '[^']*+(?:''[^']*+)*+(?:'|.*+)
  | "[^"]*+(?:""[^"]*+)*+(?:"|.*+)
"""
_DOLLAR = r"\$(?P<tag>(?:[^\W\d]\w*)?)\$(?:.*?\$(?P=tag)\$|.*)"
# Characters that start no literal, comment, group or meta-command: one token each, read in runs.
_PUNCTUATION = r",.=+*<>:@&|!~%^\[\]{}"

_COMMENT_MARK = re.compile(r"/\*|\*/")
# One alternation for every token but whitespace, which a search skips. Block comments nest, which no
# regular expression follows: only their opening is matched here.
_TOKEN = re.compile(rf"""
    (?P<word>{_WORD})
  | (?P<punctuation>[;()])
  | (?P<comment>--[^\n]*)
  | (?P<block>/\*)
  | (?P<literal>{_LITERALS} | {_DOLLAR})
  | (?P<meta>\\[^\n]*)
  | (?P<other>\d+|\S)
""", re.VERBOSE | re.DOTALL)


def _plain(group: str) -> str:
    """What a plain statement is made of, `group` being its parentheses: every token the token scanner
    reads alike, so that both split alike. Not BEGIN (it may open BEGIN ATOMIC), not `$tag$` (its end
    needs a back-reference), not `\\` nor `/*`. The commonest first: literals, runs of blanks, digits and
    punctuation, groups. Possessive throughout: a group that does not close fails at once instead of
    trying every way to split what it holds."""
    return rf"""(?:
        '[^']*+(?:''[^']*+)*+(?:'|.*+) | [\s\d{_PUNCTUATION}]++ {group}
      | (?![Bb][Ee][Gg][Ii][Nn](?![\w$])){_WORD} | {_LITERALS} | \$\$(?:.*?\$\$|.*+)
      | (?!--|/\*)[^\s\w;()\\'"$] | \$(?![^\W\d]\w*+\$|\$)
    )"""


def _groups(depth: int) -> str:
    """Parentheses nested up to `depth` deep, in which `;` and line comments end nothing."""
    group = ""
    for _ in range(depth):
        group = rf"| \( (?: {_plain(group)} | ; | --[^\n]*+ )*+ \)"
    return group


# A plain statement up to its `;` (or the end): what lint sees in nearly every file, matched in one call.
_PLAIN = re.compile(rf"{_plain(_groups(3))}*+", re.VERBOSE | re.DOTALL)
# What comes before a statement and belongs to none; a nested block comment is left to the token scanner.
_BETWEEN = re.compile(r"(?:\s++|--[^\n]*+|/\*(?:[^*/]++|\*(?!/)|/(?!\*))*+\*/)*+")
# A statement's first words when only blanks and punctuation part them: HEAD groups, filled in order.
_NEXT_WORD = rf"(?:[\s(){_PUNCTUATION}]++({_WORD}))?"
_HEAD = re.compile(rf"(?:({_WORD}){_NEXT_WORD * (HEAD - 1)})?")
# The words of a statement, group `word`, what else it holds skipped by the alternation, up to a block comment.
_WORDS = re.compile(rf"--[^\n]*+|{_LITERALS}|{_DOLLAR}|(?P<block>/\*)|(?P<word>{_WORD})", re.VERBOSE | re.DOTALL)


class _Lines:
    """Line numbers of increasing positions, counted once over the script."""

    def __init__(self, sql: str, line: int = 1):
        self.sql, self.position, self.line = sql, 0, line

    def at(self, position: int) -> int:
        self.line += self.sql.count("\n", self.position, position)
        self.position = position
        return self.line


def pieces(sql: str) -> Iterator[Statement | Meta]:
    """The script's statements and psql meta-commands in order, split the way psql does, one at a time:
    what a caller keeps is its own, so memory follows the largest statement, not the script.

    Semicolons inside literals, comments, parentheses and BEGIN ATOMIC bodies do not split. Comments
    before a statement belong to none, after it to no text.
    """
    return (piece for piece, _ in _located(sql))


def streamed(chunks: Iterable[str]) -> Iterator[Statement | Meta]:
    """`pieces` of the script the `chunks` make up, read as they come, so memory follows twice the largest
    statement and a chunk, not the script.

    Each chunk is read up to its last `;` that ends a line; what follows, a statement the chunk's end most
    likely cut, is read with the next chunks, once as much text again has come after it (so a statement longer
    than many chunks is read a few times, not once per chunk). The last chunk is read to its end.
    """
    rest, line, coming, size = "", 1, [], 0
    chunks = iter(chunks)
    chunk = next(chunks, None)
    while chunk is not None:
        coming.append(chunk)
        size += len(chunk)
        chunk = next(chunks, None)
        if chunk is not None and size < len(rest):
            continue
        # Joining one chunk alone returns it, uncopied: a text linted whole is not held twice.
        script, resume, coming, size = "".join([rest, *coming] if rest else coming), 0, [], 0
        if chunk is None:
            yield from (piece for piece, _ in _located(script, line))
            return
        cut = max(script.rfind(";\n"), script.rfind(";\r\n")) + 1 or len(script)
        for piece, after in _located(script[:cut] if cut < len(script) else script, line, final=False):
            if after is None:  # the chunk's end may have cut it
                break
            yield piece
            resume = after
        rest, line = script[resume:], line + script.count("\n", 0, resume)


def _located(sql: str, line: int = 1, final: bool = True) -> Iterator[tuple[Statement | Meta, int | None]]:
    """`pieces`, each with where the text after its end starts, or None where only the end of `sql` ended it.
    Lines are counted from `line`. Unless `sql` is `final`, a statement that runs to its end is left unread:
    the next chunk goes on with it."""
    lines, position, size = _Lines(sql, line), 0, len(sql)
    while position < size:
        position = _BETWEEN.match(sql, position).end()
        end = _PLAIN.match(sql, position).end()
        if end == size and not final:
            return
        # Where the script ends without `;`, trailing blanks may be an unterminated literal's.
        if sql[end:end + 1] != ";" and (end < size or sql[end - 1:end].isspace()):
            position = yield from _scanned(sql, position, lines)
            continue
        if end > position:
            yield Statement(lines.at(position), sql[position:end].rstrip()), end + 1 if end < size else None
        position = end + 1


def statements(sql: str) -> list[Statement]:
    """The script's statements, each with the line it starts on; meta-commands are left out (lint reports them)."""
    return [piece for piece in pieces(sql) if isinstance(piece, Statement)]


def _scanned(sql: str, position: int, lines: _Lines) -> Iterator[tuple[Statement | Meta, int | None]]:
    """One statement read token by token from `position`, and a meta-command that ends it, as `_located` yields
    them; returns where the next one may start."""
    previous = ""
    start = end = parens = atomic = 0
    for kind, token_start, token_end in tokenise(sql, position):
        if kind == "meta" or (kind == ";" and parens == atomic == 0):
            if end:
                yield Statement(lines.at(start), sql[start:end]), token_end if kind == ";" else token_start
            if kind == "meta":
                after = token_end if token_end < len(sql) else None  # the end of `sql` may have cut its line
                yield Meta(lines.at(token_start), sql[token_start:token_end]), after
            return token_end
        if kind == "comment":
            continue
        if not end:
            start = token_start
        end = token_end
        if kind == "word":
            word = sql[token_start:token_end].upper()
            atomic, previous = _atomic_depth(atomic, previous, word), word
        elif kind == "(":
            parens += 1
        elif kind == ")":
            parens = max(parens - 1, 0)
    if end:
        yield Statement(lines.at(start), sql[start:end]), None
    return len(sql)


def _atomic_depth(depth: int, previous: str, word: str) -> int:
    """Track BEGIN ATOMIC ... END (SQL-standard function bodies), whose semicolons do not split."""
    if previous == "BEGIN" and word == "ATOMIC":
        return depth + 1
    if depth and word == "CASE":
        return depth + 1
    if depth and word == "END":
        return depth - 1
    return depth


def tokenise(sql: str, position: int = 0) -> Iterator[Token]:
    """The script's tokens from `position`, without whitespace."""
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
