"""One-off containers of a server image, for its client tools (pg_dump, psql) at the server's own version.

The container only sleeps; commands run in it one after another through `docker exec`, so no client is
needed on the host. It is removed, with its anonymous volume, when the `with` block ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import docker
import docker.errors
from docker.models.containers import Container

from pgparity.container.engine import Status, discard, labelled, owner_labels
from pgparity.errors import DockerError

LIFETIME_SECONDS = "86400"  # the sleep that keeps it running; it is removed long before
# `pg_dump: error: …` and its details; a line that does not begin so continues the message above it
MESSAGE = re.compile(r"^[\w.-]+: (error|warning|detail|hint|info|debug): ")
VERSION_LABEL = "pgparity.version-probe"
CLIENT_LABEL = "pgparity.dump-client"  # its value: the environment the dump is taken for
RELEASE = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class Finished:
    """What one command in the container left: its exit code and its whole output."""

    code: int
    stdout: bytes
    stderr: bytes

    def errors(self) -> str:
        """The tool's `error:` messages, then their details and hints (the cause may be in any of them), else its
        last line. The errors come first, whole, so that a long detail (the query that failed) never hides them."""
        lines = [line.strip() for line in self.stderr.decode(errors="replace").splitlines() if line.strip()]
        messages: list[tuple[str | None, str]] = []
        for line in lines:
            if (start := MESSAGE.match(line)) or not messages:
                messages.append((start.group(1) if start else None, line))
            else:
                messages[-1] = (messages[-1][0], f"{messages[-1][1]} {line}")
        said = [text for level, text in messages if level == "error"]
        said += [text for level, text in messages if level in ("detail", "hint")]
        return " | ".join(said or lines[-1:] or ["(no output)"])


class OneOff:
    """A labelled container of `image` running for as long as the `with` block; `purpose` names it in errors."""

    def __init__(self, client: docker.DockerClient, image: str, purpose: str, labels: dict[str, str],
                 **options: str):
        self.client = client
        self.image = image
        self.purpose = purpose
        self.labels = labels
        self.options = options  # such as network_mode
        self.container: Container | None = None

    def __enter__(self) -> OneOff:
        try:
            self.container = self.client.containers.run(
                self.image, entrypoint=["sleep"], command=[LIFETIME_SECONDS], detach=True,
                labels={**self.labels, **owner_labels()}, **self.options)
        except docker.errors.DockerException as error:
            raise DockerError(f"cannot start a {self.purpose} container from {self.image}: {error}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        discard(self.container)

    def exec(self, argv: list[str], environment: dict[str, str]) -> Finished:
        """Run a command to its end, its output streamed back (pg_dump's can be large)."""
        api = self.client.api
        exec_id = api.exec_create(self.container.id, argv, environment=environment)["Id"]
        out, err = bytearray(), bytearray()
        for stdout, stderr in api.exec_start(exec_id, stream=True, demux=True):
            out += stdout or b""
            err += stderr or b""
        return Finished(api.exec_inspect(exec_id)["ExitCode"], bytes(out), bytes(err))


def dump_clients(client: docker.DockerClient) -> list[Status]:
    """pg_dump client containers on this engine: a killed dump leaves its own behind."""
    return labelled(client, CLIENT_LABEL)


def remove(client: docker.DockerClient, state: Status) -> None:
    """Remove a listed client container; one whose dump ended since is gone already."""
    try:
        discard(client.containers.get(state.container))
    except docker.errors.NotFound:
        pass


def version_of(client: docker.DockerClient, image: str) -> int:
    """The server_version_num of the PostgreSQL in `image`, from `postgres --version`, without starting a server."""
    with OneOff(client, image, "postgres --version", {VERSION_LABEL: image}) as container:
        finished = container.exec(["postgres", "--version"], {})
    found = RELEASE.search(finished.stdout.decode(errors="replace"))
    if finished.code or found is None:
        raise DockerError(f"{image}: `postgres --version` did not name a release ({finished.errors()})")
    return int(found.group(1)) * 10000 + int(found.group(2) or 0)
