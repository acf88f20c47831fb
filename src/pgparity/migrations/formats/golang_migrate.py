"""golang-migrate's layout: `<version>_<name>.up.sql`, undone by `<version>_<name>.down.sql`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pgparity.migrations.content import Note
from pgparity.migrations.formats import Format, Output, Written
from pgparity.migrations.naming import File, next_number, numbered, unmatched

UP = re.compile(r"(\d+)_(.+)\.up\.sql")
DOWN = re.compile(r"(\d+)_(.+)\.down\.sql")


def claims(name: str, notes: Sequence[Note]) -> bool:
    return name.endswith(".up.sql") and bool(UP.fullmatch(name))


def classify(path: Path, notes: Sequence[Note]) -> File:
    if match := UP.fullmatch(path.name):
        return numbered(path, "forward", match[1], match[2])
    if match := DOWN.fullmatch(path.name):
        return numbered(path, "rollback", match[1], match[2])
    return unmatched(path)


def new(directory: Path, files: Sequence[File], description: str, up: str, down: str | None) -> Written:
    stem = f"{next_number([f.number for f in files if f.kind == 'forward'], first='000001')}_{description}"
    return [Output(directory / f"{stem}.down.sql", down if down is not None else f"-- Undoes {stem}.up.sql.\n"),
            Output(directory / f"{stem}.up.sql", up)]


def undo(path: Path) -> str:
    return f"expected {path.name.removesuffix('.up.sql')}.down.sql beside it"


FORMAT = Format("golang-migrate", "golang-migrate", "<version>_<name>.up.sql and <version>_<name>.down.sql",
                claims, classify, new, undo)
