"""Migration files as values: what a replay runs, what the project decides about them, what lint found.

A directory holds migrations in one tool's layout (see `formats`), replayed in their version order;
`discovery` reads it into a `Plan`, `lint` judges each file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pgparity.errors import LintError, counted, shown
from pgparity.migrations.content import Content, Lines, part

if TYPE_CHECKING:
    from pgparity.migrations.formats import Format

Level = Literal["error", "warning", "info"]

NUMERIC = re.compile(r"\d+(?:[._]\d+)*")


@dataclass(frozen=True, order=True)
class Version:
    """A migration's version: compared as numbers part by part (`1.10` after `1.9`, `007` equal to `7`),
    written as its tool's ledger writes it.

    Flyway's `1.2.0` equals `1.2`, as Flyway reads them. A repeatable migration has no version: `NONE`.
    """

    key: tuple[int, ...]
    text: str = field(compare=False)

    def __str__(self) -> str:
        return self.text

    @property
    def number(self) -> int | None:
        """The version as one whole number, when it is one (sequential and timestamp versions)."""
        return self.key[0] if len(self.key) == 1 else None

    @classmethod
    def parse(cls, text: str) -> Version | None:
        """`7`, `007`, `20240131120000`, `1.2.3` or `1_2_3` as a version; None for any other text."""
        if text.isdigit():  # most versions: read once per file on every sync
            return cls((int(text),), str(int(text)))
        if not NUMERIC.fullmatch(text):
            return None
        parts = [int(part) for part in re.split(r"[._]", text)]
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        return cls(tuple(parts), text.replace("_", "."))

    @classmethod
    def of(cls, number: int) -> Version:
        return cls((number,), str(number))


NONE = Version((), "")


def ordering(text: str) -> tuple[int, tuple[int, ...], str]:
    """A ledger's version text in version order, numbers first, any other text after them."""
    version = Version.parse(text)
    return (0, version.key, "") if version else (1, (), text)


@dataclass(frozen=True)
class Migration:
    """One file to replay; the checksum lets the ledger notice a file edited after it was applied."""

    version: Version
    name: str
    path: Path
    content: Content  # the file as discovery read it; its text is read when a replay needs it
    checksum: str
    no_transaction: bool
    rollback: Path | None
    controls_transaction: bool = False  # has BEGIN, COMMIT...: sent in a message of its own, as written
    in_production: bool = False  # says production already has its effects (`-- pgparity: in-production`)
    raw_checksum: str = ""  # of the bytes as they are, line endings too: how ledgers recorded files before
    repeatable: bool = False  # re-applied whenever it changes, after the versioned ones (Flyway's R__)
    down: Lines | None = None  # the undo, when it is a part of the file itself (dbmate, goose)
    tool_checksum: str = ""  # the checksum the format's own tool records in its ledger, if it keeps one
    one_by_one: bool = False  # outside a transaction, each statement sent alone (goose's NO TRANSACTION)
    check: Path | None = None  # run after the migration, when the project asks, to prove it worked
    check_sql: str = ""
    up: Lines | None = None  # the lines that run, when the file holds its undo too; None: all of them

    @property
    def sql(self) -> str:
        """The text that runs: the file's, or its up part's with the other lines blank."""
        return self.content.text() if self.up is None else "".join(part(self.content.chunks(), self.up))

    @property
    def rollback_sql(self) -> str | None:
        return None if self.down is None else "".join(part(self.content.chunks(), self.down))

    @property
    def label(self) -> str:
        """`3 nickname`, or `user_emails (repeatable)`: the migration as lists name it."""
        return f"{self.name} (repeatable)" if self.repeatable else f"{self.version} {self.name}"


@dataclass(frozen=True)
class Baseline:
    """A schema file standing for every migration up to and including `through`.

    `file` is read relative to the migrations directory, so a bare name is a file inside it; an
    absolute path (a schema-only dump kept elsewhere) is used as it is.
    """

    file: str
    through: int

    @property
    def version(self) -> Version:
        return Version.of(self.through)


@dataclass(frozen=True)
class MigrationPolicy:
    """Decisions from pgparity.toml about files the numbering alone cannot settle."""

    skip: frozenset[str] = frozenset()
    order: tuple[str, ...] = ()
    baseline: Baseline | None = None
    format: str | None = None  # the layout the files are in, when detection must not decide it
    verify: bool = False  # run each migration's verify script (Sqitch's) after it is applied


@dataclass(frozen=True)
class HazardPolicy:
    """`[hazards]` in pgparity.toml: a rewrite, scan or index build of at least `rows` rows or `bytes` bytes
    of production is high; `fail_on` is the severity from which `db.lint --hazards` fails (None: never)."""

    rows: int = 100_000
    bytes: int = 1 << 30
    fail_on: str | None = None


SEVERITIES = ("low", "medium", "high")  # weakest first


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
    format: Format  # the layout the files were read in
    present: frozenset[tuple[str, str]] = frozenset()  # (version, name) of files skipped or covered: still there

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.level == "error")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def moved(self, directory: Path) -> "Plan":
        """The same plan with every path under `directory` instead: a tree read from a commit, named as in the
        working tree. The files' texts are kept, as the tree they were read from goes away."""
        def move(path: Path) -> Path:
            return directory / path.relative_to(self.directory) if path.is_relative_to(self.directory) else path
        return Plan(directory,
                    tuple(replace(m, path=move(m.path), rollback=m.rollback and move(m.rollback),
                                  content=m.content.kept()) for m in self.migrations),
                    tuple(replace(f, path=move(f.path)) for f in self.findings),
                    tuple(map(move, self.skipped)), tuple(map(move, self.covered)), self.format, self.present)

    def raise_for_errors(self, listed: bool = False) -> None:
        """Refuse to replay a directory that lint rejects; one line, as the shell prints it, which quotes
        the first error unless the findings were `listed` to the person already."""
        errors = self.errors
        if errors:
            count = counted(len(errors), "lint error")
            where = ", listed above" if listed else f"; first: {errors[0]}"
            raise LintError(f"{shown(self.directory)}/: {count}{where}")
