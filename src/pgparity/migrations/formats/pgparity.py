"""pgparity's own layout: `NNN_description.sql`, undone by `NNN_description.down.sql` or
`NNN_description_rollback.sql`, options in `-- pgparity:` header lines (see `lint`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pgparity.migrations.content import Note
from pgparity.migrations.formats import Format, Output, Written, dbmate, goose
from pgparity.migrations.naming import File, next_number, numbered, unmatched

FORWARD = re.compile(r"(\d+)_(.+)\.sql")
ROLLBACKS = (re.compile(r"(\d+)_(.+)\.down\.sql"), re.compile(r"(\d+)_(.+)_rollback\.sql"))
ROLLBACK_STYLES = ("{}.down.sql", "{}_rollback.sql")  # in the order of ROLLBACKS
CONVENTION = "NNN_description.sql, NNN_description.down.sql or NNN_description_rollback.sql"


def others(name: str, notes: Sequence[Note]) -> bool:
    """Names of this shape that are the layouts sharing it: golang-migrate's, dbmate's and goose's."""
    return name.endswith(".up.sql") or dbmate.marked(notes) or goose.marked(notes)


def claims(name: str, notes: Sequence[Note]) -> bool:
    return (name[:1].isdigit() and bool(FORWARD.fullmatch(name)) and not name.endswith(("_rollback.sql", ".down.sql"))
            and not others(name, notes))


def classify(path: Path, notes: Sequence[Note]) -> File:
    name = path.name
    if others(name, notes):
        return unmatched(path)
    for pattern in ROLLBACKS:
        if match := pattern.fullmatch(name):
            return numbered(path, "rollback", match[1], match[2])
    if match := FORWARD.fullmatch(name):
        return numbered(path, "forward", match[1], match[2])
    return unmatched(path)


def rollback_names(stem: str) -> tuple[str, ...]:
    """The names a rollback of the migration `stem` (NNN_description) may have, the preferred first."""
    return tuple(style.format(stem) for style in ROLLBACK_STYLES)


def new(directory: Path, files: Sequence[File], description: str, up: str, down: str | None) -> Written:
    """The next numbered file, and its rollback named in the style of the newest one there (the preferred
    style in a folder that has none)."""
    stem = f"{next_number([f.number for f in files if f.kind == 'forward'])}_{description}"
    written = [Output(directory / f"{stem}.sql", up)]
    if down is not None:
        rollbacks = sorted((f for f in files if f.kind == "rollback"), key=lambda f: (f.version, f.name))
        styles = [i for i, pattern in enumerate(ROLLBACKS) for f in rollbacks[-1:] if pattern.fullmatch(f.name)]
        written.insert(0, Output(directory / ROLLBACK_STYLES[styles[0] if styles else 0].format(stem), down))
    return written


def undo(path: Path) -> str:
    return f"expected {' or '.join(rollback_names(path.name.removesuffix('.sql')))} beside it"


FORMAT = Format("pgparity", "pgparity", CONVENTION, claims, classify, new, undo)
