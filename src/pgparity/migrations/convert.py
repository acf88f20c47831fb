"""A copy of a migrations folder in another layout, for a team leaving a tool; the folder itself is left alone.

Each migration is written in order as the target layout writes a new one (so it is numbered as that layout
numbers them), with its rollback; the source layout's own marker lines are left out, and a file that runs
outside a transaction says so in pgparity's header, which every layout honours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pgparity.errors import MigrationError, shown
from pgparity.migrations import formats
from pgparity.migrations.discovery import layout
from pgparity.migrations.formats import Format
from pgparity.migrations.lint import NO_TRANSACTION
from pgparity.migrations.model import MigrationPolicy, Plan
from pgparity.migrations.naming import File
from pgparity.migrations.rollback import undo_text


@dataclass(frozen=True)
class Converted:
    written: tuple[Path, ...]
    notes: tuple[str, ...]


def convert(plan: Plan, target: Format, into: Path) -> Converted:
    """Write every migration of `plan` into the empty folder `into`, in `target`'s layout."""
    if into.exists() and any(into.iterdir()):
        raise MigrationError(f"{shown(into)}: not empty; name a new folder for the copy")
    source = plan.format
    into.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    notes: list[str] = []
    files: list[File] = []  # the copy's files so far, which the next one is numbered after
    for migration in plan.migrations:
        if migration.repeatable:
            notes.append(f"{migration.path.name} is repeatable, which {target.name} has no kind of: it is copied as "
                         "the last migration and runs once")
        undo = undo_text(migration) if migration.rollback else None
        outputs = target.new(into, files, migration.name, bare(source, migration.sql, migration.no_transaction),
                             bare(source, undo) if undo is not None else None)
        written += formats.write(outputs)
        _, files = layout(into, MigrationPolicy(format=target.name))
    return Converted(tuple(written), tuple(notes))


def bare(source: Format, text: str, no_transaction: bool = False) -> str:
    """The statements without the source layout's marker lines and blank edges, ending in one newline."""
    lines = [line for line in text.split("\n") if not (source.markers and source.markers.fullmatch(line.strip()))]
    body = "\n".join(lines).strip("\n") + "\n"
    header = f"-- pgparity: {NO_TRANSACTION}\n" if no_transaction and NO_TRANSACTION not in body else ""
    return header + body
