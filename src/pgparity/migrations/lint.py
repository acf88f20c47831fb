"""Lint of one migration file: what would fail halfway through a replay, found without a database.

psql-only commands, statements that refuse to run in a transaction block, transaction control in a
file pgparity already wraps in one, and the `-- pgparity: option` lines that open a file. A file's
result depends only on its content and on this module and the lexer (the lint cache relies on that).
"""

from __future__ import annotations

import re
from pathlib import Path

from pgparity.migrations.ledger import SCHEMA, TABLE
from pgparity.migrations.lexer import Statement, Token, statements, tokenise
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


def _non_transactional(words: tuple[str, ...]) -> str | None:
    """The command's name if PostgreSQL refuses to run it inside a transaction block."""
    if words[:1] == ("VACUUM",):
        return "VACUUM"
    if words[:2] in _NEVER_IN_TRANSACTION:
        return " ".join(words[:2])
    for pattern in _CONCURRENT_INDEX:
        if words[:len(pattern)] == pattern:
            return f"{pattern[0]} INDEX CONCURRENTLY"
    if words[:2] == ("ALTER", "TABLE") and "DETACH" in words and "CONCURRENTLY" in words:
        return "DETACH PARTITION CONCURRENTLY"
    if words[:1] == ("REINDEX",):
        return _reindex(words)
    return None


def _reindex(words: tuple[str, ...]) -> str | None:
    """REINDEX ... CONCURRENTLY and REINDEX of a whole schema, database or system commit as they go."""
    if "CONCURRENTLY" in words:
        return "REINDEX CONCURRENTLY"
    target = next((word for word in words[1:] if word in _REINDEX_TARGETS), None)
    return f"REINDEX {target}" if target in ("SCHEMA", "DATABASE", "SYSTEM") else None


def lint_sql(path: Path, sql: str, no_transaction: bool = False, own_transactions: bool = False,
             one_by_one: bool = False) -> Linted:
    """Whether the file asks for no transaction, whether it controls transactions itself, and what
    would make it fail on the server.

    `no_transaction`: the file's layout says so already (dbmate's `transaction:false`); `own_transactions`:
    the layout's files hold their own BEGIN and COMMIT (Sqitch's), which is no mistake there; `one_by_one`:
    its statements are sent one by one (goose's NO TRANSACTION), so each may refuse a transaction block.
    """
    options, findings = _header_options(path, sql)
    no_transaction = no_transaction or NO_TRANSACTION in options
    tokens = list(tokenise(sql))  # tokenised once: lint runs over every file on every sync
    parsed = statements(sql, tokens)
    if sql.startswith("\ufeff"):
        findings.append(Finding("error", path, 1, "starts with a byte-order mark, which PostgreSQL "
                                "reads as part of the first word; save the file as UTF-8 without BOM"))
    if not parsed:
        findings.append(Finding("error", path, None, "no SQL statements (empty, or only whitespace "
                                "and comments)"))
    findings += _meta_command_findings(path, sql, tokens)
    findings += _own_schema_findings(path, sql, tokens)
    findings += _transaction_findings(path, parsed, no_transaction, one_by_one)
    control = _transaction_control_findings(path, parsed, no_transaction)
    shown = findings + ([] if own_transactions else control)
    return Linted(no_transaction, bool(control), tuple((f.level, f.line, f.message) for f in shown),
                  IN_PRODUCTION in options)


DDL = {"CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "COMMENT", "TRUNCATE", "INSERT", "UPDATE", "DELETE", "DO"}


def changes_schema(sql: str) -> bool:
    """Whether a script holds a statement that changes the database: a file that is a migration in all but name."""
    return any(statement.words[:1] and statement.words[0] in DDL for statement in statements(sql))


def _transaction_control_findings(path: Path, parsed: list[Statement], no_transaction: bool) -> list[Finding]:
    """BEGIN/COMMIT inside a file that pgparity already runs as one transaction would split it."""
    if no_transaction:
        return []
    return [
        Finding("warning", path, statement.line,
                f"{statement.words[0]} controls the transaction, but pgparity already runs the file and its "
                "ledger row as one; a failure after it would leave a partial migration (remove it)")
        for statement in parsed if statement.words and statement.words[0] in TRANSACTION_CONTROL
    ]


def _header_options(path: Path, sql: str) -> tuple[set[str], list[Finding]]:
    """`-- pgparity: option` lines among the comment lines that open the file."""
    options: set[str] = set()
    findings: list[Finding] = []
    for number, line in enumerate(sql.split("\n"), 1):
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


def header_options(sql: str) -> set[str]:
    """The known `-- pgparity:` options among a script's opening comment lines."""
    return _header_options(Path(), sql)[0]


def _line(sql: str, position: int) -> int:
    return sql.count("\n", 0, position) + 1


def _meta_command_findings(path: Path, sql: str, tokens: list[Token]) -> list[Finding]:
    return [
        Finding("error", path, _line(sql, start),
                f"psql meta-command {sql[start:end].split()[0]} is not SQL; the server "
                "cannot run it (pgparity sends each file to PostgreSQL, not to psql)")
        for kind, start, end in tokens if kind == "meta"
    ]


def _own_schema_findings(path: Path, sql: str, tokens: list[Token]) -> list[Finding]:
    """A statement naming the schema that holds pgparity's ledger (`pgparity.x`, `SCHEMA pgparity`): dropping
    or changing it loses the record of what the replay applied, and the file's own ledger row with it."""
    def name(token: Token) -> str:
        kind, start, end = token
        text = sql[start:end]
        return text.lower() if kind == "word" else text[1:-1] if kind == "literal" and text[:1] == '"' else ""

    found = []
    for index, token in enumerate(tokens):
        if name(token) != SCHEMA:
            continue
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        before = [sql[start:end].upper() for kind, start, end in tokens[max(index - 3, 0):index] if kind == "word"]
        if (after and sql[after[1]:after[2]] == ".") or "SCHEMA" in before:
            found.append(Finding("error", path, _line(sql, token[1]), f"touches the {SCHEMA} schema, which holds "
                                 f"pgparity's ledger ({SCHEMA}.{TABLE}); a migration must leave it alone"))
    return found


def _transaction_findings(path: Path, parsed: list[Statement], no_transaction: bool,
                          one_by_one: bool = False) -> list[Finding]:
    """Such a statement runs only alone in a no-transaction file: a multi-statement string is
    itself one implicit transaction on the server (unless its statements are sent `one_by_one`)."""
    if one_by_one or no_transaction and len(parsed) == 1:
        return []
    findings = []
    for statement in parsed:
        command = _non_transactional(statement.words)
        if command is None:
            continue
        if no_transaction:
            message = (f"{command} shares a no-transaction file with {len(parsed) - 1} other "
                       "statement(s); PostgreSQL runs a multi-statement file as one implicit "
                       "transaction, so each such statement needs a file of its own")
        else:
            message = (f"{command} cannot run inside a transaction block; move it to a file of its "
                       f"own that starts with `-- pgparity: {NO_TRANSACTION}`")
        findings.append(Finding("error", path, statement.line, message))
    return findings

