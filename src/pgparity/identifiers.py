"""PostgreSQL identifiers as the server prints them: the one place that reads their quoting."""

import re

QUOTED = r'"(?:[^"]|"")+"'
# One part of a printed name, as loose as the server's output allows: anything up to a separator.
PART = rf'{QUOTED}|[^\s."(),;]+'
# A name where other tokens (numbers, operators, casts) may stand too: only what a bare identifier can be.
NAME = rf'{QUOTED}|[A-Za-z_][\w$]*'
_PARTS = re.compile(PART)


def unquote(identifier: str) -> str:
    """A quoted identifier without its quotes, doubled quotes made single; a bare name is itself."""
    return identifier[1:-1].replace('""', '"') if identifier.startswith('"') else identifier


def names(text: str) -> tuple[str, ...]:
    """The unquoted parts of a printed name: `public."My T"` gives ("public", "My T")."""
    return tuple(unquote(part) for part in _PARTS.findall(text))
