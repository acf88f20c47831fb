"""goose's layout: `<version>_<name>.sql`, one file holding `-- +goose Up` and `-- +goose Down` sections;
`-- +goose NO TRANSACTION` runs it outside a transaction. `StatementBegin`/`StatementEnd` are comments to
the server, and pgparity sends a section whole anyway."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pgparity.migrations.content import Note
from pgparity.migrations.formats import Format, Output, Written
from pgparity.migrations.formats.sections import Sections, marked_layout, opens_up, part_lines, split
from pgparity.migrations.naming import File, next_number, stamp

MARKER = re.compile(r"--\s*\+goose\s+(?P<part>up|down)\b(?P<options>.*)", re.IGNORECASE)
NO_TRANSACTION = re.compile(r"--\s*\+goose\s+no\s+transaction\b.*", re.IGNORECASE)
ANNOTATION = re.compile(r"--\s*\+goose\s.*", re.IGNORECASE)


marked = opens_up(MARKER)
claims, classify = marked_layout(marked)


def sections(file: File, notes: Sequence[Note]) -> Sections:
    parts = split(notes, MARKER)
    alone = any(NO_TRANSACTION.fullmatch(text) for _, text in notes)  # goose then runs each statement by itself
    return Sections(part_lines(parts, "up"), part_lines(parts, "down"), alone, alone)


def new(directory: Path, files: Sequence[File], description: str, up: str, down: str | None) -> Written:
    """Numbered as the folder numbers its files: sequentially, or by the clock (goose's default)."""
    version = next_number([f.number for f in files if f.kind == "forward"], first=stamp())
    text = f"-- +goose Up\n-- +goose StatementBegin\n{up}-- +goose StatementEnd\n\n-- +goose Down\n"
    if down is not None:
        text += f"-- +goose StatementBegin\n{down}-- +goose StatementEnd\n"
    return [Output(directory / f"{version}_{description}.sql", text)]


def undo(path: Path) -> str:
    return "expected a `-- +goose Down` section in it"


FORMAT = Format("goose", "goose", "<version>_<name>.sql with -- +goose Up and -- +goose Down", claims, classify,
                new, undo, sections, markers=ANNOTATION)
