"""The dev container's lifecycle through the Docker API: create, start, wait until ready, stop, remove."""

from __future__ import annotations

import getpass
import hashlib
import ipaddress
import json
import os
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pgparity.config import Settings, mask_url
from pgparity.container import compose
from pgparity.errors import ContainerConflict, ContainerUnhealthy, DockerError, ImageMissing, PortInUse, shown
from pgparity.folders import own_folder, write_whole
from pgparity.lazy import docker, psycopg
from pgparity.versions import major, release

if TYPE_CHECKING:
    from docker.models.containers import Container

    from pgparity.schema.model import ServerVersion, Snapshot
    from pgparity.schema.serialize import Head

LABEL_PROJECT = "pgparity.project"
LABEL_SPEC = "pgparity.spec-hash"
LABEL_USER = "pgparity.user"  # who created the container or volume
LABEL_FOLDER = "pgparity.folder"  # the project folder it serves
POLL_SECONDS = 0.1
LOG_LINES = 15
NOT_DURABLE = ("fsync", "synchronous_commit", "full_page_writes")
# What the server says, in its own words, when a state will not pass by waiting.
REFUSED_PASSWORD = "password authentication failed"
INCOMPATIBLE_DATA = "database files are incompatible with server"
KNOWN = "server.json"  # in the cache folder: the server the last `up` made ready, reached next time without Docker
MIRRORED = ("TimeZone", "DateStyle", "default_text_search_config", "standard_conforming_strings")


@dataclass(frozen=True)
class Mirror:
    """What makes the container mirror production: the image of its major (unless pinned), and the
    settings given at initdb and start."""

    image: str
    encoding: str
    locale: str
    settings: tuple[tuple[str, str], ...]
    production_image: str | None = None  # the image of production's major, when a profile says it

    @classmethod
    def from_profile(cls, head: Head | None, settings: Settings) -> Mirror:
        """Production's major and settings when a profile was captured (its `head`), else the
        IMAGE/ENCODING/LOCALE/TIMEZONE settings."""
        if head is None:
            return cls(settings.dev_image(None), settings.encoding, settings.locale,
                       (("timezone", settings.timezone),))
        found = head.settings
        server = tuple((name, found[name.lower()]) for name in MIRRORED if name.lower() in found)
        return cls(settings.dev_image(head.major), found.get("server_encoding", settings.encoding),
                   found.get("lc_collate", settings.locale), server, settings.image_of(head.major))

    def initdb_args(self) -> str:
        return shlex.join([f"--encoding={self.encoding}", f"--locale={self.locale}"])

    def server_args(self) -> str:
        return shlex.join([arg for name, value in self.settings for arg in ("-c", f"{name}={value}")])

    def version_mismatch(self, production: ServerVersion, dev_version_num: int, image: str) -> tuple[str, str] | None:
        """When dev runs another major than production: the fact in one sentence, and what to do about it."""
        if major(dev_version_num) == production.major:
            return None
        fact = f"production runs PostgreSQL {production.release}, dev runs {release(dev_version_num)} ({image})"
        if self.image != self.production_image:
            return fact, (f"unset PGPARITY_IMAGE so that db.up runs {self.production_image}, or pin an image of "
                          f"PostgreSQL {production.major}")
        return fact, (f"{image} is not PostgreSQL {production.major}: check PGPARITY_IMAGE_REPOSITORY and the image "
                      "the compose file names")

    def mismatches(self, conn: psycopg.Connection, profile: Snapshot, image: str) -> list[str]:
        """What the running server cannot mirror of the profile: its major version, the volume's encoding and
        locale (fixed when it was initialised), extensions the image lacks."""
        problems = []
        if version := self.version_mismatch(profile.server, conn.info.server_version, image):
            problems.append("; ".join(version))
        encoding, collate = conn.execute(
            "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        if (encoding, collate) != (self.encoding, self.locale):
            problems.append(
                f"the data volume was initialised with {encoding}/{collate} but production uses "
                f"{self.encoding}/{self.locale}; `invoke db.down --volumes` then `invoke db.up` re-initialises it")
        available = {name for (name,) in conn.execute("SELECT name FROM pg_available_extensions")}
        return problems + [f"extension {e.name} {e.version} is used in production but not available in {image}"
                           for e in profile.extensions if e.name not in available]


@dataclass(frozen=True)
class UpResult:
    """What `up` did: `running` (nothing to do), `started` (was stopped), `created` or `recreated` (spec changed)."""

    action: str
    container: str
    url: str
    port: int
    seconds: float


@dataclass(frozen=True)
class Status:
    """One environment's container, as `db.status` shows it."""

    project: str
    container: str
    image: str
    state: str
    health: str
    port: int | None
    volume: str
    server_version: str | None
    database_size: str | None
    user: str | None = None  # None: created before pgparity recorded who creates a container
    folder: str | None = None


def current_user() -> str:
    """Who is creating a container, as its labels record it: the login name, else the numeric user id."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid-{os.getuid()}"


def owner_labels(folder: Path | None = None) -> dict[str, str]:
    """The labels saying whose a container (or volume) is, and which project folder it serves."""
    return {LABEL_USER: current_user(), **({LABEL_FOLDER: str(folder)} if folder else {})}


def owned(states: list[Status], everyone: bool) -> tuple[list[Status], list[Status]]:
    """`states` split into those to act on (this user's, or every one) and those left alone."""
    user = current_user()
    chosen = [state for state in states if everyone or state.user == user]
    return chosen, [state for state in states if state not in chosen]


def cluster(conn: psycopg.Connection) -> str:
    """The server's cluster, told apart from any other by the identifier initdb gave it."""
    return str(conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0])


def connect_client() -> docker.DockerClient:
    """A client for DOCKER_HOST, else the current Docker context (DOCKER_CONTEXT or the CLI's), else the socket."""
    name = os.environ.get("DOCKER_CONTEXT")
    if name and not os.environ.get("DOCKER_HOST") and docker.context.ContextAPI.get_context(name) is None:
        raise DockerError(f"DOCKER_CONTEXT names {name!r}, which is not a Docker context (see `docker context ls`)")
    try:
        return docker.from_env()
    except docker.errors.DockerException as error:
        raise DockerError(f"cannot reach the Docker engine at {engine_description()}: {error}") from None


def engine_description() -> str:
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    context = docker.context.ContextAPI.get_context(os.environ.get("DOCKER_CONTEXT"))
    if context is not None and context.name != "default":
        return f"{context.Host} (docker context {context.name})"
    return "the default socket"


def published_host(client: docker.DockerClient, bound: str = "127.0.0.1") -> str:
    """Where a port published on the address `bound` is reached, as a URL's host: a remote engine's host name,
    else that address itself (0.0.0.0 when it is every interface, which reaches this machine too)."""
    for url in (os.environ.get("DOCKER_HOST", ""), client.api.base_url):
        if url.startswith(("tcp://", "ssh://", "http://", "https://")):
            return urlsplit(url).hostname or "127.0.0.1"
    return f"[{bound}]" if ipaddress.ip_address(bound).version == 6 else bound


def tail(container: Container, lines: int = LOG_LINES) -> str:
    """The container's last log lines on one line: the evidence an error about it carries."""
    text = container.logs(tail=lines).decode("utf-8", errors="replace").strip()
    return " | ".join(line for line in text.splitlines() if line.strip()) or "(no output)"


def discard(container: Container) -> None:
    """Remove a container whatever its state, with the image's anonymous data volume."""
    container.remove(force=True, v=True)


def health_of(container: Container) -> str | None:
    """The healthcheck's verdict (starting, healthy, unhealthy), or None without a healthcheck."""
    return container.attrs["State"].get("Health", {}).get("Status")


def labelled(client: docker.DockerClient, label: str) -> list[Status]:
    """Every container on this Docker engine carrying `label`, whoever made it, named by the label's value."""
    found = []
    for container in client.containers.list(all=True, filters={"label": label}):
        binding = (container.attrs["HostConfig"].get("PortBindings") or {}).get("5432/tcp") or [{}]
        mounts = [m.get("Name") for m in container.attrs.get("Mounts", []) if m.get("Type") == "volume"]
        found.append(Status(
            container.labels[label], container.name, container.attrs["Config"]["Image"], container.status,
            health_of(container) or "-",
            int(binding[0]["HostPort"]) if binding[0].get("HostPort") else None,
            mounts[0] if mounts else "-", None, None,
            container.labels.get(LABEL_USER), container.labels.get(LABEL_FOLDER),
        ))
    return sorted(found, key=lambda status: (status.project, status.container))


def environments(client: docker.DockerClient) -> list[Status]:
    """Every pgparity environment on this Docker engine, by label (other worktrees, projects and users too)."""
    return labelled(client, LABEL_PROJECT)


class Engine:
    """One environment's dev container, described by the compose file and labelled with the project."""

    def __init__(self, settings: Settings, mirror: Mirror | None = None, client: docker.DockerClient | None = None,
                 warn: Callable[[str], None] | None = None):
        self.settings = settings
        self.mirror = mirror or Mirror.from_profile(None, settings)
        if client is not None:
            self.client = client
        self.spec = compose.load_service(settings.compose_file, self.variables(), settings.allow_public_port)
        self.warn = warn or (lambda message: None)

    @cached_property
    def client(self) -> docker.DockerClient:
        """The engine's client, made (and the Docker SDK imported) only when the container must be seen."""
        return connect_client()

    @cached_property
    def host(self) -> str:
        return published_host(self.client, self.spec.server.host_ip)

    def variables(self) -> dict[str, str]:
        s = self.settings
        return {
            "PGPARITY_IMAGE": self.mirror.image,
            "PGPARITY_USER": s.user,
            "PGPARITY_PASSWORD": s.password,
            "PGPARITY_DATABASE": s.database,
            "PGPARITY_PORT": str(s.port),
            "PGPARITY_INITDB_ARGS": self.mirror.initdb_args(),
            "PGPARITY_SERVER_ARGS": " ".join(filter(None, [self.mirror.server_args(), self.speed_args()])),
        }

    def speed_args(self) -> str:
        """Unless PGPARITY_DURABLE: a dev server that never waits for the disk (a host crash can lose it)."""
        return "" if self.settings.durable else shlex.join(arg for name in NOT_DURABLE for arg in ("-c", f"{name}=off"))

    @property
    def url(self) -> str:
        return self.settings.url(host=self.host)

    def labels(self) -> dict[str, str]:
        spec_hash = hashlib.sha256(json.dumps(asdict(self.spec), sort_keys=True).encode()).hexdigest()[:16]
        return {
            LABEL_PROJECT: self.settings.project,
            LABEL_SPEC: spec_hash,
            "com.docker.compose.project": self.settings.project,
            "com.docker.compose.service": compose.SERVICE,
            "com.docker.compose.oneoff": "False",
            "com.docker.compose.container-number": "1",
            "com.docker.compose.project.config_files": str(self.settings.compose_file),
            "com.docker.compose.project.working_dir": str(self.settings.compose_file.parent),
            **owner_labels(self.settings.root),
        }

    def remember(self) -> None:
        """Note the server `up` made ready (its spec, host, engine and cluster), so that the next command reaches
        it straight on its port; a changed spec, engine or cluster sends that command through Docker again."""
        with psycopg.connect(self.url, connect_timeout=5) as conn:
            record = {**self._identity(), "cluster": cluster(conn)}
        own_folder(self.settings.cache_folder, "pgparity's cache")
        write_whole(self.settings.cache_folder / KNOWN, json.dumps(record))

    def recalled(self) -> tuple[str, str] | None:
        """The URL and cluster identifier of the server the last `up` made ready, if this spec and engine are
        those it was made for; None when Docker must be asked."""
        try:
            record = json.loads((self.settings.cache_folder / KNOWN).read_text(encoding="utf-8"))
            identity = {key: record[key] for key in ("spec", "engine", "host")}
            known = record["cluster"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if identity != self._identity(host=identity["host"]):
            return None
        self.host = identity["host"]  # what Docker said for this spec and engine; no need to ask again
        return self.url, known

    def forget(self) -> None:
        (self.settings.cache_folder / KNOWN).unlink(missing_ok=True)

    def _identity(self, host: str | None = None) -> dict[str, str]:
        engine = " ".join(os.environ.get(name, "") for name in ("DOCKER_HOST", "DOCKER_CONTEXT"))
        return {"spec": self.labels()[LABEL_SPEC], "engine": engine, "host": host or self.host}

    def find(self) -> Container | None:
        """Our container, or None; a foreign container holding our name is a conflict."""
        try:
            container = self.client.containers.get(self.settings.container_name)
        except docker.errors.NotFound:
            return None
        if container.labels.get(LABEL_PROJECT) != self.settings.project:
            raise ContainerConflict(
                f"a container named {self.settings.container_name} exists but was not created by pgparity; "
                "remove it or set PGPARITY_PROJECT to another name"
            )
        return container

    def up(self, on_wait: Callable[[float], None] | None = None) -> UpResult:
        """Make the server ready: nothing if running, start if stopped, create if absent."""
        started = time.monotonic()
        self._warn_public()
        container = self.find()
        recreate = container is not None and container.labels.get(LABEL_SPEC) != self.labels()[LABEL_SPEC]
        if container is None or recreate:  # before the old container goes: a missing image leaves it running
            self._ensure_image()
            self._ensure_volumes()
        if recreate:  # the compose file, settings or production profile changed; the volume keeps the data
            container.stop(timeout=10)
            container.remove(v=True)
            container = None
        if container is not None and container.status == "running":
            action = "running"
        elif container is not None:
            action = "started"
            self._start(container, created=False)
        else:
            action = "recreated" if recreate else "created"
            container = self._create()
            self._start(container, created=True)
        self.wait_ready(container, on_wait)
        self.remember()
        return UpResult(action, container.name, mask_url(self.url), self.settings.port, time.monotonic() - started)

    def _ensure_image(self) -> None:
        try:
            self.client.images.get(self.spec.image)
        except docker.errors.ImageNotFound:
            try:
                self.client.images.pull(self.spec.image)
            except docker.errors.APIError as error:
                raise ImageMissing(
                    f"image {self.spec.image} is not present and could not be pulled ({error.explanation}); "
                    "load or build it, or set PGPARITY_IMAGE to an image you have"
                ) from None

    def _warn_public(self) -> None:
        for port in self.spec.ports:
            if not port.loopback:
                self.warn(f"{shown(self.settings.compose_file)}: port {port.host_port or '(any)'} is published on "
                          f"{port.host_ip} (PGPARITY_ALLOW_PUBLIC_PORT=true): every network this machine is on "
                          "can reach the dev server and try its password")

    def volume_name(self, mount: compose.Mount) -> str:
        """The Docker volume of a named volume: the data volume's is the settings', others `<project>_<name>`."""
        own = mount.source == self.spec.volume
        return self.settings.volume_name if own else f"{self.settings.project}_{mount.source}"

    def volume_names(self) -> list[str]:
        """Every named volume the compose file gives the container, the data volume first."""
        return [self.volume_name(mount) for mount in self.spec.mounts if mount.kind == "volume"]

    def _create(self) -> Container:
        spec = self.spec
        ports: dict[str, list[tuple[str, int | None]]] = {}
        for port in spec.ports:
            ports.setdefault(f"{port.container_port}/{port.protocol}", []).append((port.host_ip, port.host_port))
        restart = {"Name": spec.restart[0], "MaximumRetryCount": spec.restart[1]} if spec.restart else None
        return self.client.containers.create(
            spec.image,
            name=self.settings.container_name,
            command=list(spec.command),
            environment=dict(spec.environment),
            ports=ports,
            volumes=[f"{self.volume_name(mount) if mount.kind == 'volume' else mount.source}:{mount.target}:"
                     f"{'ro' if mount.read_only else 'rw'}" for mount in spec.mounts],
            healthcheck=dict(spec.healthcheck) or None,
            shm_size=spec.shm_size,
            labels={**dict(spec.labels), **self.labels()},
            user=spec.user,
            tmpfs=dict(spec.tmpfs),
            ulimits=[docker.types.Ulimit(name=name, soft=soft, hard=hard) for name, soft, hard in spec.ulimits],
            restart_policy=restart,
        )

    def _ensure_volumes(self) -> None:
        for mount in (mount for mount in self.spec.mounts if mount.kind == "volume"):
            name = self.volume_name(mount)
            try:
                self.client.volumes.get(name)
            except docker.errors.NotFound:
                self.client.volumes.create(name, labels={
                    LABEL_PROJECT: self.settings.project,
                    "com.docker.compose.project": self.settings.project,
                    "com.docker.compose.volume": mount.source,
                    **owner_labels(self.settings.root),
                })

    def _start(self, container: Container, created: bool) -> None:
        try:
            container.start()
        except docker.errors.APIError as error:
            message = str(error.explanation or error)
            if created:
                discard(container)
            if "address already in use" in message or "port is already allocated" in message:
                raise PortInUse(
                    f"port {self.settings.port} on {self.spec.server.host_ip} is taken by another process; "
                    "stop it or set PGPARITY_PORT to a free port"
                ) from None
            raise DockerError(f"cannot start {container.name}: {message}") from None

    def wait_ready(self, container: Container, on_wait: Callable[[float], None] | None = None) -> None:
        """Poll a real TCP login from the host until it succeeds, or fail at once when it never will.

        A check over the Unix socket would pass during first initialisation, when the image runs a
        temporary socket-only server and then restarts; a TCP login only succeeds on the final server,
        so a login that server refuses is refused for good.
        """
        started = time.monotonic()
        deadline = started + self.settings.timeout
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError as error:
                if REFUSED_PASSWORD in str(error):
                    raise ContainerUnhealthy(self._refused(error)) from None
            container.reload()
            health = health_of(container)
            if container.status in ("exited", "dead") or health == "unhealthy":
                raise ContainerUnhealthy(self._stopped(container, health or container.status))
            if time.monotonic() > deadline:
                raise ContainerUnhealthy(
                    f"{container.name} did not accept connections within {self.settings.timeout:g}s "
                    f"(PGPARITY_TIMEOUT); its last log lines: {tail(container)}"
                )
            if on_wait:
                on_wait(time.monotonic() - started)
            time.sleep(POLL_SECONDS)

    def _refused(self, error: psycopg.OperationalError) -> str:
        s = self.settings
        said = str(error).rpartition("FATAL:")[2].strip()
        return (f"the dev server refuses the login: {said}; its volume {s.volume_name} was initialised with "
                f"another password: set PGPARITY_PASSWORD to that one, or `invoke db.down --volumes` (deletes its "
                "databases) then `invoke db.up` initialises it with this one")

    def _stopped(self, container: Container, state: str) -> str:
        """Why the server stopped: a data directory of another major says how to start over, else its log."""
        logs = container.logs(tail=LOG_LINES).decode("utf-8", errors="replace")
        if INCOMPATIBLE_DATA in logs:
            detail = next((line.partition("DETAIL:")[2].strip() for line in logs.splitlines() if "DETAIL:" in line),
                          INCOMPATIBLE_DATA)
            return (f"{container.name} cannot start on its volume {self.settings.volume_name}: {detail} "
                    f"`invoke db.down --volumes` deletes that data (its databases), then `invoke db.up` and "
                    f"`invoke db.sync` rebuild dev on {self.spec.image}")
        return f"{container.name} is {state}; its last log lines: {tail(container)}"

    def down(self, volumes: bool = False) -> list[str]:
        """Stop and remove the container (data stays in its volume unless `volumes`); what was removed."""
        self.forget()
        removed = []
        container = self.find()
        if container is not None:
            container.stop(timeout=10)
            container.remove(v=True)
            removed.append(f"container {container.name}")
        for name in self.volume_names() if volumes else ():
            try:
                volume = self.client.volumes.get(name)
            except docker.errors.NotFound:
                continue
            if volume.attrs.get("Labels", {}).get(LABEL_PROJECT) != self.settings.project:
                raise ContainerConflict(f"volume {volume.name} was not created by pgparity; not removing it")
            volume.remove()
            removed.append(f"volume {volume.name}")
        return removed

    def status(self) -> Status:
        container = self.find()
        if container is None:
            return Status(self.settings.project, self.settings.container_name, self.spec.image, "absent", "-", None,
                          self.settings.volume_name, None, None)
        health = health_of(container) or "-"
        version = size = None
        if container.status == "running":
            version, size = self._server_facts()
        return Status(self.settings.project, container.name, container.image.tags[0] if container.image.tags else
                      container.attrs["Config"]["Image"], container.status, health, self.settings.port,
                      self.settings.volume_name, version, size, container.labels.get(LABEL_USER),
                      container.labels.get(LABEL_FOLDER))

    def _server_facts(self) -> tuple[str | None, str | None]:
        try:
            with psycopg.connect(self.url, connect_timeout=3) as conn:
                row = conn.execute(
                    "SELECT current_setting('server_version'), pg_size_pretty(pg_database_size(current_database()))"
                ).fetchone()
                return row[0], row[1]
        except psycopg.OperationalError:
            return None, None

    def logs(self, follow: bool = False, tail: int | str = "all") -> Iterator[bytes]:
        container = self.running_or_raise(require_running=False)
        return container.logs(stream=True, follow=follow, tail=tail)

    def running_or_raise(self, require_running: bool = True) -> Container:
        container = self.find()
        if container is None:
            raise DockerError(f"no container for environment {self.settings.project}; run `invoke db.up` first")
        if require_running and container.status != "running":
            raise DockerError(f"{container.name} is {container.status}; run `invoke db.up` first")
        return container

    def psql_argv(self, command: str | None, interactive: bool) -> list[str]:
        """A `docker exec` command line running psql in the container, so no local client is needed.

        The docker CLI is used here, not the API, because it relays a terminal, signals and the exit status.
        """
        container = self.running_or_raise()
        argv = ["docker", "exec", "-i"] + (["-t"] if interactive else [])
        argv += [container.id, "psql", "-U", self.settings.user, "-d", self.settings.database]
        return argv + (["-v", "ON_ERROR_STOP=1", "-c", command] if command is not None else [])
