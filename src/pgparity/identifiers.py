"""PostgreSQL identifiers as the server prints them: one place that undoes their quoting."""


def unquote(identifier: str) -> str:
    """A quoted identifier without its quotes, doubled quotes made single; a bare name is itself."""
    return identifier[1:-1].replace('""', '"') if identifier.startswith('"') else identifier
