"""The dump's archive, `dumps/<environment>-<UTC time>.sanitized.zip` (written as `.partial` until complete):

    manifest.json            format, versions, row counts, rules applied, sequences, production's ledger
    schema/pre-data.sql      pg_dump --section=pre-data, without owners or privileges
    schema/post-data.sql     pg_dump --section=post-data: keys, indexes, foreign keys, triggers
    data/NNNN.PPP.copy.zst   part PPP of table NNNN's rows in COPY text format, zstd-compressed, stored

Members carry a fixed timestamp, so the same production data and secret give byte-identical members.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from pgparity.errors import DumpError, shown
from pgparity.schema.model import Ledger
from pgparity.schema.serialize import from_plain

FORMAT = "pgparity-dump/3"  # 3: production's ledger of any tool, left out of the schema and rows
MANIFEST = "manifest.json"
PRE_DATA = "schema/pre-data.sql"
POST_DATA = "schema/post-data.sql"
SECTIONS = ((PRE_DATA, "pre-data"), (POST_DATA, "post-data"))
MEMBER_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip time: members do not change with the clock
CHUNK_BYTES = 1 << 16


# ---------------------------------------------------------------------------------------- manifest

@dataclass(frozen=True)
class Member:
    """One part of a table's rows in the archive."""

    name: str
    rows: int


@dataclass(frozen=True)
class TableEntry:
    """One table in the archive; no members when its rows were excluded."""

    schema: str
    name: str
    members: tuple[Member, ...]
    columns: tuple[str, ...]
    rows: int
    subset: str
    masked: tuple[tuple[str, str], ...]  # (column, transformer) for every rule on the table

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class SequenceEntry:
    schema: str
    name: str
    last_value: int


@dataclass(frozen=True)
class Manifest:
    format: str
    tool_version: str
    created_at: str
    server_version: str
    database: str
    tables: tuple[TableEntry, ...]
    sequences: tuple[SequenceEntry, ...]
    ledger: Ledger | None  # production's, apart from the dump: its position, not its data

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        """Raises ValueError, KeyError or TypeError on anything but a manifest of this format."""
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            found = raw.get("format") if isinstance(raw, dict) else None
            raise ValueError(f"{MANIFEST} has format {found!r}; this pgparity reads {FORMAT}")
        tables = tuple(TableEntry(**{**entry, "columns": tuple(entry["columns"]),
                                     "members": tuple(Member(**member) for member in entry["members"]),
                                     "masked": tuple(tuple(pair) for pair in entry["masked"])})
                       for entry in raw["tables"])
        return cls(**{**raw, "tables": tables,
                      "sequences": tuple(SequenceEntry(**entry) for entry in raw["sequences"]),
                      "ledger": from_plain(Ledger | None, raw["ledger"], "manifest.ledger")})

    def members(self) -> set[str]:
        return {PRE_DATA, POST_DATA, *(member.name for table in self.tables for member in table.members)}


def _member_info(name: str, compress: bool = True) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=MEMBER_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    return info


def write(path: Path, scripts: Mapping[str, bytes], parts: Iterable[tuple[str, Path]], manifest: Manifest) -> None:
    """The archive: the schema's scripts, the workers' compressed parts (member, file) and the manifest, last."""
    with _partial(path) as archive:
        for member, script in scripts.items():
            archive.writestr(_member_info(member), script)
        for member, source in parts:
            _store(archive, member, source)
        archive.writestr(_member_info(MANIFEST), manifest.to_json())


@contextmanager
def _partial(path: Path) -> Iterator[zipfile.ZipFile]:
    """A zip written beside its final name and renamed when complete: a failed dump leaves no file."""
    partial = path.with_name(path.name + ".partial")
    try:
        # Readable by its owner alone, from its first byte: masked rows are still production's rows.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file, \
                zipfile.ZipFile(file, "w") as archive:
            yield archive
        partial.rename(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _store(archive: zipfile.ZipFile, member: str, source: Path) -> None:
    """A worker's zstd file as a stored member: its rows were compressed once, in the worker."""
    with source.open("rb") as data, archive.open(_member_info(member, compress=False), "w", force_zip64=True) as out:
        shutil.copyfileobj(data, out, CHUNK_BYTES * 16)


def verify_archive(path: Path) -> Manifest:
    """The archive's manifest, after reading every member in full: a damaged dump fails before restore."""
    name = shown(path)
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            if broken:
                raise DumpError(f"{name}: {broken} is corrupt (CRC mismatch); take a new dump with `invoke db.dump`")
            manifest = Manifest.from_json(archive.read(MANIFEST))
            missing = sorted(manifest.members() - set(archive.namelist()))
    except FileNotFoundError:
        raise DumpError(f"{name}: no such dump") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, TypeError) as error:
        raise DumpError(f"{name}: not a complete pgparity dump, maybe truncated ({error}); "
                        "take a new one with `invoke db.dump`") from None
    if missing:
        raise DumpError(f"{name}: the manifest lists {', '.join(missing)}, which the archive lacks")
    return manifest


def read_script(path: Path, member: str) -> str:
    """One of the schema's scripts, as text."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode()
