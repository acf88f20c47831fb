"""Flyway's layout: `V<version>__<description>.sql` (versions such as `1`, `1.2.3` or `1_1`), undone by
`U<version>__<description>.sql`, and repeatable `R__<description>.sql`, applied after the versioned ones and
again whenever they change. Folders below the directory are read too, as Flyway reads a location.

A `<file>.conf` beside a script with `executeInTransaction=false` runs it outside a transaction. Flyway's
checksum of a file (the CRC-32 of its lines without their endings, as a signed integer) is what
`flyway_schema_history` records, so an applied file edited since is found.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from pgparity.migrations.content import Note
from pgparity.migrations.formats import Format, Output, Written
from pgparity.migrations.formats.sections import Sections
from pgparity.migrations.model import NONE
from pgparity.migrations.naming import File, next_number, numbered, unmatched

VERSIONED = re.compile(r"([VU])(\d+(?:[._]\d+)*)__(.+)\.sql")
REPEATABLE = re.compile(r"R__(.+)\.sql")
NO_TRANSACTION = re.compile(r"^\s*executeInTransaction\s*=\s*false\s*$", re.MULTILINE | re.IGNORECASE)
LINE_END = re.compile(r"\r\n|\r|\n")


def claims(name: str, notes: Sequence[Note]) -> bool:
    if name[:1] == "R":
        return bool(REPEATABLE.fullmatch(name))
    return name[:1] == "V" and bool(VERSIONED.fullmatch(name))


def classify(path: Path, notes: Sequence[Note]) -> File:
    if match := VERSIONED.fullmatch(path.name):
        return numbered(path, "forward" if match[1] == "V" else "rollback", match[2], match[3])
    if match := REPEATABLE.fullmatch(path.name):
        return File(path, path.name, "forward", NONE, match[1], repeatable=True)
    return unmatched(path)


def sections(file: File, notes: Sequence[Note]) -> Sections:
    conf = file.path.with_name(file.name + ".conf")
    settings = conf.read_text(encoding="utf-8", errors="replace") if conf.is_file() else ""
    return Sections(no_transaction=bool(NO_TRANSACTION.search(settings)))


def checksum(chunks: Iterable[str]) -> str:
    """Flyway's checksum: CRC-32 over the lines as Java's readLine gives them (no endings, no byte-order mark).

    A chunk ends after a line feed, never between CR and LF, so its lines are whole but the last, which the
    next chunk goes on."""
    crc, rest, first = 0, "", True
    for chunk in chunks:
        lines = LINE_END.split(rest + (chunk.removeprefix("\ufeff") if first else chunk))
        rest, first = lines.pop(), False
        for line in lines:
            crc = zlib.crc32(line.encode("utf-8"), crc)
    if rest:
        crc = zlib.crc32(rest.encode("utf-8"), crc)
    return str(crc - (1 << 32) if crc >= 1 << 31 else crc)


def following(files: Sequence[File]) -> str:
    """The version after the highest: its last part one more, written as the folder writes versions."""
    versioned = [f for f in files if f.kind == "forward" and not f.repeatable]
    if not versioned:
        return "1"
    highest = max(versioned, key=lambda f: f.version)
    head, separator, last = highest.number.rpartition("." if "." in highest.number else "_")
    return f"{head}{separator}{next_number([last])}" if separator else next_number([highest.number])


def new(directory: Path, files: Sequence[File], description: str, up: str, down: str | None) -> Written:
    version = following(files)
    written = [Output(directory / f"V{version}__{description}.sql", up)]
    if down is not None:
        written.insert(0, Output(directory / f"U{version}__{description}.sql", down))
    return written


def undo(path: Path) -> str:
    return f"expected {'U' + path.name[1:]} beside it"


FORMAT = Format("flyway", "flyway", "V<version>__<description>.sql, U<version>__<description>.sql or "
                "R__<description>.sql", claims, classify, new, undo, sections, checksum, recursive=True)
