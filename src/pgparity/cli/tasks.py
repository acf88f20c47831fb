"""The `db` task collection: parse flags, call the library, render. Nothing else lives here."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from invoke import Collection, task
from invoke.exceptions import Exit

from pgparity import config
from pgparity.cli import report
from pgparity.cli.shell import ERROR_EXIT, guarded
from pgparity.config import severity
from pgparity.data import DEFAULT_JOBS
from pgparity.errors import PgParityError, counted, shown
from pgparity.folders import write_whole
from pgparity.lazy import later
from pgparity.migrations import formats
from pgparity.migrations.model import Version
from pgparity.migrations.naming import DESCRIPTION
from pgparity.workspace import Workspace

if TYPE_CHECKING:
    from pgparity.schema.model import Snapshot

# Each task imports only what its work touches: `db.lint` loads neither Docker's SDK nor psycopg, and a warm
# `db.sync` no Docker. The modules below are imported when a task first uses them (see pgparity.lazy).
hooks = later("pgparity.hook")
doctor_checks = later("pgparity.cli.doctor")
engines = later("pgparity.container.engine")
oneoff = later("pgparity.container.oneoff")
dumps = later("pgparity.data.dump")
sanitize = later("pgparity.data.sanitize")
surveys = later("pgparity.data.survey")
database = later("pgparity.database")
ledger = later("pgparity.migrations.ledger")
rollbacks = later("pgparity.migrations.rollback")
seeding = later("pgparity.migrations.seed")
conversion = later("pgparity.migrations.convert")
discovery = later("pgparity.migrations.discovery")
hazard_rules = later("pgparity.migrations.hazards")
syncing = later("pgparity.migrations.sync")
narrowing = later("pgparity.schema.fix.narrowing")
fix_plan = later("pgparity.schema.fix.plan")
fix_writing = later("pgparity.schema.fix.write")
serialize = later("pgparity.schema.serialize")
verification = later("pgparity.schema.verify")


def _workspace() -> Workspace:
    """The workspace, telling the person what it finds through the report."""
    return Workspace.load(report.findings, report.warn)


def _engine():
    return _workspace().engine


@task
@guarded
def up(c):
    """Start the dev PostgreSQL container (create it if absent) and wait until it accepts logins."""
    ws = _workspace()
    with report.spinner("waiting for PostgreSQL") as spinner:
        result = ws.engine.up(on_wait=lambda s: spinner.update(f"waiting for PostgreSQL ({s:.0f}s)"))
    for problem in ws.align_with_profile():
        report.warn(problem)
    verb = {"running": "already running", "started": "started", "created": "created",
            "recreated": "recreated with the new spec (data kept)"}[result.action]
    report.say(f"{result.container} {verb}: {result.url} (port {result.port}, {result.seconds:.1f}s)")


@task(help={"volumes": "also delete the data volume (asks first)", "yes": "do not ask before removing",
            "all": "every environment of yours on this Docker engine (listed, asks first), not just this one",
            "everyone": "with --all: other users' environments and those of unknown owner too"})
@guarded
def down(c, volumes=False, yes=False, all=False, everyone=False):
    """Stop and remove the dev container; its data volume is kept unless --volumes."""
    ws = _workspace()
    if everyone and not all:
        raise PgParityError("--everyone goes with --all")
    if all:
        _down_all(ws, volumes, yes, everyone)
    else:
        if volumes and not yes:
            _confirm(f"delete the data volume of {ws.settings.project} and every database in it?")
        _removed(ws.settings.project, ws.engine.down(volumes=volumes))
    for note in dumps.remove_leftovers(ws.settings.root / "dumps", ws.engine.client, ws.settings.project):
        report.say(note)


def _removed(project: str, removed: list[str]) -> None:
    report.say(f"removed {', '.join(removed)}" if removed else f"nothing to remove for {project}")


def _down_all(ws: Workspace, volumes: bool, yes: bool, everyone: bool) -> None:
    """List what `db.down --all` removes (yours alone unless `everyone`), ask, then remove it."""
    client = ws.engine.client
    servers, kept = engines.owned(engines.environments(client), everyone)
    clients, kept_clients = engines.owned(oneoff.dump_clients(client), everyone)
    if servers or clients:
        columns = ("Removes", "Environment", "Folder", "User", "State") + (("Volume",) if volumes else ())
        report.table("db.down --all", columns, [
            (what, s.project, s.folder or "-", s.user or UNKNOWN_OWNER, s.state) + ((s.volume,) if volumes else ())
            for what, states in (("container", servers), ("pg_dump client", clients)) for s in states])
    unknown = sum(1 for s in servers + clients + kept + kept_clients if s.user is None)
    if unknown:
        report.say(f"{UNKNOWN_OWNER}: made before pgparity recorded who creates a container")
    if kept or kept_clients:
        others = len(kept) + len(kept_clients) - unknown
        counts = [f"{others} of other users"] * bool(others) + [f"{unknown} of {UNKNOWN_OWNER}"] * bool(unknown)
        report.say(f"left alone: {', '.join(counts)}; --everyone includes them")
    if not servers and not clients:
        report.say("nothing to remove")
        return
    if not yes:
        volume_words = " and their data volumes (every database in them)" if volumes else ""
        _confirm(f"remove these {len(servers) + len(clients)} containers{volume_words}?", "nothing removed")
    for state in servers:
        engine = engines.Engine(replace(ws.settings, project=state.project), ws.engine.mirror, client)
        _removed(state.project, engine.down(volumes=volumes))
    for state in clients:
        oneoff.remove(client, state)
        report.say(f"removed pg_dump client {state.container}")


UNKNOWN_OWNER = "unknown owner"


def _confirm(question: str, untouched: str = "nothing deleted") -> None:
    if not sys.stdin.isatty():
        raise PgParityError(f"refusing to {question.rstrip('?')} without confirmation; pass --yes")
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise Exit(f"pgparity: cancelled; {untouched}", code=ERROR_EXIT)


@task(help={"json": "print JSON instead of a table", "all": "list every pgparity environment on this engine"})
@guarded
def status(c, json=False, all=False):
    """Show the dev container: image, server version, port, health, volume, database size."""
    engine = _engine()
    if all:
        states = engines.environments(engine.client)
        if json:
            report.print_json(states)
        else:
            report.table(None, ("Environment", "Container", "Image", "State", "Health", "Port", "Volume", "User",
                                "Folder"),
                         [(s.project, s.container, s.image, s.state, s.health, s.port, s.volume,
                           s.user or UNKNOWN_OWNER, s.folder or "-") for s in states])
        return
    state = engine.status()
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
    lines = _whole_number("--tail", tail, minimum=0)
    for chunk in _engine().logs(follow=follow, tail="all" if lines is None else lines):
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()


def _whole_number(flag: str, value: str | None, minimum: int) -> int | None:
    """A number flag, read here rather than typed for invoke, whose own conversion fails with a traceback
    under `invoke db.…`; here a bad value is one line naming the flag."""
    if value is None:
        return None
    if not str(value).strip().isdigit():
        raise PgParityError(f"{flag} must be a whole number, got {value!r}")
    if int(value) < minimum:
        raise PgParityError(f"{flag} must be at least {minimum}, got {value}")
    return int(value)


@task(help={"command": "run one SQL command and exit with psql's status"})
@guarded
def psql(c, command=None):
    """Open psql inside the dev container (no local PostgreSQL client needed)."""
    engine = _engine()
    argv = engine.psql_argv(command, interactive=sys.stdin.isatty() and command is None)
    code = subprocess.run(argv).returncode
    if code:
        raise Exit(code=code)


@task(help={"hazards": "also tell what the migrations pending in production will lock, rewrite and scan there, "
                       "sized from the profile",
            "fail_on": "with --hazards: fail (exit 2) on a hazard of this severity or above (low, medium, high; "
                       "default [hazards] fail_on, else never)",
            "json": "with --hazards: print them as JSON"})
@guarded
def lint(c, hazards=False, fail_on=None, json=False):
    """Check the migrations directory: numbering, duplicates, psql-only commands, transaction safety."""
    ws = _workspace()
    if not hazards:
        if fail_on is not None or json:
            raise PgParityError("--fail-on and --json go with --hazards")
        plan = ws.plan()
        report.say(f"{counted(len(plan.migrations), 'migration')}, {counted(len(plan.findings), 'finding')}, no errors")
        return
    limit = severity("--fail-on", fail_on) or ws.project_file.hazards.fail_on
    reviewed = ws.hazards(show=not json)
    if json:
        report.print_json([report.hazard_json(item) for item in reviewed])
    else:
        report.hazards(reviewed)
    hazard_rules.refuse(reviewed, limit)


def _render_applied(result, as_json: bool, verb: str) -> None:
    if as_json:
        report.print_json(result)
        return
    total = sum(t.ms for t in result.applied)
    slowest = ", ".join(f"{t.path} {t.ms} ms" for t in result.slowest) if result.applied else ""
    report.say(f"{verb}: {counted(len(result.applied), 'migration')} applied to {result.database} "
               f"in {result.seconds:.2f}s"
               + (f" ({total} ms in SQL); slowest: {slowest}" if result.applied else ""))


@task(help={"no_cache": "replay every migration even when a cached template matches",
            "json": "print the summary as JSON",
            "restore_backup": "swap the previous dev database (kept by the last sync) back in",
            "from_dump": "rebuild from this sanitized dump plus the migrations its ledger lacks"})
@guarded
def sync(c, no_cache=False, json=False, restore_backup=False, from_dump=None):
    """Rebuild the dev database from the migrations in a scratch database, then swap it in."""
    started = time.monotonic()
    ws = _workspace()
    database = ws.settings.database
    with ws.server() as server:
        if restore_backup:
            terminated = ws.syncer(server).restore_backup()
            report.say(f"restored the previous {database}; the replaced one is now the backup"
                       + (f" ({counted(terminated, 'session')} ended)" if terminated else ""))
            return
        plan = ws.plan(show=not json)
        seeds = [] if from_dump else ws.seeds()  # a dump brings its own rows
        with report.bar(report.MigrationBar, enabled=not json) as bar:
            syncer = ws.syncer(server, bar)
            if from_dump:
                result = _rebuild_from_dump(ws, syncer, plan, from_dump, json)
            else:
                result = syncer.sync(plan, ws.cache_key(server, plan.migrations), use_cache=not no_cache,
                                     seed=(lambda url: seeding.run(url, seeds)) if seeds else None)
    result = replace(result, seconds=time.monotonic() - started)  # all the work: settings, lint, server
    if result.terminated and not json:
        report.warn(f"ended {counted(result.terminated, 'session')} connected to {database} before the swap")
    _render_applied(result, json, f"synced (from {from_dump})" if from_dump else f"synced (cache {result.cache})")
    if seeds and not json:
        _say_seeded(ws, database, seeds)


def _say_seeded(ws: Workspace, database: str, seeds: list[Path]) -> None:
    report.say(f"seeded {database} from {shown(ws.settings.root / ws.project_file.seed)} "
               f"({counted(len(seeds), 'file')})")


@task
@guarded
def seed(c):
    """Run the seed files (`[seed] path` in pgparity.toml) on the dev database as it is; db.sync runs them too."""
    ws = _workspace()
    seeds = ws.seeds()
    if not seeds:
        raise PgParityError(f"{shown(ws.settings.config_file)}: no [seed] path; name a .sql file or a folder of them")
    with ws.server():
        seeding.run(ws.engine.url, seeds)
    _say_seeded(ws, ws.settings.database, seeds)


def _rebuild_from_dump(ws: Workspace, syncer, plan, path: str, json: bool):
    with report.bar(report.DumpBar, enabled=not json) as bar:
        return syncer.sync_from_dump(ws.settings.root / path, lambda restored: ws.position(plan, restored), bar)


@task(help={"json": "print the report as JSON",
            "jobs": f"worker processes (and production sessions) reading rows; default {DEFAULT_JOBS}",
            "init_rules": "write a rule for every flagged column without one into pgparity.toml, to review",
            "explain": "list every column flagged as PII, why, and its rule; dump nothing"})
@guarded
def dump(c, json=False, jobs=None, init_rules=False, explain=False):
    """Dump production's data read-only, masked by the sanitize rules on the way out, to dumps/."""
    jobs = _whole_number("--jobs", jobs, minimum=1) or DEFAULT_JOBS
    ws = _workspace()
    if not ws.settings.prod_url:
        raise PgParityError("PGPARITY_PROD_URL is not set; put the read-only production URL in .env.local")
    if init_rules:
        _init_rules(ws)
        return
    if explain:
        _explain(ws)
        return
    with report.bar(report.DumpBar, enabled=not json) as bar:
        result = dumps.dump(ws.settings.prod_url, image_of=ws.settings.image_of, rules=ws.sanitize_rules,
                            secret=sanitize.secret_key(ws.settings.sanitize_secret),
                            directory=ws.settings.root / "dumps",
                            environment=ws.settings.project, progress=bar, client=ws.engine.client, jobs=jobs,
                            production_ledger=ws.project_file.production.ledger)
    if json:
        report.print_json(result)
        return
    report.table_reports(result.tables)
    for note in result.notes:
        report.warn(note)
    report.say(f"wrote {shown(Path(result.path))} ({result.bytes / 1024**2:.1f} MiB, "
               f"{counted(len(result.tables), 'table')}, "
               f"{counted(result.ledger, 'ledger row')}) in {result.seconds:.1f}s")


def _explain(ws: Workspace) -> None:
    rules = ws.sanitize_rules
    flagged = surveys.survey(ws.settings.prod_url, rules, ruled=True)
    rows = [(str(column.name), column.type, sanitize.suggest(column, found)[1],
             str(rules.transform(column.name) or "none"))
            for column, found in flagged]
    report.table("columns flagged as PII", ("Column", "Type", "Flagged by", "Rule"), rows)
    missing = sum(1 for row in rows if row[3] == "none")
    report.say(f"{counted(len(rows), 'flagged column')}, {missing} without a rule"
               + ("; `invoke db.dump --init-rules` writes suggestions" if missing else ""))


def _init_rules(ws: Workspace) -> None:
    flagged = surveys.survey(ws.settings.prod_url, ws.sanitize_rules)
    suggested = [(column, *sanitize.suggest(column, found)) for column, found in flagged]
    config.add_sanitize_rules(ws.settings.config_file, [(str(column.name), str(transform), why)
                                                        for column, transform, why in suggested])
    for column, transform, why in suggested:
        report.say(f"{column.name} = {transform}  ({why})")
    report.say(f"wrote {counted(len(suggested), 'rule')} to {shown(ws.settings.config_file)}; "
               "review each before `invoke db.dump`"
               if suggested else "every flagged column has a rule already; nothing written")


@task(help={"file": "the sanitized dump to restore (dumps/<environment>-<time>.sanitized.zip)",
            "json": "print the summary as JSON"})
@guarded
def restore(c, file, json=False):
    """Restore a sanitized dump into the dev database (atomically), then apply the migrations it lacks."""
    sync(c, json=json, from_dump=file)


@task(help={"json": "print the summary as JSON"})
@guarded
def migrate(c, json=False):
    """Apply only the pending migrations to the existing dev database, in place (keeps local data)."""
    ws = _workspace()
    plan = ws.plan(show=not json)
    with ws.server() as server, report.bar(report.MigrationBar, enabled=not json) as bar:
        result = syncing.migrate(server, ws.settings.database, plan, ws.project_file.migrations.baseline, bar,
                                  report.warn)
    _render_applied(result, json, "migrated")


@task(help={"steps": "how many of the last applied migrations to undo, newest first (default 1)"})
@guarded
def rollback(c, steps=None):
    """Undo the last applied migrations on the dev database with their rollback files (.down.sql)."""
    count = _whole_number("--steps", steps, minimum=1) or 1
    ws = _workspace()
    plan = ws.plan()
    with ws.server() as server:
        undone = rollbacks.rollback(server, ws.settings.database, plan, ws.project_file.migrations.baseline, count)
    for item in undone:
        report.say(f"rolled back {item.migration.path.name} with {shown(item.rollback)}")
    report.say(f"{len(undone)} migration(s) rolled back in {ws.settings.database}; they are pending again "
               "(`invoke db.migrate` applies them)")


def _description(flag: str, name: str) -> str:
    """A new migration's description, refused unless it can be a file name's part on its own."""
    if not DESCRIPTION.fullmatch(name):
        raise PgParityError(f"{flag} must be letters, digits, '_' or '-' (the file is NNN_<name>.sql), not {name!r}")
    return name


@task(help={"name": "what the migration does, as the file name's part: add_users_email"})
@guarded
def new(c, name):
    """Write the next migration in the project's layout (and its rollback, when the project keeps them) to fill in."""
    description = _description("NAME", name)
    ws = _workspace()
    directory = ws.settings.migrations
    directory.mkdir(parents=True, exist_ok=True)
    fmt, files = discovery.layout(directory, ws.project_file.migrations)
    down = f"-- Undoes {description}.\n" if any(f.kind == "rollback" for f in files) else None
    created = formats.write(fmt.new(directory, files, description, f"-- {description}: this migration's SQL.\n", down))
    report.say(f"wrote {' and '.join(shown(path) for path in reversed(created))}")


@task(help={"to": f"the layout to write: {', '.join(formats.NAMES)}",
            "into": "a new folder for the copy (default: the migrations folder's name and the layout, beside it)"})
@guarded
def convert(c, to, into=None):
    """Write a copy of the migrations in another layout, for a team leaving a tool; the folder stays as it is."""
    ws = _workspace()
    target = formats.named(to, "--to")
    plan = ws.plan(show=False)
    plan.raise_for_errors()
    folder = Path(into) if into else ws.settings.migrations.with_name(f"{ws.settings.migrations.name}-{target.name}")
    result = conversion.convert(plan, target, folder if folder.is_absolute() else ws.settings.root / folder)
    for note in result.notes:
        report.warn(note)
    report.say(f"wrote {counted(len(plan.migrations), 'migration')} in {target.name}'s layout to {shown(folder)}/ "
               f"({counted(len(result.written), 'file')}); {shown(plan.directory)}/ is unchanged")


@task
@guarded
def repair(c):
    """Accept edited, renamed and deleted applied migrations in the dev database's ledger."""
    ws = _workspace()
    plan = ws.plan()
    ws.engine.up()
    with ws.watched(), database.connect(ws.engine.url) as conn:
        applied = ledger.read(conn)
        moved = ledger.unresolved(applied, plan, ws.project_file.migrations.baseline)
        ledger.resolve(conn, moved)
        edited = [migration for _, migration in ledger.changed(ledger.read(conn), plan.migrations)]
        ledger.accept(conn, edited)
    for problem in moved:
        report.say(f"accepted the removal of {problem.recorded} from the ledger" if problem.file is None else
                   f"accepted {problem.recorded} renamed to {problem.file.path.name}")
    for migration in edited:
        report.say(f"accepted {migration.path.name} (sha256 {migration.checksum[:12]})")
    if not edited and not moved:
        report.say("every applied migration matches its file; nothing to repair")


@task(name="snapshot", help={"from": "prod (PGPARITY_PROD_URL, read-only), dev, profile, migrations, a "
                                     "postgresql:// URL or a snapshot file",
                             "output": "file to write (default, and only for --from prod: the production "
                                       "profile, PGPARITY_PROFILE)"})
@guarded
def snapshot_(c, from_="prod", output=None):
    """Capture a schema profile (schema, settings, version, extensions, roles, ledger; no data) to a file."""
    ws = _workspace()
    _check_endpoint(ws, "--from", from_)
    path = ws.settings.root / output if output else ws.settings.profile
    if from_ != "prod" and path.resolve() == ws.settings.profile.resolve():
        raise PgParityError(f"only --from prod writes the production profile ({shown(ws.settings.profile)}); "
                            f"give --from {from_} an --output file")
    snapshot = _resolve(ws, from_)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, serialize.dump_snapshot(snapshot))
    report.say(f"wrote {shown(path)} ({counted(len(snapshot.tables), 'table')}, PostgreSQL {snapshot.server.release})")
    if from_ == "prod" and ws.settings.migrations.is_dir():
        report.position(ws.position(ws.plan(show=False), snapshot))


ENDPOINTS = ("dev", "migrations", "profile", "prod")


def _check_endpoint(ws: Workspace, flag: str, endpoint: str) -> None:
    """Refuse a side that names nothing before any side is read (reading `dev` starts the container)."""
    if endpoint in ENDPOINTS or endpoint.startswith(("postgresql://", "postgres://")):
        return
    path = ws.settings.root / endpoint
    if not path.exists():
        raise PgParityError(f"{flag} takes {', '.join(ENDPOINTS)}, a postgresql:// URL or a snapshot file; "
                            f"{endpoint!r} is none of them (no file {shown(path)})")


def _resolve(ws: Workspace, endpoint: str) -> Snapshot:
    """A snapshot from `prod` (live, read-only), `profile`, `dev`, `migrations`, a URL or a snapshot file."""
    if endpoint == "prod":
        if not ws.settings.prod_url:
            raise PgParityError("PGPARITY_PROD_URL is not set; put the read-only production URL in .env.local")
        return ws.inspect_production(ws.settings.prod_url)
    if endpoint == "profile":
        return ws.require_profile()
    if endpoint == "dev":
        ws.engine.up()
        with ws.watched():
            return ws.inspect_url(ws.engine.url)
    if endpoint == "migrations":
        return ws.expected()
    if endpoint.startswith(("postgresql://", "postgres://")):
        return ws.inspect_url(endpoint, read_only=True)
    return serialize.load_snapshot(ws.settings.root / endpoint)


FORMAT_HELP = f"how to print the verdict: {', '.join(report.VERDICT_FORMATS)} (default table)"
REPORT_HELP = "also write the JSON report to this file (in CI, and with PGPARITY_REPORT set, it is written anyway)"


@task(help={"source": "dev, migrations, profile, prod, a postgresql:// URL or a snapshot file",
            "target": "the same choices; the side a fix would bring the source to",
            "json": "print JSON (--format json)",
            "format": FORMAT_HELP, "report": REPORT_HELP})
@guarded
def diff(c, source="dev", target="profile", json=False, format=None, report_=None):
    """Compare any two schemas object by object; exit 1 when they differ.

    The migrations compared with production (`profile` or `prod`) are those it applied; the rest are listed
    as pending, as verify lists them.
    """
    shape = _format(format, json)
    ws = _workspace()
    _check_endpoint(ws, "--source", source)
    _check_endpoint(ws, "--target", target)
    ends = (source, target)
    production = next((end for end in ends if end in PRODUCTION_ENDS), None)
    if "migrations" in ends and production:
        snapshot = _resolve(ws, production)
        position = ws.position(ws.plan(), snapshot)
        built = ws.expected(position.applied)
        sides = (built, snapshot) if source == "migrations" else (snapshot, built)
        result = verification.diff_verdict(*sides, ws.project_file.ignore, position, ws.project_file.owners)
    else:
        result = verification.diff_verdict(_resolve(ws, source), _resolve(ws, target), ws.project_file.ignore,
                              owners=ws.project_file.owners)
    _render_verdict(ws, result, shape, report_)


PRODUCTION_ENDS = ("profile", "prod")


@task(help={"json": "print the report as JSON (--format json)", "format": FORMAT_HELP, "report": REPORT_HELP,
            "fail_on_pending": "exit 1 also when migrations are pending in production (they are not drift)",
            "revision": "check the migrations of this commit (the pre-push hook passes the pushed one)"})
@guarded
def verify(c, json=False, fail_on_pending=False, revision=None, format=None, report_=None):
    """The pre-push check: lint, dev vs migrations, production profile vs what it applied; exit 1 on drift."""
    shape = _format(format, json)
    ws = _workspace()
    result = ws.verify(show=shape == "table", revision=revision)
    _render_verdict(ws, result, shape, report_, fail_on_pending and bool(result.pending_in_production))


@task(help={"target": "prod (the production profile, default) or dev (codify hand edits in the dev database)",
            "allow_destructive": "write destructive statements live instead of commented out",
            "force": "write the fix even though counted rows would make it fail",
            "name": "the migration's description (default: fix_production_drift or fix_local_drift)",
            "apply": "apply the fix to the dev database afterwards (default for --target prod)"})
@guarded
def fix(c, target="prod", allow_destructive=False, force=False, name=None, apply=True):
    """Write the next numbered migration (and its .down.sql) that brings the migrations to the target."""
    if target not in ("prod", "dev"):
        raise PgParityError(f"--target must be prod or dev, not {target!r}")
    if name is not None:
        _description("--name", name)
    ws = _workspace()
    expected, goal, changes = ws.drift_to(target)
    plan = fix_plan.plan_fix(changes, expected, goal, report.FIX_WORDS[target], ws.project_file.owners)
    with ws.watched(), database.connect(ws.engine.url) as conn:
        checks = narrowing.check_narrowing(conn, plan)
    if target == "prod" and apply and not plan.fixes:
        # An earlier db.fix killed between writing its file and applying it: the migrations match, dev lags.
        result = _apply_pending(ws)
        if result.applied:
            report.say(f"the migrations already match production; applied {len(result.applied)} pending "
                       f"migrations to {result.database} ({', '.join(t.path for t in result.applied)})")
            return
    default = "fix_production_drift" if target == "prod" else "fix_local_drift"
    written = fix_writing.write_fix(ws.settings.migrations, plan, checks, allow_destructive=allow_destructive,
                        force=force, name=name or default, in_production=target == "prod",
                        policy=ws.project_file.migrations, context=ws.fix_context(expected))
    rest = "".join(f" and {shown(path)}" for path in written[1:])
    report.say(f"wrote {shown(written[0])} ({counted(len(plan.fixes), 'change')}){rest}")
    for rename in plan.renames:
        report.warn(f"possible rename, not applied: {rename.statement}")
    if target == "prod" and apply:
        result = _apply_pending(ws)
        report.say(f"applied {counted(len(result.applied), 'migration')} to {result.database}")
    elif target == "dev":
        report.say("the dev database already has these changes; `invoke db.sync` rebuilds it with the new file")


def _apply_pending(ws: Workspace):
    with ws.server() as server:
        return syncing.migrate(server, ws.settings.database, ws.plan(show=False), ws.project_file.migrations.baseline,
                                notify=report.warn)


@task(help={"version": "the last migration production has applied (its number, e.g. 006)",
            "yes": "do not ask before writing pgparity.toml"})
@guarded
def stamp(c, version, yes=False):
    """Record in pgparity.toml how far production has come, for a production that keeps no ledger."""
    ws = _workspace()
    plan = ws.plan(show=False)
    wanted = config.parse_version(str(ws.settings.config_file), version)
    matching = [m for m in plan.migrations if not m.repeatable and m.version == Version.of(wanted)]
    if not matching:
        raise PgParityError(f"no migration in {shown(plan.directory)}/ has version {version}")
    question = (f"record in {shown(ws.settings.config_file)} that production has applied every migration through "
                f"{matching[-1].path.name}?")
    if not yes:
        _confirm(question, "nothing written")
    config.stamp_production(ws.settings.config_file, version)
    report.say(f"wrote [production] applied_through = \"{version}\" to {shown(ws.settings.config_file)}")


@task(help={"install": "write .git/hooks/pre-push running db.verify", "uninstall": "remove that hook",
            "force": "replace a pre-push hook pgparity did not write"})
@guarded
def hook(c, install=False, uninstall=False, force=False):
    """Install (or remove) a git pre-push hook that runs db.verify and blocks a push on drift."""
    root = _workspace().settings.root
    if install == uninstall:
        raise PgParityError("pass exactly one of --install or --uninstall")
    if install:
        report.say(f"installed {hooks.install(root, force)}")
    else:
        removed = hooks.uninstall(root)
        report.say(f"removed {removed}" if removed else "no pre-push hook to remove")


@task
@guarded
def doctor(c):
    """Check Docker, the image, the port, the profile, the migrations, the configuration and disk space."""
    checks = doctor_checks.run()
    report.checklist(checks)
    if any(check.state == "fail" for check in checks):
        raise Exit(code=ERROR_EXIT)  # a failed check is an error to fix; 1 means drift


def _format(chosen: str | None, json: bool) -> str:
    """The verdict's format from --format, or --json (its alias for json); checked before any work."""
    if json and chosen not in (None, "json"):
        raise PgParityError(f"--json is --format json: pass one of them, not --json with --format {chosen}")
    shape = "json" if json else chosen or "table"
    if shape not in report.VERDICT_FORMATS:
        raise PgParityError(f"--format takes {', '.join(report.VERDICT_FORMATS)}, not {shape!r}")
    return shape


def _write_report(path: Path, origin: str, text: str) -> None:
    """The JSON report, whole or not at all (a reader never sees half of it); `origin` names who asked for it."""
    try:
        write_whole(path, text)
    except OSError as error:
        raise PgParityError(f"{origin}: cannot write the JSON report to {shown(path)} ({error.strerror})") from None


def _append_summary(path: Path, text: str) -> None:
    """GitHub's job summary: each step appends its Markdown to the file GITHUB_STEP_SUMMARY names."""
    try:
        with path.open("a", encoding="utf-8") as summary:
            summary.write(text)
    except OSError as error:
        raise PgParityError(f"GITHUB_STEP_SUMMARY: cannot append the report to {shown(path)} "
                            f"({error.strerror})") from None


def _render_verdict(ws: Workspace, result, shape: str, report_to: str | None, fail: bool = False) -> None:
    """The verdict in its format; the JSON report file when asked (--report, PGPARITY_REPORT) or in CI, never
    otherwise (a hook's run or `| less` leaves no file behind); in CI mode the job summary's Markdown too."""
    if report_to or ws.settings.report_named or report.in_ci():
        path, origin = (ws.settings.root / report_to, "--report") if report_to else (ws.settings.report_file,
                                                                                    "PGPARITY_REPORT")
        _write_report(path, origin, report.as_json(report.verdict_json(result)) + "\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and report.ci_mode():
        _append_summary(Path(summary), report.markdown(result))
    report.VERDICT_FORMATS[shape](result)
    if result.failed or fail:
        raise Exit(code=1)


db = Collection("db", up, down, status, logs, psql, lint, sync, migrate, convert, repair, snapshot_, diff, verify, fix, hook,
                doctor, dump, restore, stamp, new, rollback, seed)
