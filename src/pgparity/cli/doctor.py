"""`db.doctor`: a checklist of everything pgparity relies on, each line with a fix hint."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from pgparity import config
from pgparity.container.engine import Engine, Mirror, connect_client
from pgparity.container.oneoff import version_of
from pgparity.errors import PgParityError, counted
from pgparity.migrations.discovery import discover
from pgparity.migrations.lintcache import LintCache
from pgparity.schema.model import Snapshot
from pgparity.schema.serialize import Head, load_snapshot
from pgparity.versions import release

OK, WARN, FAIL = "ok", "warn", "fail"
PROFILE_STALE_DAYS = 30
LOW_DISK_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Check:
    name: str
    state: str
    detail: str
    hint: str = ""


def run(root: Path | None = None) -> tuple[Check, ...]:
    """Every check, in the order a newcomer would fix them; later checks are skipped when they cannot run."""
    try:
        settings = config.load(root)
        project_file = config.load_project_file(settings.config_file)
    except PgParityError as error:
        return (Check("configuration", FAIL, str(error), "fix the named key; see .env.example"),)
    checks = [Check("configuration", OK, f"environment {settings.project}, port {settings.port}")]
    try:
        profile = load_snapshot(settings.profile) if settings.profile.is_file() else None
    except PgParityError as error:
        profile = None
        checks.append(Check("production profile", FAIL, str(error),
                            "capture it again with `invoke db.snapshot --from prod`"))
    else:
        checks.append(_profile(settings))
    checks += _docker_checks(settings, profile)
    checks += [_migrations(settings, project_file), _secrets(settings), _disk(settings)]
    return tuple(checks)


# Files that hold secrets or production's details: never to be committed.
PRIVATE = (".env.local",)


def _secrets(settings: config.Settings) -> Check:
    """The local secrets file and the CI report are git-ignored, so a `git add .` cannot publish them."""
    files = [settings.root / name for name in PRIVATE] + [settings.report_file]
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=settings.root, capture_output=True)
    if inside.returncode != 0:
        return Check("git-ignored files", OK, "not a git repository")
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *map(str, files)], cwd=settings.root,
                             capture_output=True, text=True).stdout.splitlines()
    exposed = [path.name for path in files if str(path) not in ignored]
    if exposed:
        return Check("git-ignored files", FAIL, f"{', '.join(exposed)} not ignored by git",
                     f"add {' and '.join(exposed)} to .gitignore: they hold secrets or production's details")
    return Check("git-ignored files", OK, ", ".join(path.name for path in files))


def _docker_checks(settings: config.Settings, profile: Snapshot | None) -> Iterator[Check]:
    try:
        client = connect_client()
    except PgParityError as error:
        yield Check("docker", FAIL, str(error), "start Docker, or set DOCKER_HOST / the docker context")
        return
    yield Check("docker", OK, f"engine {client.version().get('Version', '?')}")
    engine = Engine(settings, Mirror.from_profile(profile and Head.of(profile), settings), client)
    try:
        client.images.get(engine.spec.image)
        yield Check("image", OK, engine.spec.image)
        if profile is not None:
            yield _server_version(engine, profile)
    except docker.errors.ImageNotFound:
        yield Check("image", WARN, f"{engine.spec.image} is not present locally",
                    "db.up pulls it; without a registry, load it or set PGPARITY_IMAGE")
    yield _port(engine)


def _server_version(engine: Engine, profile: Snapshot) -> Check:
    """The image's PostgreSQL against production's: another major cannot mirror it."""
    image = engine.spec.image
    try:
        version = version_of(engine.client, image)
    except PgParityError as error:
        return Check("server version", FAIL, str(error), "set PGPARITY_IMAGE to a PostgreSQL image")
    mismatch = engine.mirror.version_mismatch(profile.server, version, image)
    if mismatch is not None:
        return Check("server version", FAIL, *mismatch)
    return Check("server version", OK, f"{image} runs PostgreSQL {release(version)}, production "
                                       f"{profile.server.release}")


def _port(engine: Engine) -> Check:
    port = engine.settings.port
    container = engine.find()
    if container is not None and container.status == "running":
        return Check("port", OK, f"{port} is used by this environment's container")
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return Check("port", FAIL, f"127.0.0.1:{port} is taken by another process",
                         "stop that process or set PGPARITY_PORT")
    return Check("port", OK, f"127.0.0.1:{port} is free")


def _profile(settings: config.Settings) -> Check:
    path = settings.profile
    if not path.is_file():
        return Check("production profile", WARN, f"{path} not found",
                     "capture it with `invoke db.snapshot --from prod` and commit it")
    days = (time.time() - path.stat().st_mtime) / 86400
    state = WARN if days > PROFILE_STALE_DAYS else OK
    return Check("production profile", state, f"{path.name} is {days:.0f} days old",
                 "refresh it with `invoke db.snapshot --from prod`" if state == WARN else "")


def _migrations(settings: config.Settings, project_file: config.ProjectFile) -> Check:
    try:
        plan = discover(settings.migrations, project_file.migrations, LintCache(settings.cache_folder))
    except PgParityError as error:
        return Check("migrations", FAIL, str(error), "set PGPARITY_MIGRATIONS to your migrations directory")
    warnings = [f for f in plan.findings if f.level == "warning"]
    if plan.errors:
        return Check("migrations", FAIL, f"{counted(len(plan.errors), 'lint error')}; first: {plan.errors[0]}",
                     "run `invoke db.lint` for the full list")
    detail = counted(len(plan.migrations), "migration") + (f", {counted(len(warnings), 'warning')}" if warnings else "")
    return Check("migrations", WARN if warnings else OK, detail, "run `invoke db.lint`" if warnings else "")


def _disk(settings: config.Settings) -> Check:
    free = shutil.disk_usage(settings.root).free
    state = WARN if free < LOW_DISK_BYTES else OK
    return Check("disk space", state, f"{free / 1024**3:.1f} GiB free",
                 "free some space: templates and backups are whole databases" if state == WARN else "")
