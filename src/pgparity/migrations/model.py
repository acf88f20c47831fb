"""Migration files as values: what a replay runs, what the project decides about them, what lint found.

A directory holds `NNN_description.sql` files replayed in numeric order (see `naming`); `discovery`
reads it into a `Plan`, `lint` judges each file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from pgparity.errors import LintError, counted, shown

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Migration:
    """One file to replay; the checksum lets the ledger notice a file edited after it was applied."""

    version: int
    name: str
    path: Path
    sql: str
    checksum: str
    no_transaction: bool
    rollback: Path | None
    controls_transaction: bool = False  # has BEGIN, COMMIT...: sent in a message of its own, as written
    in_production: bool = False  # says production already has its effects (`-- pgparity: in-production`)
    raw_checksum: str = ""  # of the bytes as they are, line endings too: how ledgers recorded files before


@dataclass(frozen=True)
class Baseline:
    """A schema file standing for every migration up to and including `through`.

    `file` is read relative to the migrations directory, so a bare name is a file inside it; an
    absolute path (a schema-only dump kept elsewhere) is used as it is.
    """

    file: str
    through: int


@dataclass(frozen=True)
class MigrationPolicy:
    """Decisions from pgparity.toml about files the numbering alone cannot settle."""

    skip: frozenset[str] = frozenset()
    order: tuple[str, ...] = ()
    baseline: Baseline | None = None


@dataclass(frozen=True)
class Finding:
    """One lint result, printed the way compilers print them so editors can jump to it."""

    level: Level
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        path = shown(self.path)
        where = path if self.line is None else f"{path}:{self.line}"
        return f"{where}: {self.level}: {self.message}"


@dataclass(frozen=True)
class Linted:
    """What lint found in one file's content: its findings without a path, so a result can be kept by content."""

    no_transaction: bool
    controls_transaction: bool
    findings: tuple[tuple[Level, int | None, str], ...]
    in_production: bool = False

    def at(self, path: Path) -> list[Finding]:
        return [Finding(level, path, line, message) for level, line, message in self.findings]


@dataclass(frozen=True)
class Plan:
    """What a replay would do, and everything lint had to say about the directory."""

    directory: Path
    migrations: tuple[Migration, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Path, ...]
    covered: tuple[Path, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.level == "error")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def moved(self, directory: Path) -> "Plan":
        """The same plan with every path under `directory` instead: a tree read from a commit, named as in the
        working tree."""
        def move(path: Path) -> Path:
            return directory / path.relative_to(self.directory) if path.is_relative_to(self.directory) else path
        return Plan(directory,
                    tuple(replace(m, path=move(m.path), rollback=m.rollback and move(m.rollback)) for m in self.migrations),
                    tuple(replace(f, path=move(f.path)) for f in self.findings),
                    tuple(map(move, self.skipped)), tuple(map(move, self.covered)))

    def raise_for_errors(self, listed: bool = False) -> None:
        """Refuse to replay a directory that lint rejects; one line, as the shell prints it, which quotes
        the first error unless the findings were `listed` to the person already."""
        errors = self.errors
        if errors:
            count = counted(len(errors), "lint error")
            where = ", listed above" if listed else f"; first: {errors[0]}"
            raise LintError(f"{shown(self.directory)}/: {count}{where}")
