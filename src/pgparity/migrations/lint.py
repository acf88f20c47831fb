"""Lint of one migration file: what would fail halfway through a replay, found without a database.

psql-only commands, statements that refuse to run in a transaction block, transaction control in a
file pgparity already wraps in one, and the `-- pgparity: option` lines that open a file. A file's
result depends only on its content and on this module and the lexer (the lint cache relies on that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

from pgparity.migrations.ledger import SCHEMA, TABLE
from pgparity.migrations.lexer import Meta, Statement, streamed, tokenise
from pgparity.migrations.model import Finding, Linted

NO_TRANSACTION = "no-transaction"
# Production already has this file's effects (a hot fix codified by db.fix): it counts as applied there,
# and its statements are no-ops where their objects exist.
IN_PRODUCTION = "in-production"
OPTIONS = frozenset({NO_TRANSACTION, IN_PRODUCTION})

_HEADER_OPTION = re.compile(r"--\s*pgparity\s*:(.*)", re.IGNORECASE)
# `-- pgparity: allow rewrite, scan`: hazards accepted (migrations/hazards.py reads them), not an option.
ALLOW = re.compile(r"--\s*pgparity\s*:\s*allow\s+([\w\-, ]+)", re.IGNORECASE)


TRANSACTION_CONTROL = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"}
_NEVER_IN_TRANSACTION = {
    ("ALTER", "SYSTEM"), ("CREATE", "DATABASE"), ("DROP", "DATABASE"),
    ("CREATE", "TABLESPACE"), ("DROP", "TABLESPACE"),
}
_CONCURRENT_INDEX = (
    ("CREATE", "INDEX", "CONCURRENTLY"), ("CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"),
    ("DROP", "INDEX", "CONCURRENTLY"),
)
_REINDEX_TARGETS = ("INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM")


def _non_transactional(statement: Statement) -> str | None:
    """The command's name if PostgreSQL refuses to run it inside a transaction block."""
    head = statement.head
    if head[:1] == ("VACUUM",):
        return "VACUUM"
    if head[:2] in _NEVER_IN_TRANSACTION:
        return " ".join(head[:2])
    for pattern in _CONCURRENT_INDEX:
        if head[:len(pattern)] == pattern:
            return f"{pattern[0]} INDEX CONCURRENTLY"
    if head[:2] == ("ALTER", "TABLE") and {"DETACH", "CONCURRENTLY"} <= set(statement.words):
        return "DETACH PARTITION CONCURRENTLY"
    if head[:1] == ("REINDEX",):
        return _reindex(statement.words)
    return None


def _reindex(words: tuple[str, ...]) -> str | None:
    """REINDEX ... CONCURRENTLY and REINDEX of a whole schema, database or system commit as they go."""
    if "CONCURRENTLY" in words:
        return "REINDEX CONCURRENTLY"
    target = next((word for word in words[1:] if word in _REINDEX_TARGETS), None)
    return f"REINDEX {target}" if target in ("SCHEMA", "DATABASE", "SYSTEM") else None


def lint_sql(path: Path, sql: str, no_transaction: bool = False, own_transactions: bool = False,
             one_by_one: bool = False) -> Linted:
    """`lint_chunks` of a text in memory."""
    return lint_chunks(path, (sql,), no_transaction, own_transactions, one_by_one)


def lint_chunks(path: Path, chunks: Iterable[str], no_transaction: bool = False, own_transactions: bool = False,
                one_by_one: bool = False) -> Linted:
    """Whether the file whose text the `chunks` make up asks for no transaction, whether it controls
    transactions itself, and what would make it fail on the server. Its options are read in the first chunk,
    which ends after a line (see `content`).

    `no_transaction`: the file's layout says so already (dbmate's `transaction:false`); `own_transactions`:
    the layout's files hold their own BEGIN and COMMIT (Sqitch's), which is no mistake there; `one_by_one`:
    its statements are sent one by one (goose's NO TRANSACTION), so each may refuse a transaction block.
    """
    chunks = iter(chunks)
    opening = next(chunks, "")
    options, findings = _header_options(path, opening)
    no_transaction = no_transaction or NO_TRANSACTION in options
    if opening.startswith("\ufeff"):
        findings.append(Finding("error", path, 1, "starts with a byte-order mark, which PostgreSQL "
                                "reads as part of the first word; save the file as UTF-8 without BOM"))
    metas: list[Finding] = []
    own: list[Finding] = []
    refused: list[tuple[int, str]] = []  # line, command: no statement is kept
    control: list[tuple[int, str]] = []
    count = 0
    for piece in streamed(chain((opening,), chunks)):  # keeping only what is found: a file may be larger than memory
        if isinstance(piece, Meta):
            metas.append(_meta_command_finding(path, piece))
            continue
        count += 1
        command = _non_transactional(piece)
        if command:
            refused.append((piece.line, command))
        if (first := piece.first) in TRANSACTION_CONTROL:
            control.append((piece.line, first))
        if SCHEMA in piece.text.lower():
            own += _own_schema_findings(path, piece)
    if not count:
        findings.append(Finding("error", path, None, "no SQL statements (empty, or only whitespace "
                                "and comments)"))
    findings += metas + own + _transaction_findings(path, refused, count, no_transaction, one_by_one)
    shown_control = [] if no_transaction else _transaction_control_findings(path, control)
    shown = findings + ([] if own_transactions else shown_control)
    return Linted(no_transaction, bool(shown_control), tuple((f.level, f.line, f.message) for f in shown),
                  IN_PRODUCTION in options)


DDL = {"CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "COMMENT", "TRUNCATE", "INSERT", "UPDATE", "DELETE", "DO"}


def changes_schema(chunks: Iterable[str]) -> bool:
    """Whether a script (in chunks) holds a statement that changes the database: a file that is a migration in all
    but name."""
    return any(isinstance(piece, Statement) and piece.first in DDL for piece in streamed(chunks))


def _transaction_control_findings(path: Path, control: list[tuple[int, str]]) -> list[Finding]:
    """BEGIN/COMMIT inside a file that pgparity already runs as one transaction would split it."""
    return [
        Finding("warning", path, line,
                f"{command} controls the transaction, but pgparity already runs the file and its "
                "ledger row as one; a failure after it would leave a partial migration (remove it)")
        for line, command in control
    ]


def _header_options(path: Path, sql: str) -> tuple[set[str], list[Finding]]:
    """`-- pgparity: option` lines among the comment lines that open the file."""
    options: set[str] = set()
    findings: list[Finding] = []
    for number, line in enumerate(_lines(sql), 1):
        text = line.strip()
        if text and not text.startswith("--"):
            break
        match = None if ALLOW.match(text) else _HEADER_OPTION.fullmatch(text)
        for option in match.group(1).replace(",", " ").split() if match else ():
            if option in OPTIONS:
                options.add(option)
            else:
                known = ", ".join(sorted(OPTIONS))
                findings.append(Finding("error", path, number,
                                        f"unknown pgparity option {option!r} (known: {known})"))
    return options, findings


def _lines(sql: str) -> Iterator[str]:
    """The script's lines one at a time: only its opening lines are read."""
    start = 0
    while (end := sql.find("\n", start)) >= 0:
        yield sql[start:end]
        start = end + 1
    yield sql[start:]


def header_options(sql: str) -> set[str]:
    """The known `-- pgparity:` options among a script's opening comment lines."""
    return _header_options(Path(), sql)[0]


def _meta_command_finding(path: Path, meta: Meta) -> Finding:
    return Finding("error", path, meta.line, f"psql meta-command {meta.text.split()[0]} is not SQL; the server "
                   "cannot run it (pgparity sends each file to PostgreSQL, not to psql)")


def _own_schema_findings(path: Path, statement: Statement) -> list[Finding]:
    """A statement naming the schema that holds pgparity's ledger (`pgparity.x`, `SCHEMA pgparity`): dropping
    or changing it loses the record of what the replay applied, and the file's own ledger row with it."""
    text = statement.text
    tokens = list(tokenise(text))

    def name(kind: str, start: int, end: int) -> str:
        token = text[start:end]
        return token.lower() if kind == "word" else token[1:-1] if kind == "literal" and token[:1] == '"' else ""

    found = []
    for index, (kind, start, end) in enumerate(tokens):
        if name(kind, start, end) != SCHEMA:
            continue
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        before = [text[s:e].upper() for k, s, e in tokens[max(index - 3, 0):index] if k == "word"]
        if (after and text[after[1]:after[2]] == ".") or "SCHEMA" in before:
            found.append(Finding("error", path, statement.line + text.count("\n", 0, start),
                                 f"touches the {SCHEMA} schema, which holds pgparity's ledger ({SCHEMA}.{TABLE}); "
                                 "a migration must leave it alone"))
    return found


def _transaction_findings(path: Path, refused: list[tuple[int, str]], count: int, no_transaction: bool,
                          one_by_one: bool = False) -> list[Finding]:
    """A `refused` statement runs only alone in a no-transaction file: a multi-statement string is itself one
    implicit transaction on the server (unless its `count` statements are sent `one_by_one`)."""
    if one_by_one or no_transaction and count == 1:
        return []
    findings = []
    for line, command in refused:
        if no_transaction:
            message = (f"{command} shares a no-transaction file with {count - 1} other "
                       "statement(s); PostgreSQL runs a multi-statement file as one implicit "
                       "transaction, so each such statement needs a file of its own")
        else:
            message = (f"{command} cannot run inside a transaction block; move it to a file of its "
                       f"own that starts with `-- pgparity: {NO_TRANSACTION}`")
        findings.append(Finding("error", path, line, message))
    return findings
