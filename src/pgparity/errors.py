"""The one exception family users can cause; the shell turns each into one line and an exit code."""

from pathlib import Path


def shown(path: Path) -> str:
    """A path as a person in the project folder would type it: relative to the working directory.

    It lives with the errors because their one-line messages name files this way, and the report, which
    prints paths too, uses it so that both name a file alike; it only makes text, it never prints.
    """
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 migration`, `2 migrations`, `12,000 rows`: a count and its noun, as every message and report line
    writes them."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


class PgParityError(Exception):
    """A problem the user can fix: printed as one line, never as a traceback."""

    exit_code = 2


class ConfigError(PgParityError):
    """A setting is unknown, malformed or missing; the message names the key and its file."""


class DockerError(PgParityError):
    """The Docker engine is unreachable or refused an operation."""


class ImageMissing(DockerError):
    """The configured image is not present locally and cannot be pulled."""


class PortInUse(DockerError):
    """The host port is already bound by a process that is not ours."""


class ContainerConflict(DockerError):
    """A container with our name exists but was not created by pgparity."""


class NoEnvironment(DockerError):
    """A task that never creates the dev container found none for this folder."""


class ContainerUnhealthy(DockerError):
    """The container stopped or turned unhealthy before the server was ready."""


class DatabaseError(PgParityError):
    """PostgreSQL refused a connection or a statement."""


class MigrationError(PgParityError):
    """A migration file is invalid, changed after it was applied, or failed to apply."""

    def __init__(self, message: str, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate  # PostgreSQL's error code when the server refused the file


class LintError(MigrationError):
    """Lint found errors in the migrations directory."""


class SnapshotError(PgParityError):
    """A snapshot file is missing, unreadable or of an unknown format."""


class SanitizeError(PgParityError):
    """Sanitize rules are invalid or do not cover every column that looks like PII."""


class DumpError(PgParityError):
    """A dump could not be taken or a dump file is corrupt."""


class FixError(PgParityError):
    """The fix cannot be written as asked: it would fail on the target's rows, or runs nothing."""


class HazardError(PgParityError):
    """A migration pending in production does something `--fail-on` refuses (a rewrite of a large table, ...)."""
