"""Rebuild the dev database from the migrations without ever leaving it half-built.

Every migration is applied to a scratch database; only a complete scratch is swapped in, in one
transaction of renames. A finished replay is kept as a template keyed by the content of every
migration, so an unchanged tree is rebuilt by cloning instead of replaying.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
import psycopg.errors

from pgparity import __version__
from pgparity.database import Server, connect
from pgparity.errors import MigrationError, shown
from pgparity.lazy import later
from pgparity.migrations import apply, ledger, recovery
from pgparity.migrations.apply import Timing
from pgparity.migrations.model import Baseline, Migration, Plan, Version

if TYPE_CHECKING:  # types only: the schema's model (dozens of classes) waits for a sync from a dump
    from pgparity.data.progress import Progress as TableProgress
    from pgparity.migrations.position import Position
    from pgparity.schema.model import LedgerEntry, Snapshot

# A dump is read only by a sync from one: the archive, restore and catalog modules wait for it.
archive = later("pgparity.data.archive")
restore = later("pgparity.data.restore")
introspection = later("pgparity.schema.introspect")

LOCK_KEY = "pgparity:sync"
# Errors of a file replayed over a squashed schema that already holds its work: a duplicate table, object,
# column, function, schema or database, or a column the squash already renamed or dropped (undefined_column).
COLLISIONS = {"42P07", "42710", "42701", "42723", "42P06", "42P04", "42703"}
SQUASHED = re.compile(r"complete|squash|baseline|schema|snapshot|initial|structure", re.IGNORECASE)
TEMPLATE_PREFIX = "pgparity_template_"
KEEP_TEMPLATES = 3


class Progress(Protocol):
    """What a replay reports as it goes; the shell draws it, tests may ignore it."""

    def start(self, total: int) -> None: ...
    def step(self, display: str) -> None: ...
    def done(self, timing: Timing) -> None: ...


class Quiet:
    def start(self, total: int) -> None: ...
    def step(self, display: str) -> None: ...
    def done(self, timing: Timing) -> None: ...


@dataclass(frozen=True)
class SyncResult:
    """What a sync did, for the summary and `--json`."""

    database: str
    cache: str  # "hit", "miss" or "off"
    template: str | None
    applied: tuple[Timing, ...]
    seconds: float
    terminated: int
    backup: str
    slowest: tuple[Timing, ...]


@dataclass(frozen=True)
class Names:
    """The databases one dev database's sync works with; all derive from its name."""

    dev: str

    @property
    def prefix(self) -> str:
        return f"{self.dev}__pgparity_"

    @property
    def backup(self) -> str:
        return self.prefix + "backup"

    def scratch(self) -> str:
        return f"{self.prefix}scratch_{uuid.uuid4().hex[:8]}"

    def trash(self) -> str:
        return f"{self.prefix}trash_{uuid.uuid4().hex[:8]}"

    def spares(self, key: str) -> str:
        """The prefix of the ready clones of the template with this key: the next warm syncs are renames."""
        return f"{self.prefix}spare_{key[:12]}_"

    def spare(self, key: str) -> str:
        return self.spares(key) + uuid.uuid4().hex[:8]

    @property
    def empties(self) -> tuple[str, ...]:
        """Ready copies of template0, so the next replay and its twin start with a rename instead of a CREATE
        DATABASE, which waits for the disk (30 to 500 ms, where a rename takes a few)."""
        return (self.prefix + "empty", *(f"{self.prefix}empty_{number}" for number in range(2, EMPTIES + 1)))

    def leftovers(self, server: Server, keep: str) -> list[str]:
        """Scratch, trash and outdated spare databases (never the backup, the empty one, nor the spares whose
        names start with `keep`)."""
        return [name for name in server.names(self.prefix)
                if name != self.backup and name not in self.empties and not (keep and name.startswith(keep))]


def cache_key(migrations: Sequence[Migration], environment: Sequence[str]) -> str:
    """Hash of every migration's content (its exact bytes: line endings reach function bodies) and options,
    the server and its settings."""
    digest = hashlib.sha256(f"{__version__}\0{ledger.LAYOUT}".encode())
    for item in environment:
        digest.update(b"\0" + item.encode())
    for migration in migrations:
        digest.update(f"\0{migration.version}\0{migration.name}\0{migration.raw_checksum}\0{migration.no_transaction}".encode())
        if migration.check:  # a replay that verified its files is not one that did not
            digest.update(b"\0" + migration.check_sql.encode())
    return digest.hexdigest()[:20]


def applier(url: str) -> psycopg.Connection:
    """The session that applies migrations to the database at `url`, named for `recovery` (autocommit)."""
    # Commits need not wait for the disk: a replay is rebuilt, not recovered. As a connection option
    # it survives the RESET ALL after each file.
    return connect(url, autocommit=True, options="-c synchronous_commit=off", application=recovery.application_name())


def replay(url: str, migrations: Sequence[Migration], progress: Progress) -> tuple[Timing, ...]:
    """Apply migrations in order to the new database at `url`, recording each in its ledger."""
    with applier(url) as conn:
        ledger.ensure(conn)
        return apply_all(conn, migrations, progress)


def apply_all(conn: psycopg.Connection, migrations: Sequence[Migration], progress: Progress) -> tuple[Timing, ...]:
    """Apply migrations in order through the applier session `conn`.

    Files travel in batches; a lone file, and each file after a failure in a batch, is sent by itself,
    so an error names its file and line exactly as when every file is sent alone.
    """
    timings: list[Timing] = []
    progress.start(len(migrations))
    for batch in apply.batches(migrations):
        progress.step(shown(batch[0].path))
        applied = apply.apply_batch(conn, batch) if len(batch) > 1 else []
        for migration in batch[len(applied):]:
            try:
                applied.append(apply.apply(conn, migration, shown(migration.path)))
            except MigrationError as error:
                raise with_baseline_hint(error, migrations[: len(timings) + len(applied)]) from None
        for timing in applied:
            progress.done(timing)
        timings += applied
    return tuple(timings)


def with_baseline_hint(error: MigrationError, before: Sequence[Migration]) -> MigrationError:
    """A collision right after a squashed schema file means two lineages are replayed: suggest a baseline."""
    squashed = [m for m in before if m.version.number == 0 or SQUASHED.search(m.name)]
    if error.sqlstate not in COLLISIONS or not squashed:
        return error
    name = squashed[-1].path.name
    return MigrationError(
        f"{error} | hint: {name} looks like a squashed schema that already contains the files after it; declare "
        f"it in pgparity.toml: [migrations] baseline = {{ file = \"{name}\", through = <last version it covers> }}",
        error.sqlstate,
    )


class Syncer:
    """Builds, caches and swaps databases on one server for one dev database name."""

    def __init__(self, server: Server, dev: str, progress: Progress | None = None,
                 notify: Callable[[str], None] | None = None,
                 prepare_spare: Callable[[str, list[str]], None] | None = None,
                 twin_replay: bool = (os.cpu_count() or 1) > 1):
        self.server = server
        self.prepare_spare = prepare_spare
        self.names = Names(dev)
        self.progress = progress or Quiet()
        self.notify = notify or (lambda message: None)
        self.trash: list[str] = []  # renamed out of the way; dropping them can wait until the command returns
        # A cold sync replays into the template and the dev copy at once when there is a core to spare.
        self.twin_replay = twin_replay

    def locked(self):
        """Hold the server's sync lock; a second holder waits with a message."""
        return self.server.advisory_lock(LOCK_KEY, on_wait=waiting(self.notify))

    def sync(self, plan: Plan, key: str, use_cache: bool = True,
             seed: Callable[[str], None] | None = None) -> SyncResult:
        """Rebuild the dev database from `plan`; on any failure the dev database is untouched.

        On a cache hit a spare clone made after the previous sync is renamed in, so a warm sync does
        not depend on the schema's size; a new spare is then prepared in the background. `seed`, given
        the URL of the database about to become dev (never the template), fills it with seed data first.
        """
        started = time.monotonic()
        spares = self.names.spares(key)
        with self.locked():
            self._clean_leftovers(keep=spares)
            template = TEMPLATE_PREFIX + key
            ready = self.server.names(spares)
            if use_cache and ready and self.server.exists(template):
                cache, applied = "hit", ()
                terminated = self._swap_in_or_drop(ready[0], seed)
            else:
                twin = self.names.scratch() if self.twin_replay else None
                template, cache, applied = self.ensure_template(plan.migrations, key, not use_cache, twin)
                terminated = self._swap_in_or_drop(twin if twin and cache != "hit" else self._clone(template), seed)
        self._after_swap(template)
        return SyncResult(self.names.dev, cache, template, applied, time.monotonic() - started, terminated,
                          self.names.backup, slowest(applied))

    def _after_swap(self, template: str = "") -> None:
        """Prepare the next spare (unless `template` is empty) and empty database, and drop the trash,
        in a detached process; without one, drop the trash now."""
        trash, self.trash = self.trash, []
        if self.prepare_spare:
            self.prepare_spare(template, trash)
        else:
            for name in trash:
                self.server.drop(name)

    def _clone(self, template: str) -> str:
        scratch = self.names.scratch()
        try:
            self.server.create(scratch, template=template)
        except BaseException:
            self.server.drop(scratch)
            raise
        return scratch

    def _swap_in_or_drop(self, scratch: str, seed: Callable[[str], None] | None = None) -> int:
        try:
            if seed is not None:
                seed(self.server.url_for(scratch))
            return self._swap_in(scratch)
        except BaseException:
            self.server.drop(scratch)
            raise

    def sync_from_dump(self, path: Path, position_of: Callable[[Snapshot], Position],
                       dump_progress: TableProgress | None = None) -> SyncResult:
        """Rebuild the dev database from a sanitized dump plus the migrations production had not applied.

        Same guarantees as `sync`: everything happens in a scratch database swapped in only when complete.
        `position_of` says where the dumped production stood, from the restored schema and the ledger the
        dump recorded; the files it had applied are recorded in the ledger as coming from the dump.
        """
        started = time.monotonic()
        manifest = archive.verify_archive(path)  # a damaged dump is refused before anything waits or changes
        with self.locked():
            self._clean_leftovers()
            scratch = self.names.scratch()
            try:
                self._create_empty(scratch)
                url = self.server.url_for(scratch)
                restored = restore.restore(path, url, progress=dump_progress, manifest=manifest)
                with connect(url) as conn:
                    position = position_of(replace(introspection.inspect(conn), ledger=restored.ledger))
                    ledger.record(conn, position.applied, ledger.FROM_DUMP)
                self.notify(f"{path.name}: {position.evidence}")
                for note in restored.notes + position.remarks:
                    self.notify(f"{path.name}: {note}")
                applied = replay(url, position.pending, self.progress)
                terminated = self._swap_in(scratch)
            except BaseException:
                self.server.drop(scratch)
                raise
        self._after_swap()
        return SyncResult(self.names.dev, "dump", None, applied, time.monotonic() - started, terminated,
                          self.names.backup, slowest(applied))

    def ensure_template(self, migrations: Sequence[Migration], key: str, rebuild: bool = False,
                        twin: str | None = None) -> tuple[str, str, tuple[Timing, ...]]:
        """The template database holding exactly `migrations`, replayed now unless cached (call under the lock).

        A replay also fills the new database `twin`, when given, at the same time (see _replay). Returns
        the template's name, "hit", "miss" or "off" (rebuilt on request), and the timings of a replay.
        """
        template = TEMPLATE_PREFIX + key
        if not rebuild and self.server.exists(template):
            return template, "hit", ()
        building = f"{template}_building"
        self.server.drop(building)
        try:
            self._create_empty(building)
            applied = self._replay(building, migrations, twin)
            self._install_template(building, template)
        except BaseException:
            self.server.drop(building)
            if twin:
                self.server.drop(twin)
            raise
        return template, ("off" if rebuild else "miss"), applied

    def _replay(self, building: str, migrations: Sequence[Migration], twin: str | None) -> tuple[Timing, ...]:
        """Replay into `building`, and into a new database `twin` on a second server process at once.

        With the twin, a cold sync's dev database needs no clone of the template afterwards. A clone
        (FILE_COPY) forces two checkpoints and copies every file of the schema on the critical path,
        while on a server with a core to spare the second replay costs little.
        """
        if twin is None:
            return replay(self.server.url_for(building), migrations, self.progress)
        self._create_empty(twin)
        with ThreadPoolExecutor(max_workers=1) as pool:
            copy = pool.submit(replay, self.server.url_for(twin), migrations, Quiet())
            try:
                applied = replay(self.server.url_for(building), migrations, self.progress)
            except BaseException:
                self.server.drop(twin)  # ends the twin's session: it stops at once
                raise
            copy.result()
        return applied

    def _create_empty(self, name: str) -> None:
        """A new empty database: one the detached process prepared, renamed, else a copy of template0."""
        ready = next((empty for empty in self.names.empties if self.server.exists(empty)), None)
        if ready:
            self.server.rename_all([(ready, name)])
        else:
            self.server.create(name, template="template0")

    def _install_template(self, building: str, template: str) -> None:
        """The finished replay becomes the template (an older one of that key goes to the trash)."""
        renames = [(building, template)]
        if self.server.exists(template):
            self.trash.append(self.names.trash())
            renames.insert(0, (template, self.trash[-1]))
        self.server.rename_all(renames)
        self._prune_templates(keep=template)

    def _swap_in(self, scratch: str) -> int:
        """Make scratch the dev database and dev the backup, in one transaction; the old backup goes to the trash."""
        dev, backup = self.names.dev, self.names.backup
        renames = []
        if self.server.exists(backup):
            self.trash.append(self.names.trash())
            renames.append((backup, self.trash[-1]))
        terminated = 0
        if self.server.exists(dev):
            terminated = self.server.terminate(dev)
            renames.append((dev, backup))
        renames.append((scratch, dev))
        self.server.rename_all(renames)
        return terminated

    def restore_backup(self) -> int:
        """Swap the backup and the dev database: the previous sync's result comes back."""
        dev, backup = self.names.dev, self.names.backup
        with self.locked():
            if not self.server.exists(backup):
                raise MigrationError(f"no backup of {dev} to restore; a backup exists after a second sync")
            swap = self.names.trash()
            terminated = self.server.terminate(dev)
            self.server.rename_all([(dev, swap), (backup, dev), (swap, backup)])
            return terminated

    def _clean_leftovers(self, keep: str = "") -> None:
        for name in self.names.leftovers(self.server, keep) + self.server.names(TEMPLATE_PREFIX):
            if name.startswith(self.names.prefix) or name.endswith("_building"):
                self.server.drop(name)

    def _prune_templates(self, keep: str) -> None:
        """Keep the newest few templates (by creation order), always including the current one."""
        rows = self.server.conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY oid DESC",
            (TEMPLATE_PREFIX,),
        ).fetchall()
        others = [name for (name,) in rows if name != keep and not name.endswith("_building")]
        for name in others[KEEP_TEMPLATES - 1:]:
            self.server.drop(name)


@dataclass(frozen=True)
class MigrateResult:
    """What an in-place migrate applied."""

    database: str
    applied: tuple[Timing, ...]
    seconds: float
    slowest: tuple[Timing, ...]


def slowest(timings: Sequence[Timing], count: int = 3) -> tuple[Timing, ...]:
    return tuple(sorted(timings, key=lambda t: (-t.ms, t.version))[:count])


def pending(applied: Sequence[LedgerEntry], plan: Plan, baseline: Baseline | None) -> list[Migration]:
    """The plan's migrations a database still lacks; refuse when its ledger and the files disagree."""
    edited = ledger.changed(applied, plan.migrations)
    if edited:
        row, migration = edited[0]
        raise MigrationError(
            f"{shown(migration.path)} changed after it was applied (ledger sha256 {row.checksum[:12]}, "
            f"file {migration.checksum[:12]}); restore the file, or accept the change with `invoke db.repair`"
        )
    ledger.refuse_unresolved(ledger.unresolved(applied, plan, baseline))
    done = {(row.version, row.name): row.checksum for row in applied}
    todo = [m for m in plan.migrations if ledger.key(m) not in done
            or m.repeatable and not ledger.matches(done[ledger.key(m)], m)]  # a changed repeatable runs again
    versions = [version for row in applied if (version := Version.parse(row.version))]
    if baseline and any(version <= baseline.version for version in versions):
        todo = [m for m in todo if m.repeatable or m.version > baseline.version]
    newest = max(versions, default=None)
    late = [m for m in todo if newest is not None and not m.repeatable and m.version < newest]
    if late:
        raise MigrationError(
            f"{shown(late[0].path)} is older than the newest applied migration "
            f"({newest}) but was never applied; renumber it after {newest}, or rebuild with `invoke db.sync`"
        )
    return todo


def migrate(server: Server, dev: str, plan: Plan, baseline: Baseline | None,
            progress: Progress | None = None, notify: Callable[[str], None] = lambda message: None) -> MigrateResult:
    """Apply only the pending migrations to the existing dev database, in place.

    What a killed command left is settled first (see `recovery`): its session, still running on the
    server, and its no-transaction file's unfinished ledger row.
    """
    started = time.monotonic()
    with server.advisory_lock(LOCK_KEY, on_wait=waiting(notify)):
        with applier(server.url_for(dev)) as conn:
            recovery.claim(conn, notify)
            ledger.ensure(conn)
            recovery.reconcile(conn, plan.migrations, notify)
            todo = pending(ledger.read(conn), plan, baseline)
            applied = apply_all(conn, todo, progress or Quiet())
    return MigrateResult(dev, applied, time.monotonic() - started, slowest(applied))


def spawn_spare(url: str, dev: str, template: str, trash: Sequence[str]) -> None:
    """Prepare the next syncs' databases and drop the trash in a detached process, so this command returns now.

    The child waits for the sync lock, so it never races a sync; if it dies, the next sync creates what it
    needs itself and drops the trash. The password travels in the child's environment, not on its command line.
    """
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    bare = urlunsplit(parts._replace(netloc=user + parts.netloc.rpartition("@")[2]))
    code = "import sys; from pgparity.migrations.sync import make_spare; make_spare(*sys.argv[1:])"
    subprocess.Popen([sys.executable, "-c", code, bare, dev, template, *trash],
                     env={**os.environ, "PGPASSWORD": unquote(parts.password or "")}, start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def waiting(notify: Callable[[str], None]) -> Callable[[str | None], None]:
    """What a command waiting for the sync lock says: which other command it waits for."""
    def on_wait(holder: str | None) -> None:
        notify("another sync or migrate is running on this server; waiting for it")
    return on_wait


# Two CREATE DATABASE of one name at once: the later fails, by the name's check or the catalog's unique index.
DUPLICATE = (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation)
SPARE_MAKER = "pgparity-spare"  # the application_name of make_spare's session
SPARES = 2  # ready clones of the current template: a sync right after another still finds one
EMPTIES = 2  # ready empty databases: a cold sync replays into two at once (see Syncer._replay)


def make_spare(url: str, dev: str, template: str, *trash: str) -> None:
    """Clones of `template` (none when it is empty) until SPARES are ready for the next warm syncs, then the
    EMPTIES empty databases for the next replay and its twin, then the trash.

    None of it holds the sync lock, so a sync never waits for it: a database appears in pg_database only once
    CREATE DATABASE has finished, so a sync sees a spare whole or not at all, and the clone's lock on the
    template keeps that from being dropped under it.
    """
    names = Names(dev)
    key = template.removeprefix(TEMPLATE_PREFIX)
    with Server(url, application=SPARE_MAKER) as server:
        while template and server.exists(template) and len(server.names(names.spares(key))) < SPARES:
            server.create(names.spare(key), template=template)
        for empty in names.empties:
            if not server.exists(empty):
                with suppress(*DUPLICATE):  # another command's process made it in the meantime
                    server.create(empty, template="template0")
        for name in trash:
            server.drop(name)
