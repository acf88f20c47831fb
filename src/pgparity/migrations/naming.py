"""What every migration layout shares: a file as its name classifies it, names no layout replays, and the
next version after the highest.

Each tool's own naming (pgparity's `NNN_description.sql`, Flyway's `V1.2__x.sql`, …) is its module in
`formats`; the rules here are the ones they have in common.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pgparity.migrations.model import Version

FOREIGN = re.compile(r"(\d+).*\.(py|rb|js|mjs|cjs|ts|go|sh|bash|java|kt|php|pl|exs)")
DESCRIPTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # what a new migration's name may be, after its number
# A file name or stem as ledgers record them: 007_add_nickname, 007_add_nickname.sql, V7__add_nickname.sql,
# V1.2__x.sql.
RECORDED = re.compile(r"[A-Za-z]?(\d+(?:[._]\d+)*?)_+(.+?)(?:\.sql)?")
# Eight or more digits are dates or timestamps (20240131...), whose numbering has gaps by design.
DATE_LIKE = 10_000_000
TIMESTAMP = "%Y%m%d%H%M%S"  # the version dbmate, goose and golang-migrate give a new file by the clock


@dataclass(frozen=True)
class File:
    """One entry of a migrations directory, as its name classifies it."""

    path: Path
    name: str  # path.name, read once: discovery looks at names many times per file
    kind: Literal["forward", "rollback", "foreign", "other"]
    version: Version | None = None
    description: str = ""
    folder: bool = False
    number: str = ""  # the version as the name writes it, zero-padding kept
    repeatable: bool = False
    check: Path | None = None  # a script that proves the migration worked (Sqitch's verify/)


def ignored(name: str) -> bool:
    return name.startswith(".") or name.upper().startswith("README")


def numbered(path: Path, kind: Literal["forward", "rollback"], number: str, description: str) -> File:
    return File(path, path.name, kind, Version.parse(number), description, number=number)


def unmatched(path: Path, folder: bool = False) -> File:
    """A file no rule of the layout names: a migration in another language, or not a migration."""
    if not folder and (match := FOREIGN.fullmatch(path.name)):
        return File(path, path.name, "foreign", Version.parse(match[1]), number=match[1])
    return File(path, path.name, "other", folder=folder)


def next_number(numbers: Sequence[str], first: str = "001") -> str:
    """The version after the highest of `numbers` (as names write them), zero-padded as wide; after
    timestamps, the time now, as the tools that number by the clock do; `first` when there is none."""
    if not numbers:
        return first
    highest = max(numbers, key=int)
    if int(highest) >= DATE_LIKE:
        return max(stamp(), str(int(highest) + 1))
    return str(int(highest) + 1).zfill(len(highest))


def stamp() -> str:
    return datetime.now(timezone.utc).strftime(TIMESTAMP)
