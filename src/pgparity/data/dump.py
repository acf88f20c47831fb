"""db.dump: production's schema and sanitized rows in one deterministic archive.

Production is only read. One session, REPEATABLE READ and READ ONLY (with default_transaction_read_only
set by the server too, so a rule's WHERE cannot write whatever the role may do), reads the catalog and
exports its snapshot. Worker processes (extract.py) import that snapshot and stream the tables' rows, a
part at a time, through the sanitizer; pg_dump, in a one-off container of production's server version
(no host client needed), dumps the schema from the same snapshot meanwhile. Rows are masked in memory on
their way out of production: nothing unmasked is ever written.

The stages have a module each: tables.py (what the catalog says), survey.py (the checks before any row
is read), subset.py (which rows, in which parts), extract.py (the workers), pgdump.py (the schema),
archive.py (the zip and its manifest), restore.py (the way back in).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import docker

from pgparity import __version__
from pgparity.config import LedgerTable
from pgparity.container.engine import connect_client, discard
from pgparity.container.oneoff import orphans
from pgparity.data import DEFAULT_JOBS, archive
from pgparity.data.archive import Manifest, Member, SequenceEntry, TableEntry
from pgparity.data.extract import Extractor, Part, PartResult, begin_snapshot, part_file
from pgparity.data.pgdump import CLIENT_LABEL, bookkeeping, dump_schema
from pgparity.data.progress import Progress, Quiet, TableReport, Tables
from pgparity.data.sanitize import Rules, check
from pgparity.data.subset import Selection, plan
from pgparity.data.survey import broken_checks, exact_where_case_differs, sample_pii
from pgparity.data.tables import partition_roots, read_tables
from pgparity.database import database_of
from pgparity.errors import DumpError, SanitizeError
from pgparity.folders import own_folder
from pgparity.migrations.ledgers import hidden, read_ledger
from pgparity.processes import gone, owner
from pgparity.versions import major

# With the table owning each sequence (serial, identity), so that a ledger's own sequence stays behind with it.
SEQUENCES_QUERY = """
SELECT s.schemaname, s.sequencename, s.last_value, tn.nspname || '.' || t.relname
FROM pg_catalog.pg_sequences s
     JOIN pg_namespace sn ON sn.nspname = s.schemaname
     JOIN pg_class c ON c.relnamespace = sn.oid AND c.relname = s.sequencename
     LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     LEFT JOIN pg_class t ON t.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE s.last_value IS NOT NULL AND s.schemaname <> 'information_schema' AND s.schemaname !~ '^pg_'
ORDER BY s.schemaname, s.sequencename
"""


# A dump's work folder in the dumps folder, named for its process: `.pgparity-dump-<pid>@<host>.<random>`.
WORK_PREFIX = ".pgparity-dump-"


def remove_leftovers(directory: Path, client: docker.DockerClient, environment: str) -> list[str]:
    """Remove what killed dumps of `environment` left (work folders in `directory`, pg_dump containers); say what."""
    folders = [folder for folder in directory.glob(WORK_PREFIX + "*")
               if folder.is_dir() and gone(folder.name.removeprefix(WORK_PREFIX).rpartition(".")[0])]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    containers = orphans(client, {CLIENT_LABEL: environment})
    for container in containers:
        discard(container)
    said = [f"{len(folders)} work folders in {directory.name}/" if folders else "",
            f"{len(containers)} pg_dump containers" if containers else ""]
    return [f"removed what killed dumps left: {' and '.join(filter(None, said))}"] if folders or containers else []


@dataclass(frozen=True)
class DumpReport:
    path: str
    tables: tuple[TableReport, ...]
    sequences: int
    ledger: int
    bytes: int
    seconds: float
    notes: tuple[str, ...] = ()


def _entry(selection: Selection, parts: Sequence[Part], results: dict[str, PartResult], rules: Rules) -> TableEntry:
    table = selection.table
    transforms = ((column.name.name, rules.transform(column.name)) for column in table.columns)
    masked = tuple((name, str(transform)) for name, transform in transforms if transform)
    members = tuple(Member(part.member, results[part.member].rows) for part in parts)
    return TableEntry(table.name.schema, table.name.name, members, tuple(column.name.name for column in table.columns),
                      sum(member.rows for member in members), selection.subset, masked)


def dump(prod_url: str, *, image_of: Callable[[int], str], rules: Rules, secret: bytes, directory: Path,
         environment: str, progress: Progress | None = None, client: docker.DockerClient | None = None,
         jobs: int = DEFAULT_JOBS, production_ledger: LedgerTable | None = None) -> DumpReport:
    """Dump production's schema and sanitized rows into a new archive in `directory`.

    Refuses before anything runs or is written when a PII-looking column has no rule. `jobs` worker
    processes read the tables' parts, while pg_dump, from the image `image_of` gives for production's
    major (a pg_dump older than the server refuses to dump it), dumps the schema. Production's ledger (the
    one `production_ledger` names, or the first found) goes into the manifest, not into the dump.
    """
    started = time.monotonic()
    created = datetime.now(timezone.utc)
    path = directory / f"{environment}-{created:%Y%m%dT%H%M%SZ}.sanitized.zip"
    if path.exists():
        raise DumpError(f"{path} already exists; move it away and dump again")
    with closing(begin_snapshot(prod_url)) as conn:  # closed, not committed: its work ends with the export
        found = read_ledger(conn, production_ledger)
        left_out = hidden(found) if found else None
        tables = tuple(table for table in read_tables(conn) if not bookkeeping(str(table.name), left_out))
        rules = rules.for_partitions(partition_roots(conn))
        check([column for table in tables for column in table.columns], rules, *sample_pii(conn, tables, rules))
        rules, notes = exact_where_case_differs(conn, tables, rules)
        if problems := broken_checks(conn, tables, rules, secret):
            raise SanitizeError(f"refusing to dump ({rules.source} [sanitize]): " + "; ".join(problems))
        planned = plan(conn, tables, rules)
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        image = image_of(major(conn.info.server_version))
        sequences = tuple(SequenceEntry(schema, name, value) for schema, name, value, owner in conn.execute(SEQUENCES_QUERY)
                          if not bookkeeping(f"{schema}.{name}", left_out) and not bookkeeping(owner or "", left_out))
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        client = client or connect_client()
        own_folder(directory, "sanitized production dumps", private=True)
        notes += remove_leftovers(directory, client, environment)
        meters = Tables([(str(selection.table.name), [part.member for part in parts]) for selection, parts in planned],
                        progress or Quiet())
        with tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}{owner()}.", dir=directory) as work, \
                Extractor(prod_url, snapshot, secret, rules, Path(work), jobs) as pool, ThreadPoolExecutor(1) as thread:
            schema = thread.submit(dump_schema, client, image, prod_url, environment, snapshot, left_out)
            results = pool.run([part for _, parts in planned for part in parts], meters.count)
            entries = []
            for selection, parts in planned:
                entries.append(_entry(selection, parts, results, rules))
                meters.report(entries[-1], [results[part.member] for part in parts])
            manifest = Manifest(archive.FORMAT, __version__, created.isoformat(timespec="seconds"), server_version,
                                database_of(prod_url), tuple(entries), sequences, found)
            # Written in the work folder, so a dump killed while writing leaves its part there, to be removed.
            written = Path(work) / path.name
            archive.write(written, schema.result(), [(part.member, part_file(Path(work), part.member))
                                                     for _, parts in planned for part in parts], manifest)
            written.rename(path)
    return DumpReport(str(path), tuple(meters.reports), len(sequences), len(found.entries) if found else 0,
                      path.stat().st_size, time.monotonic() - started, tuple(notes))
