"""What the benchmarks share: throwaway environments and servers, the command lines they time, the table."""

from __future__ import annotations

import os
import shlex
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
IMAGE_REPOSITORY = "pgparity-test-postgres"
LABEL = "pgparity.project"
SERVER_LABEL = "pgparity.bench"
PASSWORD = "bench-secret"
READY_TIMEOUT = 120.0

T = TypeVar("T")
console = Console(width=140, highlight=False)


class BenchError(Exception):
    """A command the benchmark relies on failed; the message says which and why."""


def run(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command to completion with its output captured; a failure raises BenchError."""
    result = subprocess.run(list(argv), cwd=cwd, env=env, input=stdin, capture_output=True, text=True)
    if result.returncode:
        raise BenchError(f"`{shlex.join(argv)}` exited {result.returncode}: {result.stderr.strip()[-800:]}")
    return result


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """Wall-clock seconds of one call, and what it returned."""
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def median(samples: Sequence[float]) -> float:
    """The middle of repeated measurements: one busy moment of the machine does not move it."""
    return statistics.median(samples)


def progress(message: str) -> None:
    """Progress on stderr, so stdout holds only the table."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def find_image() -> str:
    """PGPARITY_IMAGE when set, else the newest local test image (never its `-base` import)."""
    if os.environ.get("PGPARITY_IMAGE"):
        return os.environ["PGPARITY_IMAGE"]
    tags = run(["docker", "images", IMAGE_REPOSITORY, "--format", "{{.Tag}}"]).stdout.split()
    tags = [tag for tag in tags if tag != "<none>" and not tag.endswith("-base")]
    if not tags:
        raise BenchError(f"no {IMAGE_REPOSITORY} image; run tests/docker/build_image.py or set PGPARITY_IMAGE")
    return f"{IMAGE_REPOSITORY}:{tags[0]}"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Environment:
    """One pgparity environment of the benchmark's own, configured as a user would: by variables."""

    project: str
    image: str
    port: int
    password: str = PASSWORD

    @property
    def container(self) -> str:
        """The dev container's name, as pgparity derives it from the project."""
        return f"{self.project}-db-1"

    @property
    def label(self) -> str:
        """The label on everything this environment creates, and the key to removing it."""
        return f"{LABEL}={self.project}"

    def variables(self) -> dict[str, str]:
        """The process environment with this environment's PGPARITY_* settings. Python keeps the bytecode it
        compiles, as it does by default on a user's machine: a shell that says otherwise would time the
        compiling of every module at every command."""
        kept = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
        return {**kept, "PGPARITY_PROJECT": self.project, "PGPARITY_IMAGE": self.image,
                "PGPARITY_PORT": str(self.port), "PGPARITY_PASSWORD": self.password}

    def pgparity(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """`python -m pgparity <task> ...` in `cwd`, a new Python process each time."""
        return run([str(PYTHON), "-m", "pgparity", *args], cwd=cwd, env=self.variables())


def remove_labelled(label: str) -> None:
    """Remove the containers (with their anonymous volumes) and the volumes carrying `label`, only those."""
    selector = f"label={label}"
    containers = run(["docker", "ps", "-aq", "--filter", selector]).stdout.split()
    if containers:
        run(["docker", "rm", "-f", "-v", *containers])
    volumes = run(["docker", "volume", "ls", "-q", "--filter", selector]).stdout.split()
    if volumes:
        run(["docker", "volume", "rm", *volumes])


@contextmanager
def environment() -> Iterator[Environment]:
    """A uniquely named environment on a free port; whatever it created is removed on the way out."""
    env = Environment(f"pgp-bench-{uuid.uuid4().hex[:8]}", find_image(), free_port())
    progress(f"project {env.project}, image {env.image}, port {env.port}")
    try:
        yield env
    finally:
        remove_labelled(env.label)


def seconds(value: float) -> str:
    """A duration for the table."""
    return f"{value:.2f} s"


def verdict(value: str, met: bool) -> str:
    """A figure with whether it meets its goal."""
    return f"{value} {'✓' if met else '✗ MISSED'}"


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], notes: Sequence[str]) -> None:
    """The results as one rich table, followed by the notes that say how to read it."""
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for note in notes:
        console.print(f"  {note}", markup=False, soft_wrap=True)


@dataclass(frozen=True)
class Server:
    """A benchmark's own PostgreSQL container, published on a loopback port."""

    container: str
    port: int

    def url(self, database: str) -> str:
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def exec(self, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`docker exec` in the container (`-i` when there is input); a failure raises BenchError."""
        interactive = ["-i"] if stdin is not None else []
        return run(["docker", "exec", *interactive, self.container, *argv], stdin=stdin)

    def psql(self, database: str, script: str, *flags: str) -> None:
        """`script` through psql inside the container, stopping at the first error (`-1`: one transaction)."""
        self.exec("psql", "-X", "-q", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", *flags, "-f", "-",
                  stdin=script)

    def shell(self, command: str) -> None:
        self.exec("sh", "-c", command)

    def admin(self, database: str, *statements: object) -> None:
        """Statements in autocommit, one at a time (VACUUM and CREATE DATABASE refuse a transaction)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)


def wait_ready(url: str) -> None:
    """Until a TCP login through the published port succeeds (the image's init server takes none)."""
    import psycopg

    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise BenchError(f"the server did not accept logins within {READY_TIMEOUT:g}s: {error}") from None
            time.sleep(0.2)


@contextmanager
def server(image: str, *settings: str) -> Iterator[Server]:
    """One labelled container with `-c fsync=off` and `settings`; it and its volume are removed on the way out."""
    label = f"{SERVER_LABEL}={uuid.uuid4().hex[:8]}"
    port = free_port()
    progress(f"container {label}, image {image}, port {port}")
    options = [arg for setting in ("fsync=off", *settings) for arg in ("-c", setting)]
    try:
        container = run(["docker", "run", "-d", "--label", label, "--shm-size=256m", "-e",
                         f"POSTGRES_PASSWORD={PASSWORD}", "-p", f"127.0.0.1:{port}:5432", image, "postgres",
                         *options]).stdout.strip()
        started = Server(container, port)
        wait_ready(started.url("postgres"))
        yield started
    finally:
        remove_labelled(label)
