"""One environment as the database tasks need it: settings, project file, container, server, plan."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pgparity import config, hook
from pgparity.errors import ContainerUnhealthy, DatabaseError, MigrationError, NoEnvironment, SnapshotError, shown
from pgparity.lazy import docker, later, psycopg
from pgparity.migrations.discovery import as_of, discover
from pgparity.migrations.lintcache import LintCache
from pgparity.migrations.model import Finding, Migration, Plan

if TYPE_CHECKING:
    from pgparity.container.engine import Engine
    from pgparity.data.sanitize import Rules
    from pgparity.database import Server
    from pgparity.migrations.hazards import Context, Reviewed
    from pgparity.migrations.position import Position
    from pgparity.migrations.sync import Progress, Syncer
    from pgparity.schema.diff import Change
    from pgparity.schema.model import Snapshot
    from pgparity.schema.serialize import Head
    from pgparity.schema.verify import Verdict

# What only some tasks touch is imported when first used (see pgparity.lazy): `db.lint` reads no schema, and a
# warm sync reaches its server without Docker.
engines = later("pgparity.container.engine")
database = later("pgparity.database")
ledger = later("pgparity.migrations.ledger")
seeding = later("pgparity.migrations.seed")
hazard_rules = later("pgparity.migrations.hazards")
positions = later("pgparity.migrations.position")
syncing = later("pgparity.migrations.sync")
diffing = later("pgparity.schema.diff")
introspection = later("pgparity.schema.introspect")
roles = later("pgparity.schema.roles")
serialize = later("pgparity.schema.serialize")
verification = later("pgparity.schema.verify")

T = TypeVar("T")

KNOWN_PATIENCE = 2  # seconds to reach the remembered server before asking Docker
STOP_GRACE = 5  # seconds the engine may take to mark a killed container exited


@dataclass
class Workspace:
    """Lazily opens what a task uses, so `db.lint` never touches Docker and `db.up` never reads migrations.

    It never prints: what a person must be told goes to `show_findings` and `warn`, which the shell provides.
    """

    settings: config.Settings
    show_findings: Callable[[Sequence[Finding]], None]
    warn: Callable[[str], None]

    @classmethod
    def load(cls, show_findings: Callable[[Sequence[Finding]], None], warn: Callable[[str], None]) -> "Workspace":
        return cls(config.load(), show_findings, warn)

    @cached_property
    def project_file(self) -> config.ProjectFile:
        return config.load_project_file(self.settings.config_file)

    @property
    def sanitize_rules(self) -> Rules:
        """The sanitize rules a dump applies: pgparity.toml's, none when it has no [sanitize] section."""
        rules = self.project_file.sanitize
        return rules if rules is not None else config.sanitizing.parse_rules({}, self.settings.config_file)

    def _project_file_at(self, revision: str, folder: Path) -> config.ProjectFile:
        """pgparity.toml as commit `revision` has it (defaults when it has none), read under its own name."""
        text = hook.file_at(self.settings.root, revision, self.settings.config_file)
        if text is None:
            return config.ProjectFile()
        copy = folder / self.settings.config_file.name
        copy.write_text(text, encoding="utf-8")
        return config.load_project_file(copy)

    @cached_property
    def profile(self) -> Snapshot | None:
        """The committed production profile, or None when it has not been captured yet."""
        return self._profile_part(serialize.load_snapshot)

    @cached_property
    def head(self) -> Head | None:
        """What the profile says of production's server: every task that touches dev reads it (the container
        mirrors production from it), so a broken one says how to mend it; the rest is read when a task needs it."""
        if "profile" in self.__dict__:
            return self.profile and serialize.Head.of(self.profile)
        return self._profile_part(serialize.load_head)

    def _profile_part(self, load: Callable[[Path], T]) -> T | None:
        path = self.settings.profile
        if not path.is_file():
            return None
        try:
            return load(path)
        except SnapshotError as error:
            raise SnapshotError(f"{error}; it is the production profile, which dev mirrors: restore it with "
                                f"`git checkout -- {shown(path)}` or capture it again with `db.snapshot --from prod`"
                                ) from error

    @cached_property
    def engine(self) -> Engine:
        return engines.Engine(self.settings, engines.Mirror.from_profile(self.head, self.settings), warn=self.warn)

    def plan(self, show: bool = True, revision: str | None = None) -> Plan:
        """Discover and lint the migrations (as they are in commit `revision`, when given); show the
        findings; refuse on errors."""
        if revision:
            with tempfile.TemporaryDirectory(prefix="pgparity-revision-") as folder:
                self.project_file = self._project_file_at(revision, Path(folder))
                exported = hook.export(self.settings.root, revision, self.settings.migrations, Path(folder))
                plan = discover(exported, self.project_file.migrations, LintCache(self.settings.cache_folder))
                plan = plan.moved(self.settings.migrations)
        else:
            plan = discover(self.settings.migrations, self.project_file.migrations, LintCache(self.settings.cache_folder))
        if show:
            self.show_findings(plan.findings)
        plan.raise_for_errors(listed=show)
        return plan

    @contextmanager
    def server(self, existing: str | None = None) -> Iterator[Server]:
        """The dev server (see `reach`).

        When work on it fails because the container stopped (killed, out of memory), the error says so,
        with the container's last log lines, rather than the driver's "the connection is closed".
        """
        server = self.reach(existing)
        with self.watched(), server:
            yield server

    def reach(self, existing: str | None = None) -> Server:
        """A session on the dev server, its container started first when it is not running; for the task named
        by `existing`, which creates none, refused when there is no container."""
        server = self.known_server()
        if server is not None:
            return server
        if existing:
            self.require_environment(existing)
        with self.watched():
            self.engine.up()
            return database.Server(self.engine.url)

    def known_server(self) -> Server | None:
        """The server the last `up` made ready, reached straight on its port, when it is still that server (the
        same spec, engine and cluster): a warm command then needs no Docker at all. None: ask Docker."""
        recalled = self.engine.recalled()
        if recalled is None:
            return None
        url, cluster = recalled
        try:
            server = database.Server(url, connect_timeout=KNOWN_PATIENCE)
        except DatabaseError:
            return None
        if engines.cluster(server.conn) != cluster:
            server.close()
            return None
        return server

    @contextmanager
    def watched(self) -> Iterator[None]:
        """Work on the dev server, any of it (a session of its own too): when it fails because the container
        stopped, the error names the container and carries its last log lines."""
        try:
            yield
        except Exception as error:
            stopped = self._stopped_during(error)
            if stopped is None:
                raise
            raise stopped from error

    def _stopped_during(self, error: Exception) -> ContainerUnhealthy | None:
        """An error naming the dev container if it is no longer running, else None (the error is the work's).

        A lost connection is seen before the engine marks the container exited, so that case waits briefly.
        """
        lost = (error, error.__context__)  # a failed migration's error stands for the driver's, kept as its context
        patience = STOP_GRACE if any(isinstance(e, psycopg.OperationalError) for e in lost) else 0
        try:
            container = self.engine.find()
            deadline = time.monotonic() + patience
            while container is not None and container.status == "running" and time.monotonic() < deadline:
                time.sleep(0.2)
                container.reload()
        except docker.errors.DockerException:
            return None
        name = self.settings.container_name
        if container is None:
            return ContainerUnhealthy(f"{name} was removed while the command ran ({error})")
        if container.status == "running":
            return None
        code = container.attrs.get("State", {}).get("ExitCode")
        return ContainerUnhealthy(f"{name} stopped while the command ran ({container.status}, exit code {code}; "
                                  f"the command saw: {error}); its last log lines: {engines.tail(container, 5)}")

    def seeds(self) -> list[Path]:
        """The seed files `[seed] path` names, in the order they run; none when it names nothing."""
        path = self.project_file.seed
        return seeding.files(self.settings.root / path) if path else []

    def syncer(self, server: Server, progress: Progress | None = None) -> Syncer:
        return syncing.Syncer(server, self.settings.database, progress, notify=self.warn,
                      prepare_spare=lambda template, trash: syncing.spawn_spare(server.url, self.settings.database, template, trash))

    def cache_key(self, server: Server, migrations: Sequence[Migration]) -> str:
        """Template key: the migrations plus everything about the server that changes what they build."""
        version = server.conn.execute("SHOW server_version_num").fetchone()[0]
        mirror = self.engine.mirror
        return syncing.cache_key(migrations, [self.engine.spec.image, version, mirror.initdb_args(), mirror.server_args()])

    def inspect_url(self, url: str, read_only: bool = False) -> Snapshot:
        opener: Callable[[str], object] = database.connect_read_only if read_only else database.connect
        with opener(url) as conn:
            return introspection.inspect(conn)

    def inspect_production(self, url: str) -> Snapshot:
        """Production's schema, read-only, with the ledger pgparity.toml names (or the first one found)."""
        with database.connect_read_only(url) as conn:
            return introspection.inspect(conn, self.project_file.production.ledger, sizes=True)

    def position(self, plan: Plan, profile: Snapshot) -> Position:
        fmt = plan.format

        def earlier(migration: Migration, recorded: str) -> Migration | None:
            """The file as production ran it: the commit whose content has the checksum its ledger records."""
            text = hook.earlier(self.settings.root, migration.path,
                                 lambda text: fmt.checksum is not None and fmt.checksum(text) == recorded)
            return None if text is None else as_of(fmt, migration, text)

        return positions.locate(plan.migrations, profile, self.project_file.production, earlier)

    def require_profile(self) -> Snapshot:
        if self.profile is None:
            raise SnapshotError(
                f"{self.settings.profile}: no production profile yet; capture it with `invoke db.snapshot --from prod`"
            )
        return self.profile

    def expected(self, migrations: Sequence[Migration] | None = None) -> Snapshot:
        """The schema a fresh replay of `migrations` (default: every one) builds, through the template cache."""
        migrations = self.plan().migrations if migrations is None else migrations
        with self.server() as server:
            syncer = self.syncer(server)
            with syncer.locked():
                return self._replayed(server, syncer, migrations)

    def verify(self, show: bool = True, revision: str | None = None) -> Verdict:
        """Local drift (dev vs a replay of every migration) and production drift (the profile vs a replay
        of what production applied), production's position and the servers' versions (without a profile:
        local drift alone). With `revision`, the migrations are those of that commit (what a push sends),
        not the working tree's."""
        plan = self.plan(show, revision)
        server = self.reach(existing="db.verify")
        profile = self.profile
        ignore, owners = self.project_file.ignore, self.project_file.owners
        if profile is None and show:
            self.warn(f"{shown(self.settings.profile)} not found: checking local drift only "
                        "(capture production with `invoke db.snapshot --from prod`)")
        with self.watched(), server:
            dev = self._dev_against(plan, revision)
            syncer = self.syncer(server)
            with syncer.locked():
                expected = self._replayed(server, syncer, plan.migrations)
                if profile is None:
                    return verification.verdict(verification.rows(diffing.compare(dev, expected, owners)), (), None, ignore)
                position = self.position(plan, profile)
                built = self._replayed_or(expected, server, syncer, plan, position.applied)
        found = verification.verdict(verification.rows(diffing.compare(dev, expected, owners)), verification.production_drift(built, profile, position, owners),
                        position, ignore, verification.ServerCheck(verification.PRODUCTION, built.server, profile.server))
        return replace(found, hazards=self.pending_hazards(position, profile))

    def _dev_against(self, plan: Plan, revision: str | None = None) -> Snapshot:
        """The dev database's schema, refused when its ledger records files renamed or gone from the plan (of
        commit `revision`, when given): what it applied is then unknown. Rows with the earlier spelling of a
        file's checksum read as the current one."""
        dev = self.inspect_url(self.engine.url)
        if dev.ledger is None or dev.ledger.kind != diffing.PGPARITY:
            return dev
        entries = dev.ledger.entries
        files = {ledger.key(migration): shown(migration.path) for migration in plan.migrations}
        for entry in (entry for entry in entries if entry.failed):
            self.warn(f"{files.get((entry.version, entry.name), entry.name)}: a command that was killed started this "
                      "no-transaction file and never recorded its end; `invoke db.migrate` settles it")
        try:
            ledger.refuse_unresolved(ledger.unresolved(entries, plan, self.project_file.migrations.baseline))
        except MigrationError as error:
            if revision is None:
                raise
            raise MigrationError(f"{error} (in the migrations of commit {revision})") from None
        return replace(dev, ledger=replace(dev.ledger, entries=ledger.current(entries, plan.migrations)))

    def require_environment(self, task: str) -> None:
        """Refuse, before any database work, when this folder has no dev container: `task` does not create
        one. It needs the dev server even for production's check, whose migrations it replays there; a
        stopped container is started, as it is this folder's own."""
        if self.engine.find() is None:
            raise NoEnvironment(
                f"no dev environment for this worktree (no container {self.settings.container_name}), and {task} "
                "does not create one: it compares the dev database with the migrations and replays them, for "
                "production's check too, on the dev server; start one with `invoke db.up`, then `invoke db.sync`")

    def _replayed_or(self, every: Snapshot, server: Server, syncer: Syncer, plan: Plan,
                     migrations: Sequence[Migration]) -> Snapshot:
        """`every` (the replay of the whole plan) when `migrations` is the whole plan, else their own replay."""
        if len(migrations) == len(plan.migrations):
            return every
        return self._replayed(server, syncer, migrations)

    def _replayed(self, server: Server, syncer: Syncer, migrations: Sequence[Migration]) -> Snapshot:
        template, _, _ = syncer.ensure_template(migrations, self.cache_key(server, migrations))
        return self.inspect_url(server.url_for(template))

    def hazards(self, show: bool = True) -> tuple[Reviewed, ...]:
        """What the files production has not applied will do there, sized from the profile; and the in-production
        fixes at the end of its history, measured on the schema the files before them build (they change nothing
        in production, but on a database that lacks their changes they do this). Without a profile, every file,
        sizes unknown."""
        plan = self.plan(show)
        profile, policy = self.profile, self.project_file.hazards
        hazard_rules.refuse_unknown_allowances(plan.migrations)
        if profile is None:
            return hazard_rules.review(plan.migrations, hazard_rules.Context(None, policy))
        position = self.position(plan, profile)
        tail = hazard_rules.in_production_tail(position.applied)
        elsewhere: tuple[Reviewed, ...] = ()
        if tail and self.engine.find() is None:
            self.warn(f"no dev environment: {shown(tail[-1].path)} and the other in-production fixes at the end of the "
                      "history are not measured (they are, on the schema the files before them build, after db.up)")
        elif tail:
            before = plan.migrations[:plan.migrations.index(tail[0])]
            catalog = replace(self.expected(before), sizes=profile.sizes)
            elsewhere = hazard_rules.review(tail, hazard_rules.Context(catalog, policy), elsewhere=True)
        return elsewhere + self.pending_hazards(position, profile)

    def fix_context(self, expected: Snapshot) -> Context:
        """What a fix's statements meet: the schema they change, sized as production (unknown without a profile)."""
        sizes = self.profile.sizes if self.profile else ()
        return hazard_rules.Context(replace(expected, sizes=sizes), self.project_file.hazards)

    def pending_hazards(self, position: Position, profile: Snapshot) -> tuple[Reviewed, ...]:
        """The hazards of the files pending in production, against its profile: no server needed."""
        return hazard_rules.review(position.pending, hazard_rules.Context(profile, self.project_file.hazards))

    def align_with_profile(self) -> list[str]:
        """Create production's roles in the dev server and say what cannot be mirrored.

        Roles are created without passwords; superuser and replication are never copied.
        """
        profile = self.profile
        if profile is None:
            return []
        with database.connect(self.engine.url, autocommit=True) as conn:
            problems = self.engine.mirror.mismatches(conn, profile, self.engine.spec.image)
            roles.create_missing(conn, profile.roles)
        return problems

    def drift_to(self, target: str) -> tuple[Snapshot, Snapshot, tuple[Change, ...]]:
        """The schema the migrations build (for `prod`: those production applied), the target schema (`prod`:
        the profile, `dev`: the dev database) and the changes between them, ledgers aside and the ignore list applied."""
        plan = self.plan()
        goal = self.require_profile() if target == "prod" else None
        # Production's drift is measured against what it applied: a fix never undoes a pending migration.
        migrations = self.position(plan, goal).applied if goal is not None else plan.migrations
        with self.server() as server:
            syncer = self.syncer(server)
            with syncer.locked():
                expected = verification.without_ledger(self._replayed(server, syncer, migrations))
            goal = goal or self.inspect_url(self.engine.url)
        goal = verification.without_ledger(goal)
        ignore = self.project_file.ignore
        changes = diffing.compare(expected, goal, self.project_file.owners)
        return expected, goal, tuple(c for c in changes if not verification.ignored(c.difference, ignore))
