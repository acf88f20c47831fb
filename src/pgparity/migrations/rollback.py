"""Undoing the last applied migrations on the dev database with their rollback files.

Each rollback runs with the removal of its migration's ledger row in one transaction, newest first, so
the ledger always says which files the database has: a rolled-back migration is simply pending again
(the next `db.migrate` applies it anew, `db.sync` rebuilds with it). Nothing runs unless every rollback
asked for is there and undoes its migration whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pgparity.database import Server, connect
from pgparity.errors import MigrationError, counted, shown
from pgparity.migrations import apply, formats, ledger
from pgparity.migrations.model import Baseline, Migration, Plan
from pgparity.migrations.sync import LOCK_KEY

# A statement that drops something, kept as a comment: db.fix writes destructive undo steps that way, and a
# rollback run with them would leave the migration's objects behind while its ledger row goes.
COMMENTED_DROP = re.compile(r"--\s*((?:DROP|TRUNCATE)\s+\w+|ALTER\s+TABLE\b.*\bDROP\b).*;\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RolledBack:
    """One migration undone, by which file."""

    migration: Migration
    rollback: Path


def choose(applied: Sequence[Migration], steps: int, database: str,
           fmt: formats.Format = formats.FORMATS[0]) -> list[tuple[Migration, Path, str]]:
    """The last `steps` applied migrations, newest first, each with its rollback file and text (the file's
    own down section, in layouts that keep one); refused when one has none, or one leaves a drop commented out."""
    if steps > len(applied):
        raise MigrationError(f"--steps {steps} is more than the {counted(len(applied), 'migration')} applied to {database}")
    chosen = []
    for migration in reversed(applied[len(applied) - steps:]):
        if migration.rollback is None:
            raise MigrationError(f"{shown(migration.path)} has no rollback: {fmt.undo(migration.path)}; write "
                                 "it, or rebuild with `invoke db.sync`")
        text = undo_text(migration)
        for number, line in enumerate(text.splitlines(), 1):
            if match := COMMENTED_DROP.search(line):
                raise MigrationError(f"{shown(migration.rollback)}:{number}: {' '.join(match[1].split()[:3])} is "
                                     f"commented out, so this rollback would not undo {migration.path.name}; "
                                     "uncomment it, or undo that part by hand")
        chosen.append((migration, migration.rollback, text))
    return chosen


def undo_text(migration: Migration) -> str:
    """The text that undoes a migration which has a rollback: its own down section, or its rollback file's."""
    if migration.rollback_sql is not None:
        return migration.rollback_sql
    try:
        return migration.rollback.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MigrationError(f"{shown(migration.rollback)}: cannot read the rollback ({error})") from None


def rollback(server: Server, dev: str, plan: Plan, baseline: Baseline | None, steps: int) -> list[RolledBack]:
    """Undo the last `steps` migrations the dev database applied (in the ledger's order), newest first."""
    url = server.url_for(dev)
    with server.advisory_lock(LOCK_KEY), connect(url, autocommit=True) as conn:
        rows = ledger.read(conn)
        ledger.refuse_unresolved(ledger.unresolved(rows, plan, baseline))
        by_key = {ledger.key(m): m for m in plan.migrations}
        applied = [by_key[row.version, row.name] for row in rows if (row.version, row.name) in by_key]
        done = []
        for migration, path, text in choose(applied, steps, dev, plan.format):
            apply.run_file(conn, path, text, ledger.forget(*ledger.key(migration)))
            done.append(RolledBack(migration, path))
    return done
