"""How migration files are named, in one place: which names replay, roll back, or belong to another tool.

A migration is `NNN_description.sql`; its rollback `NNN_description.down.sql` or
`NNN_description_rollback.sql`. Every reader and writer of those names goes through here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FORWARD = re.compile(r"(\d+)_(.+)\.sql")
ROLLBACKS = (re.compile(r"(\d+)_(.+)\.down\.sql"), re.compile(r"(\d+)_(.+)_rollback\.sql"))
FOREIGN = re.compile(r"(\d+).*\.(py|rb|js|mjs|cjs|ts|go|sh|bash|java|kt|php|pl|exs)")
DESCRIPTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # what a new migration's name may be, after its number
# A file name or stem as ledgers record them: 007_add_nickname, 007_add_nickname.sql, V7__add_nickname.sql.
RECORDED = re.compile(r"[A-Za-z]?(\d+)_+(.+?)(?:\.sql)?")
CONVENTION = "NNN_description.sql, NNN_description.down.sql or NNN_description_rollback.sql"


@dataclass(frozen=True)
class File:
    """One entry of a migrations directory, as its name classifies it."""

    path: Path
    name: str  # path.name, read once: discovery looks at names many times per file
    kind: Literal["forward", "rollback", "foreign", "other"]
    version: int | None = None
    description: str = ""
    folder: bool = False
    number: str = ""  # the version as the name writes it, zero-padding kept


def ignored(name: str) -> bool:
    return name.startswith(".") or name.upper().startswith("README")


def classify(path: Path, folder: bool = False) -> File:
    name = path.name
    if folder:
        return File(path, name, "other", folder=True)
    for pattern in ROLLBACKS:
        if match := pattern.fullmatch(name):
            return File(path, name, "rollback", int(match[1]), match[2], number=match[1])
    if match := FORWARD.fullmatch(name):
        return File(path, name, "forward", int(match[1]), match[2], number=match[1])
    if match := FOREIGN.fullmatch(name):
        return File(path, name, "foreign", int(match[1]), number=match[1])
    return File(path, name, "other")


def baseline_file(path: Path, through: int) -> File:
    """The baseline replays as version `through`, whatever number its own name carries."""
    match = FORWARD.fullmatch(path.name)
    return File(path, path.name, "forward", through, match[2] if match else path.name.removesuffix(".sql"))


def next_number(directory: Path) -> str:
    """The version a new migration takes: after the highest, zero-padded as wide (001 in an empty folder)."""
    numbers = [match[1] for path in directory.iterdir() if (match := FORWARD.fullmatch(path.name))]
    if not numbers:
        return "001"
    highest = max(numbers, key=int)
    return str(int(highest) + 1).zfill(len(highest))


def recorded_file(version: int, description: str, directory: Iterable[Path]) -> str:
    """The file name a ledger row stands for, its number as wide as the directory's migrations write theirs."""
    widths = [len(match[1]) for path in directory if (match := FORWARD.fullmatch(path.name))]
    return f"{str(version).zfill(min(widths, default=3))}_{description}.sql"


ROLLBACK_STYLES = ("{}.down.sql", "{}_rollback.sql")  # in the order of ROLLBACKS


def rollback_names(stem: str) -> tuple[str, ...]:
    """The names a rollback of the migration `stem` (NNN_description) may have, the preferred first."""
    return tuple(style.format(stem) for style in ROLLBACK_STYLES)


def next_files(directory: Path, description: str) -> tuple[Path, Path]:
    """A new migration and its rollback, numbered after the highest migration in `directory`."""
    number = next_number(directory)
    return directory / f"{number}_{description}.sql", directory / rollback_names(f"{number}_{description}")[0]


def new_files(directory: Path, description: str) -> tuple[Path, Path | None]:
    """A new migration numbered as `directory` numbers them, with a rollback named in the style of the newest
    one there; none when the project keeps no rollbacks."""
    forward, _ = next_files(directory, description)
    rollbacks = sorted((classify(path) for path in directory.iterdir()), key=lambda f: (f.version or 0, f.name))
    styles = [index for file in rollbacks if file.kind == "rollback"
              for index, pattern in enumerate(ROLLBACKS) if pattern.fullmatch(file.name)]
    if not styles:
        return forward, None
    return forward, directory / ROLLBACK_STYLES[styles[-1]].format(forward.name.removesuffix(".sql"))
