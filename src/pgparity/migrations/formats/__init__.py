"""Migration layouts: pgparity's own and those of the tools teams already keep their history in.

A layout is one `Format` in `FORMATS` and a small module: which names are its migrations and their
rollbacks, how a file splits into its up and down parts, how its tool checksums a file, and how a new
migration is written. A directory's layout is detected from its files (or set with `[migrations] format`);
files that look like another layout's are lint errors, so a mixed folder never replays half its history.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pgparity.errors import ConfigError, PgParityError, shown
from pgparity.folders import create_new, write_whole
from pgparity.migrations.content import Note
from pgparity.migrations.formats.sections import Sections, whole
from pgparity.migrations.naming import File


@dataclass(frozen=True)
class Output:
    """A file a new migration is written as; `replaces` an index the layout keeps (Sqitch's plan)."""

    path: Path
    text: str
    replaces: bool = False


# In the order to write them: a rollback first, as a forward file is replayed as soon as it exists.
Written = list[Output]


@dataclass(frozen=True)
class Format:
    """One layout's rules; `claims` tells its migrations apart from every other layout's by name and by the
    file's notes (its lines that some layout's `markers` match), which discovery takes in its one reading."""

    name: str
    ledger: str  # the kind of ledger its tool keeps in a database (see `ledgers`)
    convention: str  # the names it replays, as a person reads them
    claims: Callable[[str, Sequence[Note]], bool]
    classify: Callable[[Path, Sequence[Note]], File]
    new: Callable[[Path, Sequence[File], str, str, str | None], Written]
    undo: Callable[[Path], str]  # where a migration's rollback would be, for a message
    sections: Callable[[File, Sequence[Note]], Sections] = whole
    # What its tool records for a file (read from the text's chunks), to compare with its ledger.
    checksum: Callable[[Iterable[str]], str] | None = None
    listing: Callable[[Path], list[File]] | None = None  # the files a plan of its own names, in its order
    own_transactions: bool = False  # its files hold their own BEGIN and COMMIT
    recursive: bool = False  # its migrations may sit in folders below the directory
    own: frozenset[str] = frozenset()  # its files and folders beside the migrations, which are no strays
    markers: re.Pattern[str] | None = None  # its lines that are no SQL of the migration, left out of a copy


def _formats() -> tuple[Format, ...]:
    from pgparity.migrations.formats import dbmate, flyway, golang_migrate, goose, pgparity, sqitch
    return pgparity.FORMAT, flyway.FORMAT, golang_migrate.FORMAT, dbmate.FORMAT, goose.FORMAT, sqitch.FORMAT


FORMATS: tuple[Format, ...] = _formats()
NAMES = tuple(f.name for f in FORMATS)
MARKS = tuple(f.markers for f in FORMATS if f.markers)  # the lines a file's notes hold


def named(name: str, where: str = "[migrations] format") -> Format:
    found = next((f for f in FORMATS if f.name == name), None)
    if found is None:
        raise ConfigError(f"{where}: {name!r} is not a migration format; pgparity reads {', '.join(NAMES)}")
    return found


def detect(entries: Sequence[tuple[str, Sequence[Note]]]) -> Format:
    """The layout most of the directory's files (name, notes) are migrations of; pgparity's own when none is.

    A Sqitch plan decides alone: its project's scripts sit in folders, named by the plan.
    """
    counts = {f.name: sum(1 for name, notes in entries if f.claims(name, notes)) for f in FORMATS}
    sqitch = next(f for f in FORMATS if f.name == "sqitch")
    if counts[sqitch.name]:
        return sqitch
    best = max(FORMATS, key=lambda f: counts[f.name])  # the first of equals: pgparity's
    return best if counts[best.name] else FORMATS[0]


def claimant(fmt: Format, name: str, notes: Sequence[Note]) -> Format | None:
    """The other layout a file not of `fmt` belongs to, if any."""
    return next((f for f in FORMATS if f is not fmt and f.claims(name, notes)), None)


def write(outputs: Written) -> list[Path]:
    """Write a new migration's files in order, none replaced but the layout's index; a name taken already
    leaves nothing written."""
    created: list[Path] = []
    for output in outputs:
        output.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if output.replaces:
                write_whole(output.path, output.text)
            else:
                create_new(output.path, output.text)
        except FileExistsError:
            for done in created:
                done.unlink()
            raise PgParityError(f"{shown(output.path)} exists already; nothing written") from None
        created.append(output.path)
    return created
