"""dbmate's layout: `<version>_<name>.sql` (a timestamp by default), one file holding `-- migrate:up` and
`-- migrate:down` sections; `transaction:false` on a section's line runs it outside a transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from pgparity.migrations.formats import Format, Output, Written
from pgparity.migrations.formats.sections import Sections, down_part, marked_layout, split
from pgparity.migrations.naming import File, next_number, stamp

MARKER = re.compile(r"--\s*migrate:(?P<part>up|down)\b(?P<options>.*)")
UP = re.compile(r"^\s*--\s*migrate:up\b", re.MULTILINE)
NO_TRANSACTION = re.compile(r"\btransaction\s*:\s*false\b")


@lru_cache(maxsize=4096)  # asked of every file by detection, by each layout's claims and by classify
def marked(text: str) -> bool:
    return "migrate:" in text and bool(UP.search(text))  # the plain test first: most files are not dbmate's


claims, classify = marked_layout(marked)


def sections(file: File, text: str) -> Sections:
    parts = split(text, MARKER)
    up, options = parts.get("up", (text, ""))
    return Sections(up, down_part(parts), bool(NO_TRANSACTION.search(options)))


def new(directory: Path, files: Sequence[File], description: str, up: str, down: str | None) -> Written:
    version = next_number([f.number for f in files if f.kind == "forward"], first=stamp())
    undo_text = f"\n-- migrate:down\n{down}" if down is not None else "\n-- migrate:down\n"
    return [Output(directory / f"{version}_{description}.sql", f"-- migrate:up\n{up}{undo_text}")]


def undo(path: Path) -> str:
    return "expected a `-- migrate:down` section in it"


FORMAT = Format("dbmate", "dbmate", "<version>_<name>.sql with -- migrate:up and -- migrate:down", claims, classify,
                new, undo, sections, markers=MARKER)
