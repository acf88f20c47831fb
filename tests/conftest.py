"""Shared fixtures: the test PostgreSQL images and a real server started from one."""

from __future__ import annotations

import functools
import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker
import psycopg
import pytest
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
TEST_LABEL = "pgparity.test"
PASSWORD = "test-secret"


@dataclass(frozen=True)
class Server:
    """A running test server reachable from the host."""

    container_id: str
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"


# Every fixture that reaches a server needs one of these, directly or through another fixture.
ENGINE_FIXTURES = frozenset({"docker_client", "test_image", "image_of"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test that uses the engine `docker`, before `-m` selects: `-m "not docker"` runs pure tests alone."""
    for item in items:
        if ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)


DEFAULT_MAJOR = "15"
MAJORS = (13, 15, 17, 18)  # the supported majors, oldest first
TEST_REPOSITORY = "pgparity-test-postgres"
# A read timeout, not a deadline: a pull that streams progress may take as long as it needs,
# one that stalls (an unreachable registry) gives up after this many seconds.
PULL_TIMEOUT = 30


class ImageUnavailable(Exception):
    """No image of the asked major can be had; the message says why."""


def image_present(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False


def image_pulled(client: docker.DockerClient, image: str) -> bool:
    """Pull the image; any failure (no registry, no such tag, a stalled connection) means no."""
    try:
        client.images.pull(image)
        return True
    except (docker.errors.APIError, requests.exceptions.RequestException):
        return False


def built_image(major: str) -> str:
    """Build the test image of the major from Debian's packages; its tag."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "docker" / "build_image.py"), major],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        error = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ImageUnavailable(f"no image of PostgreSQL {major}: postgres:{major} cannot be pulled, "
                               f"{TEST_REPOSITORY}:{major} is absent and building it failed: {error}")
    return result.stdout.strip().splitlines()[-1]


@functools.cache
def find_image(major: str) -> str:
    """The image that runs PostgreSQL `major` here, as a developer's laptop would have it:
    the official image when present or pullable, else the project's own, built if need be."""
    official, own = f"postgres:{major}", f"{TEST_REPOSITORY}:{major}"
    with closing(docker.from_env(timeout=PULL_TIMEOUT)) as client:
        if image_present(client, official) or image_pulled(client, official):
            return official
        if image_present(client, own):
            return own
    return built_image(major)


@pytest.fixture(scope="session")
def test_image() -> str:
    """The suite's image: PGPARITY_IMAGE if set, else one of PGPARITY_TEST_MAJOR (default 15)."""
    image = os.environ.get("PGPARITY_IMAGE")
    if not image:
        try:
            image = find_image(os.environ.get("PGPARITY_TEST_MAJOR", DEFAULT_MAJOR))
        except ImageUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        os.environ["PGPARITY_IMAGE"] = image
    return image


@pytest.fixture(scope="session")
def image_of() -> Callable[[int | str], str]:
    """For tests that need a second major: image_of(17) is an image of PostgreSQL 17, found by
    the same rule as the suite's own; the test is skipped, with the reason, when none can be had."""

    def image(major: int | str) -> str:
        try:
            return find_image(str(major))
        except ImageUnavailable as exc:
            pytest.skip(str(exc))

    return image


@pytest.fixture(scope="session")
def image_major(docker_client, test_image) -> int:
    """The major of the suite's image, from its PG_MAJOR (set by the official image and ours):
    tests compare versions with this, never with a literal."""
    env = dict(item.split("=", 1) for item in docker_client.images.get(test_image).attrs["Config"]["Env"] or ())
    if not env.get("PG_MAJOR", "").isdigit():
        pytest.fail(f"image {test_image} sets no PG_MAJOR, so its PostgreSQL major is unknown", pytrace=False)
    return int(env["PG_MAJOR"])


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    client = docker.from_env()
    yield client
    client.close()


def start_server(client: docker.DockerClient, image: str, label: str, **environment: str) -> Server:
    """Start a throwaway server on a random loopback port and wait until it accepts TCP logins."""
    env = {"POSTGRES_PASSWORD": PASSWORD, "POSTGRES_USER": "postgres", **environment}
    container = client.containers.run(
        image, detach=True, environment=env, labels={TEST_LABEL: label},
        ports={"5432/tcp": ("127.0.0.1", None)}, command=["postgres", "-c", "fsync=off"],
    )
    container.reload()
    port = int(container.ports["5432/tcp"][0]["HostPort"])
    server = Server(container.id, "127.0.0.1", port, env["POSTGRES_USER"], PASSWORD)
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return server
        except psycopg.OperationalError:
            container.reload()
            if container.status == "exited" or time.monotonic() > deadline:
                logs = container.logs(tail=20).decode(errors="replace")
                container.remove(force=True, v=True)
                raise RuntimeError(f"test server did not start:\n{logs}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def pg_server(docker_client, test_image) -> Server:
    """One real PostgreSQL server for the whole session; removed at the end by its label."""
    label = f"session-{uuid.uuid4().hex[:8]}"
    server = start_server(docker_client, test_image, label)
    yield server
    for container in docker_client.containers.list(all=True, filters={"label": f"{TEST_LABEL}={label}"}):
        container.remove(force=True, v=True)


@pytest.fixture(autouse=True)
def icu_required(request) -> None:
    """Skips a test marked `icu` where the session server was built without ICU (it then has no ICU collation)."""
    if request.node.get_closest_marker("icu") is None:
        return
    with psycopg.connect(request.getfixturevalue("pg_server").url()) as conn:
        if conn.execute("SELECT 1 FROM pg_collation WHERE collprovider = 'i' LIMIT 1").fetchone() is None:
            pytest.skip("the server is built without ICU")


@contextmanager
def scratch_database(server: Server) -> Iterator[str]:
    """A new empty database on the server; its URL. Dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield server.url(name)
    drop_subscriptions(server.url(name))
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# A database holding a subscription cannot be dropped; unset from its slot first, dropping one touches no publisher.
SUBSCRIPTIONS_HERE = ("SELECT subname FROM pg_subscription"
                      " WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())")


def drop_subscriptions(url: str) -> None:
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError:
        return  # dropped by the test already
    with conn:
        for (name,) in conn.execute(SUBSCRIPTIONS_HERE).fetchall():
            for statement in ("ALTER SUBSCRIPTION {} DISABLE", "ALTER SUBSCRIPTION {} SET (slot_name = NONE)",
                              "DROP SUBSCRIPTION {}"):
                conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


@pytest.fixture
def fresh_db(pg_server: Server) -> str:
    with scratch_database(pg_server) as url:
        yield url


@pytest.fixture
def production_db(pg_server: Server) -> str:
    """A second fresh database, playing production next to `fresh_db`."""
    with scratch_database(pg_server) as url:
        yield url


READER = "pgparity_test_reader"


@pytest.fixture(scope="session")
def reader(pg_server: Server) -> str:
    """A role for grants and policies; roles are cluster-wide, so one serves every test."""
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(READER)))
    yield READER
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(READER)))


# No contrib module marks a configuration table (pg_extension_config_dump), so the schema tests install this
# one into the session server. Its table's filter is read from a setting when it is created, so two databases
# can hold the same extension with different filters.
CONFIG_EXTENSION = "pgparity_config"
CONFIG_EXTENSION_FILES = {
    f"{CONFIG_EXTENSION}.control": "default_version = '1.0'\nrelocatable = false\nschema = public\n",
    f"{CONFIG_EXTENSION}--1.0.sql": (
        "CREATE TABLE config_rows (id int PRIMARY KEY, standard boolean);\n"
        "SELECT pg_catalog.pg_extension_config_dump('config_rows',"
        " coalesce(current_setting('pgparity.config_filter', true), ''));\n"
    ),
}


def tar_of(files: dict[str, str]) -> bytes:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


@pytest.fixture(scope="session")
def config_extension(docker_client, pg_server: Server) -> str:
    """The extension above, its files copied into the session server's extension directory; its name."""
    container = docker_client.containers.get(pg_server.container_id)
    found = container.exec_run(["pg_config", "--sharedir"])
    assert found.exit_code == 0, found.output
    assert container.put_archive(f"{found.output.decode().strip()}/extension", tar_of(CONFIG_EXTENSION_FILES))
    return CONFIG_EXTENSION

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Project:
    """A unique pgparity environment for one test, driven through the real command line."""

    name: str
    root: Path
    env: dict[str, str]

    def run(self, *args: str, extra: dict[str, str] | None = None, input: str | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess:
        env = {**self.env, **(extra or {})}
        return subprocess.run(
            [sys.executable, "-m", "pgparity", *args], cwd=self.root, env=env, input=input,
            capture_output=True, text=True, timeout=timeout,
        )

    def url(self, database: str = "app") -> str:
        return f"postgresql://postgres:{self.env['PGPARITY_PASSWORD']}@127.0.0.1:{self.env['PGPARITY_PORT']}/{database}"


def remove_project(client: docker.DockerClient, name: str) -> None:
    """Remove only what carries this test's own project label."""
    label = {"label": f"pgparity.project={name}"}
    for container in client.containers.list(all=True, filters=label):
        container.remove(force=True, v=True)
    for volume in client.volumes.list(filters=label):
        volume.remove(force=True)


def project_env(name: str, image: str, repository: str) -> dict[str, str]:
    """The environment a project's commands run in: this process's, without its own PGPARITY_ settings (nor
    the CI job's summary file, which verify would append to);
    dev pinned to the suite's image, and images of other majors (pg_dump's) from the same repository."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGPARITY_") and k != "GITHUB_STEP_SUMMARY"}
    env.update(PGPARITY_PROJECT=name, PGPARITY_IMAGE=image, PGPARITY_IMAGE_REPOSITORY=repository,
               PGPARITY_PORT=str(free_port()), PGPARITY_PASSWORD="s3cret-pw", PGPARITY_TIMEOUT="90")
    return env


@pytest.fixture
def project(tmp_path, docker_client, test_image, image_repository) -> Project:
    name = f"pgp-test-{uuid.uuid4().hex[:8]}"
    yield Project(name, tmp_path, project_env(name, test_image, image_repository))
    remove_project(docker_client, name)


@dataclass(frozen=True)
class Production:
    """A production database on the separate server, reached as its superuser (it could write)."""

    name: str
    url: str

    def execute(self, statement: str, params: tuple | None = None) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def dev(tmp_path_factory, docker_client, test_image, image_repository) -> Project:
    """One dev container for the module, started through `db.up` like a developer would."""
    name = f"pgp-verify-{uuid.uuid4().hex[:8]}"
    shared = Project(name, tmp_path_factory.mktemp("verify"), project_env(name, test_image, image_repository))
    try:
        up = shared.run("db.up")
        assert up.returncode == 0, up.stderr
        yield shared
    finally:
        remove_project(docker_client, name)


@pytest.fixture
def production(pg_server) -> Production:
    """A fresh production database whose TimeZone is the dev container's default (UTC).

    The session server itself runs TimeZone=Etc/UTC; only
    test_a_profile_captured_after_db_up_is_mirrored_before_verify_compares keeps that.
    """
    name = f"prod_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("ALTER DATABASE {} SET timezone TO 'UTC'").format(sql.Identifier(name)))
    yield Production(name, pg_server.url(name))
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def proj(dev: Project, production: Production) -> Project:
    """The shared environment with an empty project folder and PGPARITY_PROD_URL set to `production`."""
    for child in dev.root.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    return Project(dev.name, dev.root, {**dev.env, "PGPARITY_PROD_URL": production.url})


@pytest.fixture(scope="session")
def image_repository(docker_client, test_image, image_major) -> str:
    """The test image's repository, which holds it under its major's tag too (tagged here when it does not)."""
    repository = test_image.rsplit(":", 1)[0]
    if not image_present(docker_client, f"{repository}:{image_major}"):
        docker_client.images.get(test_image).tag(f"{repository}:{image_major}")
    return repository


@pytest.fixture(scope="session")
def other_server(docker_client, image_major, image_of) -> Server:
    """A server of the nearest other supported major, newer first: comparisons across majors need two.
    Skipped, with the reason, when no image of that major can be had."""
    newer, older = [m for m in MAJORS if m > image_major], [m for m in MAJORS if m < image_major]
    major = newer[0] if newer else older[-1]
    image = image_of(major)
    label = f"other-{uuid.uuid4().hex[:8]}"
    try:
        yield start_server(docker_client, image, label)
    finally:
        for container in docker_client.containers.list(all=True, filters={"label": f"{TEST_LABEL}={label}"}):
            container.remove(force=True, v=True)


@pytest.fixture
def newer_server(other_server, image_major) -> Server:
    """`other_server` when it runs a newer major than the suite's image (production ahead of dev)."""
    if major_of(other_server.url()) < image_major:
        pytest.skip(f"no supported major is newer than {image_major}")
    return other_server


def major_of(url: str) -> int:
    """The PostgreSQL major of the server at `url`: what a test about one major checks before it runs."""
    with psycopg.connect(url) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
