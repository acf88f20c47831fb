"""The `db` task collection: parse flags, call the library, render. Nothing else lives here."""

from __future__ import annotations

import subprocess
import sys

from invoke import Collection, task
from invoke.exceptions import Exit
from rich.status import Status as Spinner

from . import config, ledger, report
from .database import Server, connect
from .engine import Engine
from .errors import PgParityError
from .migrations import Plan, discover
from .shell import guarded
from .sync import Syncer, cache_key, migrate as migrate_in_place


def _engine() -> Engine:
    return Engine(config.load())


def _plan(settings: config.Settings, quiet: bool = False) -> Plan:
    """Discover and lint the migrations; print findings; refuse on errors."""
    policy = config.load_project_file(settings.config_file).migrations
    plan = discover(settings.migrations, policy)
    if not quiet:
        report.findings(plan.findings)
    plan.raise_for_errors()
    return plan


def _running(engine: Engine) -> Server:
    """The dev server, started first when it is not running."""
    engine.up()
    return Server(engine.url)


@task
@guarded
def up(c):
    """Start the dev PostgreSQL container (create it if absent) and wait until it accepts logins."""
    engine = _engine()
    with Spinner("waiting for PostgreSQL", console=report.err) as spinner:
        result = engine.up(on_wait=lambda s: spinner.update(f"waiting for PostgreSQL ({s:.0f}s)"))
    verb = {"running": "already running", "started": "started", "created": "created"}[result.action]
    report.say(f"{result.container} {verb}: {result.url} (port {result.port}, {result.seconds:.1f}s)")


@task(help={"volumes": "also delete the data volume (asks first)", "yes": "do not ask before deleting"})
@guarded
def down(c, volumes=False, yes=False):
    """Stop and remove the dev container; its data volume is kept unless --volumes."""
    engine = _engine()
    if volumes and not yes:
        _confirm(f"delete volume {engine.settings.volume_name} and every database in it?")
    removed = engine.down(volumes=volumes)
    report.say(f"removed {', '.join(removed)}" if removed else f"nothing to remove for {engine.settings.project}")


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise PgParityError(f"refusing to {question.rstrip('?')} without confirmation; pass --yes")
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise Exit("pgparity: cancelled; nothing deleted", code=1)


@task(help={"json": "print JSON instead of a table"})
@guarded
def status(c, json=False):
    """Show the dev container: image, server version, port, health, volume, database size."""
    state = _engine().status()
    if json:
        report.print_json(state)
        return
    report.table(
        f"environment {state.project}",
        ("", ""),
        [("container", state.container), ("image", state.image), ("state", state.state),
         ("server version", state.server_version), ("port", state.port), ("health", state.health),
         ("volume", state.volume), ("database size", state.database_size)],
    )


@task(help={"follow": "keep streaming new lines", "tail": "only the last N lines"})
@guarded
def logs(c, follow=False, tail=None):
    """Print the dev container's logs."""
    for chunk in _engine().logs(follow=follow, tail=int(tail) if tail else "all"):
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()


@task(help={"command": "run one SQL command and exit with psql's status"})
@guarded
def psql(c, command=None):
    """Open psql inside the dev container (no local PostgreSQL client needed)."""
    engine = _engine()
    argv = engine.psql_argv(command, interactive=sys.stdin.isatty() and command is None)
    code = subprocess.run(argv).returncode
    if code:
        raise Exit(code=code)


@task
@guarded
def lint(c):
    """Check the migrations directory: numbering, duplicates, psql-only commands, transaction safety."""
    settings = config.load()
    plan = _plan(settings)
    report.say(f"{len(plan.migrations)} migrations, {len(plan.findings)} findings, no errors")


def _render_applied(result, as_json: bool, verb: str) -> None:
    if as_json:
        report.print_json(result)
        return
    total = sum(t.ms for t in result.applied)
    slowest = ", ".join(f"{t.path} {t.ms} ms" for t in result.slowest) if result.applied else ""
    report.say(f"{verb}: {len(result.applied)} migrations applied to {result.database} in {result.seconds:.2f}s"
               + (f" ({total} ms in SQL); slowest: {slowest}" if result.applied else ""))


@task(help={"no_cache": "replay every migration even when a cached template matches",
            "json": "print the summary as JSON",
            "restore_backup": "swap the previous dev database (kept by the last sync) back in"})
@guarded
def sync(c, no_cache=False, json=False, restore_backup=False):
    """Rebuild the dev database from the migrations in a scratch database, then swap it in."""
    settings = config.load()
    engine = Engine(settings)
    with _running(engine) as server:
        syncer = Syncer(server, settings.database, settings.root, on_wait=report.warn)
        if restore_backup:
            terminated = syncer.restore_backup()
            report.say(f"restored the previous {settings.database}; the replaced one is now the backup"
                       + (f" ({terminated} sessions ended)" if terminated else ""))
            return
        plan = _plan(settings, quiet=json)
        version = server.conn.execute("SHOW server_version_num").fetchone()[0]
        key = cache_key(plan.migrations, [engine.spec.image, version, engine.mirror.initdb_args(), engine.mirror.server_args()])
        bar = None if json else report.MigrationBar()
        syncer.progress = bar or syncer.progress
        try:
            result = syncer.sync(plan, key, use_cache=not no_cache)
        finally:
            if bar:
                bar.close()
    if result.terminated and not json:
        report.warn(f"ended {result.terminated} sessions connected to {settings.database} before the swap")
    _render_applied(result, json, f"synced (cache {result.cache})")


@task(help={"json": "print the summary as JSON"})
@guarded
def migrate(c, json=False):
    """Apply only the pending migrations to the existing dev database, in place (keeps local data)."""
    settings = config.load()
    engine = Engine(settings)
    plan = _plan(settings, quiet=json)
    baseline = config.load_project_file(settings.config_file).migrations.baseline
    with _running(engine) as server:
        bar = None if json else report.MigrationBar()
        try:
            result = migrate_in_place(server, settings.database, plan, baseline, settings.root, bar)
        finally:
            if bar:
                bar.close()
    _render_applied(result, json, "migrated")


@task
@guarded
def repair(c):
    """Accept edited migration files: record their current checksums in the dev database's ledger."""
    settings = config.load()
    plan = _plan(settings)
    engine = Engine(settings)
    engine.up()
    with connect(engine.url) as conn:
        edited = [migration for _, migration in ledger.changed(ledger.read(conn), plan.migrations)]
        ledger.accept(conn, edited)
    for migration in edited:
        report.say(f"accepted {migration.path.name} (sha256 {migration.checksum[:12]})")
    if not edited:
        report.say("every applied migration matches its file; nothing to repair")


db = Collection("db", up, down, status, logs, psql, lint, sync, migrate, repair)
