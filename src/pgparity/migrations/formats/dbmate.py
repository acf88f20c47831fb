"""dbmate's layout: `<version>_<name>.sql` (a timestamp by default), one file holding `-- migrate:up` and
`-- migrate:down` sections; `transaction:false` on a section's line runs it outside a transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pgparity.migrations.content import Note
from pgparity.migrations.formats import Format, Output, Written
from pgparity.migrations.formats.sections import Sections, marked_layout, opens_up, part_lines, split
from pgparity.migrations.naming import File, next_number, stamp

MARKER = re.compile(r"--\s*migrate:(?P<part>up|down)\b(?P<options>.*)")
NO_TRANSACTION = re.compile(r"\btransaction\s*:\s*false\b")


marked = opens_up(MARKER)
claims, classify = marked_layout(marked)


def sections(file: File, notes: Sequence[Note]) -> Sections:
    parts = split(notes, MARKER)
    options = parts["up"][1] if "up" in parts else ""
    return Sections(part_lines(parts, "up"), part_lines(parts, "down"), bool(NO_TRANSACTION.search(options)))


def new(directory: Path, files: Sequence[File], description: str, up: str, down: str | None) -> Written:
    version = next_number([f.number for f in files if f.kind == "forward"], first=stamp())
    undo_text = f"\n-- migrate:down\n{down}" if down is not None else "\n-- migrate:down\n"
    return [Output(directory / f"{version}_{description}.sql", f"-- migrate:up\n{up}{undo_text}")]


def undo(path: Path) -> str:
    return "expected a `-- migrate:down` section in it"


FORMAT = Format("dbmate", "dbmate", "<version>_<name>.sql with -- migrate:up and -- migrate:down", claims, classify,
                new, undo, sections, markers=MARKER)
