"""Integration tests of the suite's PostgreSQL image against the real Docker engine.

pgparity treats the locally built image as a stand-in for the official ``postgres`` image, so
these tests pin down the parts of that documented interface the product relies on; they hold
for the official image too. Every container started here carries this run's label and only
those are removed afterwards.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator

import docker
import psycopg
import pytest
from docker.models.containers import Container

LABEL = "pgparity.test"
RUN_LABEL = f"image-{uuid.uuid4().hex[:8]}"
SERVER = ("postgres", "-c", "fsync=off")
PASSWORD = "s3cret-Pw"
INIT_DIR = "docker-entrypoint-initdb.d"

# (path inside the container without the leading slash) -> (content, mode)
Files = dict[str, tuple[bytes, int]]
Start = Callable[..., Container]


def tar_of(files: Files) -> bytes:
    """Pack files into the tar stream that put_archive expects."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, (content, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), mode
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def start(docker_client: docker.DockerClient, test_image: str) -> Iterator[Start]:
    """Start labelled containers, with files placed before the entrypoint runs; remove them after."""

    def start_container(command: list[str], environment: dict[str, str] | None = None,
                        files: Files | None = None) -> Container:
        container = docker_client.containers.create(
            test_image, command, environment=environment or {}, labels={LABEL: RUN_LABEL},
            ports={"5432/tcp": ("127.0.0.1", None)},
        )
        if files:
            container.put_archive("/", tar_of(files))
        container.start()
        return container

    yield start_container
    for container in docker_client.containers.list(all=True, filters={"label": f"{LABEL}={RUN_LABEL}"}):
        container.remove(force=True, v=True)


def logs(container: Container) -> str:
    return container.logs().decode(errors="replace")


def login(container: Container, user: str, password: str, dbname: str) -> psycopg.Connection:
    """One TCP login from the host to the container's published port (re-read: restarts move it)."""
    container.reload()
    port = container.ports["5432/tcp"][0]["HostPort"]
    return psycopg.connect(host="127.0.0.1", port=port, user=user, password=password,
                           dbname=dbname, connect_timeout=2, autocommit=True)


def connect(container: Container, user: str, password: str, dbname: str) -> psycopg.Connection:
    """Log in over TCP, retrying until the final server accepts connections."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return login(container, user, password, dbname)
        except (psycopg.OperationalError, KeyError, TypeError):  # no published port while restarting
            if container.status == "exited" or time.monotonic() > deadline:
                pytest.fail(f"server in {container.short_id} did not come up:\n{logs(container)}")
            time.sleep(0.1)


def query(conn: psycopg.Connection, statement: str) -> list[tuple]:
    return conn.execute(statement).fetchall()


# The database's own collation: the lc_collate setting is gone since PostgreSQL 16.
COLLATION = "SELECT datcollate FROM pg_database WHERE datname = current_database()"
SHELL_INSERT = (b'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" '
                b"-c \"INSERT INTO items VALUES (%d, '%s')\"\n")
SHOP_FILES: Files = {
    f"{INIT_DIR}/01-schema.sql": (b"CREATE TABLE items (id int PRIMARY KEY, source text);\n"
                                  b"INSERT INTO items VALUES (1, 'sql');\n", 0o644),
    f"{INIT_DIR}/02-data.sql.gz": (gzip.compress(b"INSERT INTO items VALUES (2, 'sql.gz');\n"), 0o644),
    f"{INIT_DIR}/03-sourced.sh": (SHELL_INSERT % (3, b"sourced sh"), 0o644),
    f"{INIT_DIR}/04-executed.sh": (b"#!/bin/sh\nset -e\n" + SHELL_INSERT % (4, b"executed sh"), 0o755),
    f"{INIT_DIR}/05-notes.txt": (b"INSERT INTO items VALUES (5, 'txt');\n", 0o644),
}


@pytest.fixture(scope="module")
def shop(start: Start) -> Container:
    """A server initialised with a custom user, password, database, init files and -c args."""
    return start([*SERVER, "-c", "timezone=Asia/Kathmandu"], {
        "POSTGRES_USER": "alice", "POSTGRES_PASSWORD": PASSWORD, "POSTGRES_DB": "shop",
        "POSTGRES_INITDB_ARGS": "--no-sync",
    }, SHOP_FILES)


def test_user_password_and_database_are_honoured(shop: Container) -> None:
    with connect(shop, "alice", PASSWORD, "shop") as conn:
        rows = query(conn, "SELECT current_user, current_database(), rolsuper"
                           " FROM pg_roles WHERE rolname = current_user")
    assert rows == [("alice", "shop", True)]


def test_tcp_logins_need_the_password(shop: Container) -> None:
    connect(shop, "alice", PASSWORD, "shop").close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        login(shop, "alice", "wrong", "shop")


def test_init_files_run_in_order_in_postgres_db(shop: Container) -> None:
    with connect(shop, "alice", PASSWORD, "shop") as conn:
        rows = query(conn, "SELECT id, source FROM items ORDER BY id")
    assert rows == [(1, "sql"), (2, "sql.gz"), (3, "sourced sh"), (4, "executed sh")]


def test_command_args_reach_the_server(shop: Container) -> None:
    with connect(shop, "alice", PASSWORD, "shop") as conn:
        assert query(conn, "SHOW timezone") == [("Asia/Kathmandu",)]
        assert query(conn, "SHOW fsync") == [("off",)]


def test_default_locale_is_en_us_utf8(shop: Container) -> None:
    with connect(shop, "alice", PASSWORD, "shop") as conn:
        assert query(conn, "SHOW server_encoding") == [("UTF8",)]
        assert query(conn, COLLATION) == [("en_US.utf8",)]


def test_restart_reuses_the_cluster(shop: Container) -> None:
    shop.restart(timeout=30)
    with connect(shop, "alice", PASSWORD, "shop") as conn:
        assert query(conn, "SELECT count(*) FROM items") == [(4,)]
    assert logs(shop).count("running /docker-entrypoint-initdb.d/01-schema.sql") == 1


@pytest.fixture(scope="module")
def initdb_args(start: Start) -> Container:
    """A server whose locale can only come from POSTGRES_INITDB_ARGS: LANG says C."""
    return start(list(SERVER), {
        "LANG": "C", "POSTGRES_PASSWORD_FILE": "/tmp/password",
        "POSTGRES_INITDB_ARGS": "--encoding=UTF8 --locale=en_US.utf8 --no-sync",
    }, {"tmp/password": (PASSWORD.encode() + b"\n", 0o600)})


def test_initdb_args_set_encoding_and_locale(initdb_args: Container) -> None:
    with connect(initdb_args, "postgres", PASSWORD, "postgres") as conn:
        assert query(conn, "SHOW server_encoding") == [("UTF8",)]
        assert query(conn, COLLATION) == [("en_US.utf8",)]


def test_password_can_come_from_a_file(initdb_args: Container) -> None:
    """The secret file is root-only (0600), as Docker secrets may be; it must be read before dropping root."""
    connect(initdb_args, "postgres", PASSWORD, "postgres").close()


def test_missing_password_stops_the_container(start: Start) -> None:
    container = start(list(SERVER))
    assert container.wait(timeout=60)["StatusCode"] != 0
    assert "POSTGRES_PASSWORD" in logs(container)


OLD_DATA = "/var/lib/postgresql/data"


def image_config(docker_client: docker.DockerClient, image: str) -> tuple[str, list[str]]:
    """The image's PGDATA and its declared volumes."""
    config = docker_client.images.get(image).attrs["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    return env["PGDATA"], sorted(config.get("Volumes") or {})


def test_the_cluster_lives_in_the_volume_the_official_image_has(docker_client, test_image, image_major) -> None:
    """Up to 17 PGDATA is the volume itself; since 18 it is a major-specific directory below it."""
    pgdata, volumes = image_config(docker_client, test_image)
    if image_major >= 18:
        assert (pgdata, volumes) == (f"/var/lib/postgresql/{image_major}/docker", ["/var/lib/postgresql"])
    else:
        assert (pgdata, volumes) == (OLD_DATA, [OLD_DATA])


def test_a_volume_at_the_old_path_is_refused_since_18(docker_client, test_image, image_major) -> None:
    """Its data would silently go unused: the cluster is initialised below /var/lib/postgresql."""
    if image_major < 18:
        pytest.skip(f"PostgreSQL {image_major} keeps its cluster at {OLD_DATA}")
    volume = docker_client.volumes.create(f"pgparity-test-{uuid.uuid4().hex[:8]}", labels={LABEL: RUN_LABEL})
    container = docker_client.containers.run(
        test_image, list(SERVER), detach=True, environment={"POSTGRES_PASSWORD": PASSWORD},
        labels={LABEL: RUN_LABEL}, volumes={volume.name: {"bind": OLD_DATA, "mode": "rw"}},
    )
    try:
        assert container.wait(timeout=60)["StatusCode"] != 0
        assert OLD_DATA in logs(container)
    finally:
        container.remove(force=True, v=True)
        volume.remove(force=True)


def test_client_tools_are_of_the_images_major(start: Start, image_major: int) -> None:
    tools = ("postgres", "psql", "pg_dump", "pg_restore", "pg_isready")
    container = start(["bash", "-c", " && ".join(f"{tool} --version" for tool in tools)])
    assert container.wait(timeout=60)["StatusCode"] == 0
    lines = logs(container).splitlines()
    assert [line.split(" (PostgreSQL) ")[0] for line in lines] == list(tools)
    assert all(line.split(" (PostgreSQL) ")[1].startswith(f"{image_major}.") for line in lines)


HOST_RULE = "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = 'all'"


def test_tcp_logins_use_the_servers_password_encryption(shop: Container) -> None:
    """md5 by default before PostgreSQL 14, scram-sha-256 since: the stored password must verify."""
    with connect(shop, "alice", PASSWORD, "shop") as conn:
        [(encryption,)] = query(conn, "SHOW password_encryption")
        assert query(conn, HOST_RULE) == [(encryption,)]


def test_password_encryption_from_the_command_line_chooses_the_method(start: Start) -> None:
    container = start([*SERVER, "-c", "password_encryption=md5"], {"POSTGRES_PASSWORD": PASSWORD})
    with connect(container, "postgres", PASSWORD, "postgres") as conn:
        assert query(conn, HOST_RULE) == [("md5",)]


def test_host_auth_method_overrides_password_encryption(start: Start) -> None:
    container = start(list(SERVER), {"POSTGRES_PASSWORD": PASSWORD, "POSTGRES_HOST_AUTH_METHOD": "password"})
    with connect(container, "postgres", PASSWORD, "postgres") as conn:
        assert query(conn, HOST_RULE) == [("password",)]


HOLD_INIT = (b"#!/bin/sh\ntouch /tmp/init-running\n"
             b"for _ in $(seq 600); do [ -e /tmp/init-release ] && exit 0; sleep 0.1; done\nexit 1\n")


def wait_for_file(container: Container, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while container.exec_run(["test", "-e", path]).exit_code != 0:
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared:\n{logs(container)}")
        time.sleep(0.1)


def test_tcp_stays_closed_until_initialisation_ends(start: Start) -> None:
    """The init phase's server must answer on the socket only: readiness checks race against it."""
    container = start(list(SERVER), {"POSTGRES_PASSWORD": PASSWORD},
                      {f"{INIT_DIR}/01-hold.sh": (HOLD_INIT, 0o755)})
    wait_for_file(container, "/tmp/init-running")
    assert container.exec_run(["pg_isready", "-q"]).exit_code == 0
    assert container.exec_run(["pg_isready", "-q", "-h", "127.0.0.1"]).exit_code == 2
    with pytest.raises(psycopg.OperationalError):
        login(container, "postgres", PASSWORD, "postgres")
    container.exec_run(["touch", "/tmp/init-release"])
    connect(container, "postgres", PASSWORD, "postgres").close()
