"""db.up / down / status / logs / psql against the real Docker engine and the test image."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time

import docker.errors
import psycopg
import pytest
from conftest import ROOT

from pgparity import config
from pgparity.container import engine as engines
from pgparity.container.engine import Engine, Mirror
from pgparity.schema.model import ServerVersion
from pgparity.schema.serialize import Head


def assert_one_line_error(result, fragment: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("pgparity: ") and fragment in lines[0], lines[0]


PRODUCTION_15 = ServerVersion("PostgreSQL 15.20 (Debian 15.20-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc", 150020)


def profile_of(server: ServerVersion) -> Head:
    """What Mirror reads of a profile: its server's major and its settings."""
    return Head(server.major, {})


def test_the_image_follows_production_unless_pinned_and_says_so_when_majors_differ(tmp_path):
    following = config.load(tmp_path, environ={"PGPARITY_IMAGE_REPOSITORY": "pgparity-test-postgres"})
    mirror = Mirror.from_profile(profile_of(PRODUCTION_15), following)
    assert mirror.image == "pgparity-test-postgres:15"
    assert Mirror.from_profile(None, following).image == "pgparity-test-postgres:15"
    assert mirror.version_mismatch(PRODUCTION_15, 150018, mirror.image) is None
    fact, advice = mirror.version_mismatch(PRODUCTION_15, 170012, mirror.image)
    assert fact == "production runs PostgreSQL 15.20, dev runs 17.12 (pgparity-test-postgres:15)"
    assert "PGPARITY_IMAGE_REPOSITORY" in advice

    pinned = Mirror.from_profile(profile_of(PRODUCTION_15), config.load(tmp_path, environ={"PGPARITY_IMAGE": "pg:17"}))
    assert pinned.image == "pg:17"
    fact, advice = pinned.version_mismatch(PRODUCTION_15, 170012, "pg:17")
    assert fact == "production runs PostgreSQL 15.20, dev runs 17.12 (pg:17)"
    assert advice == "unset PGPARITY_IMAGE so that db.up runs postgres:15, or pin an image of PostgreSQL 15"


def test_up_from_nothing_then_again_then_psql_and_status(project, image_major):
    first = project.run("db.up")
    assert first.returncode == 0, first.stderr
    port = project.env["PGPARITY_PORT"]
    assert f"created: postgresql://postgres:****@127.0.0.1:{port}/app (port {port}" in first.stdout
    assert "s3cret-pw" not in first.stdout + first.stderr

    again = project.run("db.up")
    assert again.returncode == 0 and "already running" in again.stdout

    version = project.run("db.psql", "-c", "select version()")
    assert version.returncode == 0 and f"PostgreSQL {image_major}." in version.stdout

    failing = project.run("db.psql", "-c", "select * from no_such_table")
    assert failing.returncode != 0 and "no_such_table" in failing.stderr

    status = json.loads(project.run("db.status", "--json").stdout)
    assert status["state"] == "running" and status["server_version"].startswith(f"{image_major}.")
    assert status["port"] == int(port) and status["volume"] == f"{project.name}_data"
    assert status["database_size"].endswith("kB") or status["database_size"].endswith("MB")

    table = project.run("db.status")
    assert project.name in table.stdout and "running" in table.stdout


def test_port_is_bound_to_loopback_only_and_settings_are_mirrored(project, docker_client):
    project.env.update(PGPARITY_TIMEZONE="Europe/Paris", PGPARITY_LOCALE="C.UTF-8")
    assert project.run("db.up").returncode == 0
    container = docker_client.containers.get(f"{project.name}-db-1")
    bindings = container.attrs["HostConfig"]["PortBindings"]["5432/tcp"]
    assert bindings == [{"HostIp": "127.0.0.1", "HostPort": project.env["PGPARITY_PORT"]}]
    with psycopg.connect(project.url()) as conn:
        assert conn.execute("show timezone").fetchone()[0] == "Europe/Paris"
        assert conn.execute("show server_encoding").fetchone()[0] == "UTF8"
        assert conn.execute("select datcollate from pg_database where datname = 'app'").fetchone()[0] == "C.UTF-8"


def test_down_keeps_data_and_down_volumes_asks_first(project, docker_client):
    assert project.run("db.up").returncode == 0
    assert project.run("db.psql", "-c", "create table kept (id int)").returncode == 0
    down = project.run("db.down")
    assert down.returncode == 0 and f"container {project.name}-db-1" in down.stdout
    assert docker_client.containers.list(all=True, filters={"label": f"pgparity.project={project.name}"}) == []

    assert project.run("db.up").returncode == 0
    assert "kept" in project.run("db.psql", "-c", "\\dt").stdout

    refused = project.run("db.down", "--volumes")
    assert_one_line_error(refused, "pass --yes")
    docker_client.volumes.get(f"{project.name}_data")

    gone = project.run("db.down", "--volumes", "--yes")
    assert gone.returncode == 0 and f"volume {project.name}_data" in gone.stdout
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(f"{project.name}_data")


def test_stopped_container_is_started_again(project, docker_client):
    assert project.run("db.up").returncode == 0
    docker_client.containers.get(f"{project.name}-db-1").stop()
    result = project.run("db.up")
    assert result.returncode == 0 and " started: " in result.stdout


def test_logs_show_the_server_output(project):
    assert project.run("db.up").returncode == 0
    logs = project.run("db.logs", "--tail", "50")
    assert logs.returncode == 0 and "database system is ready to accept connections" in logs.stdout


def test_port_taken_by_another_process(project, docker_client):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", int(project.env["PGPARITY_PORT"])))
        listener.listen()
        result = project.run("db.up")
    assert_one_line_error(result, f"port {project.env['PGPARITY_PORT']} on 127.0.0.1 is taken")
    assert docker_client.containers.list(all=True, filters={"label": f"pgparity.project={project.name}"}) == []


def test_no_docker_daemon(project):
    result = project.run("db.up", extra={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert_one_line_error(result, "cannot reach the Docker engine at unix:///nonexistent/docker.sock")


def test_image_absent_names_the_image_and_the_setting(project):
    result = project.run("db.up", extra={"PGPARITY_IMAGE": "pgparity-no-such-image:0"})
    assert_one_line_error(result, "image pgparity-no-such-image:0 is not present")
    assert "PGPARITY_IMAGE" in result.stderr


def test_foreign_container_with_our_name(project, docker_client, test_image):
    docker_client.containers.create(test_image, name=f"{project.name}-db-1",
                                    labels={"pgparity.test": project.name})
    try:
        result = project.run("db.up")
        assert_one_line_error(result, "was not created by pgparity")
        docker_client.containers.get(f"{project.name}-db-1")
    finally:
        docker_client.containers.get(f"{project.name}-db-1").remove(force=True, v=True)


def test_container_that_dies_during_start_shows_its_logs(project):
    result = project.run("db.up", extra={"PGPARITY_LOCALE": "xx_NOWHERE.utf8"})
    assert_one_line_error(result, "last log lines")
    assert "xx_NOWHERE" in result.stderr


@pytest.mark.parametrize(
    "file, text, fragment",
    [
        (".env", "PGPARITY_PORT=not-a-port\n", ".env: PGPARITY_PORT must be a port number"),
        (".env.local", "PGPARITY_PASSWORD=\n", ".env.local: PGPARITY_PASSWORD must not be empty"),
        (".env", "PGPARITY_IMAGES=postgres:15\n", ".env: unknown setting PGPARITY_IMAGES"),
    ],
)
def test_bad_env_files_through_the_command_line(project, file, text, fragment):
    for key in ("PGPARITY_PORT", "PGPARITY_PASSWORD"):
        project.env.pop(key)
    (project.root / file).write_text(text)
    assert_one_line_error(project.run("db.up"), fragment)


def slow_init_image(docker_client, base: str) -> str:
    """The test image plus an init script that takes a while, so the socket-only phase is long."""
    script = b"psql -v ON_ERROR_STOP=1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" -c 'create table made_by_init (id int)'\nsleep 3\n"
    dockerfile = f"FROM {base}\nCOPY 50-slow.sh /docker-entrypoint-initdb.d/\nLABEL pgparity.test=slow-init\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile), ("50-slow.sh", script)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    tag = f"pgparity-test-slow-init:{base.rsplit(':', 1)[-1]}"
    docker_client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
    return tag


def test_readiness_waits_out_the_socket_only_init_server(project, docker_client, test_image):
    """During first init a socket-level check says ready too early; up must only return on the final server."""
    image = slow_init_image(docker_client, test_image)
    settings = config.load(project.root, environ={**project.env, "PGPARITY_IMAGE": image})
    engine = Engine(settings, client=docker_client)
    socket_ready_while_waiting = []

    def probe(_elapsed: float) -> None:
        container = docker_client.containers.get(settings.container_name)
        code, _ = container.exec_run(["pg_isready", "-U", "postgres"])
        socket_ready_while_waiting.append(code == 0)

    engine.up(on_wait=probe)
    assert any(socket_ready_while_waiting), "the init phase never showed the race"
    with psycopg.connect(project.url()) as conn:
        assert conn.execute("select count(*) from made_by_init").fetchone() == (0,)


def make_context(config_dir, name: str, host: str) -> None:
    import subprocess

    subprocess.run(["docker", "context", "create", name, "--docker", f"host={host}"], check=True,
                   capture_output=True, env={"DOCKER_CONFIG": str(config_dir), "PATH": "/usr/bin:/bin"})


def test_docker_contexts_are_honoured(project, tmp_path):
    config_dir = tmp_path / "docker-config"
    make_context(config_dir, "pgp-local", "unix:///var/run/docker.sock")
    make_context(config_dir, "pgp-dead", "unix:///nonexistent/docker.sock")
    (config_dir / "config.json").write_text("{}")  # as `docker context use` leaves it
    base = {"DOCKER_CONFIG": str(config_dir)}
    project.env.pop("DOCKER_HOST", None)
    working = project.run("db.up", extra={**base, "DOCKER_CONTEXT": "pgp-local"})
    assert working.returncode == 0, working.stderr
    dead = project.run("db.status", extra={**base, "DOCKER_CONTEXT": "pgp-dead"})
    assert_one_line_error(dead, "unix:///nonexistent/docker.sock (docker context pgp-dead)")
    unknown = project.run("db.status", extra={**base, "DOCKER_CONTEXT": "pgp-nowhere"})
    assert_one_line_error(unknown, "DOCKER_CONTEXT names 'pgp-nowhere'")


def test_docker_compose_sees_the_container(project):
    import subprocess
    assert project.run("db.up").returncode == 0
    compose_file = ROOT / "compose" / "compose.yaml"
    command = ["docker-compose", "-p", project.name, "-f", str(compose_file)]
    listed = subprocess.run(command + ["ps"], env=project.env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert f"{project.name}-db-1" in listed.stdout and f"127.0.0.1:{project.env['PGPARITY_PORT']}->5432" in listed.stdout
    logs = subprocess.run(command + ["logs", "--no-color"], env=project.env, capture_output=True, text=True)
    assert "ready to accept connections" in logs.stdout


@pytest.mark.parametrize("durable, expected", [(None, "off"), ("yes", "on")])
def test_durable_decides_whether_the_dev_server_waits_for_the_disk(project, durable, expected):
    if durable is not None:
        project.env["PGPARITY_DURABLE"] = durable
    assert project.run("db.up").returncode == 0
    with psycopg.connect(project.url()) as conn:
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            assert conn.execute("select current_setting(%s)", (name,)).fetchone()[0] == expected, name


def following(project, repository: str, prod_url: str) -> None:
    """The project as a developer leaves it: no image pinned, production's URL set."""
    del project.env["PGPARITY_IMAGE"]
    project.env.update(PGPARITY_IMAGE_REPOSITORY=repository, PGPARITY_PROD_URL=prod_url)


def test_the_dev_server_follows_production_to_another_major_and_says_how_to_leave_the_old_volume(
        project, docker_client, image_repository, pg_server, newer_server):
    """Production moves to a newer major: db.up follows it, the volume of the old major is named with the way
    out, instead of a timeout; after `db.down --volumes` the dev server runs production's major."""
    following(project, image_repository, pg_server.url())
    assert project.run("db.snapshot", "--from", "prod").returncode == 0
    assert project.run("db.up").returncode == 0
    container = docker_client.containers.get(f"{project.name}-db-1")
    old_major = container.attrs["Config"]["Image"].rsplit(":", 1)[1]
    assert container.attrs["Config"]["Image"] == f"{image_repository}:{old_major}"

    project.env["PGPARITY_PROD_URL"] = newer_server.url()
    assert project.run("db.snapshot", "--from", "prod").returncode == 0
    new_major = json.loads((project.root / "parity" / "production.json").read_text())["server"]["version_num"] // 10000
    switched = project.run("db.up")
    assert_one_line_error(switched, f"cannot start on its volume {project.name}_data")
    assert f"initialized by PostgreSQL version {old_major}" in switched.stderr
    assert "`invoke db.down --volumes`" in switched.stderr and f"{image_repository}:{new_major}" in switched.stderr

    assert project.run("db.down", "--volumes", "--yes").returncode == 0
    up = project.run("db.up")
    assert up.returncode == 0 and "warning" not in up.stderr, up.stderr
    assert json.loads(project.run("db.status", "--json").stdout)["server_version"].startswith(f"{new_major}.")


def test_a_pinned_image_of_another_major_is_a_warning_in_up_and_a_failure_in_doctor(
        project, test_image, image_repository, newer_server):
    project.env["PGPARITY_PROD_URL"] = newer_server.url()
    assert project.run("db.snapshot", "--from", "prod").returncode == 0
    production = json.loads((project.root / "parity" / "production.json").read_text())["server"]["version_num"]
    prod_release = f"{production // 10000}.{production % 10000}"

    up = project.run("db.up")
    assert up.returncode == 0, up.stderr
    dev_release = json.loads(project.run("db.status", "--json").stdout)["server_version"].split(" ")[0]
    sentence = f"production runs PostgreSQL {prod_release}, dev runs {dev_release} ({test_image})"
    follows = f"{image_repository}:{production // 10000}"
    assert f"pgparity: warning: {sentence}; unset PGPARITY_IMAGE so that db.up runs {follows}" in up.stderr

    doctor = project.run("db.doctor")
    assert doctor.returncode == 2
    assert f"✗ server version: {sentence} — unset PGPARITY_IMAGE" in doctor.stdout


def test_a_volume_initialised_with_another_password_stops_up_at_once_with_the_way_out(project):
    assert project.run("db.up").returncode == 0
    assert project.run("db.down").returncode == 0
    started = time.monotonic()
    refused = project.run("db.up", extra={"PGPARITY_PASSWORD": "another-pw"})
    assert time.monotonic() - started < 30  # PGPARITY_TIMEOUT is 90
    assert_one_line_error(refused, 'password authentication failed for user "postgres"')
    assert "PGPARITY_PASSWORD" in refused.stderr and "`invoke db.down --volumes`" in refused.stderr
    assert "another-pw" not in refused.stderr


def own_compose(project, *edits: tuple[str, str]) -> None:
    """The project's compose/compose.yaml: the shipped one with each (old, new) text replaced."""
    text = (ROOT / "src" / "pgparity" / "compose.yaml").read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    (project.root / "compose").mkdir(exist_ok=True)
    (project.root / "compose" / "compose.yaml").write_text(text)


@pytest.mark.parametrize("edit, key", [
    (("shm_size: 256m", "shm_size: lots"), "services.db.shm_size: 'lots' is not a size"),  # B33
    (("shm_size: 256m", "shm_size: 256m\n    container_name: mine"), "services.db.container_name: pgparity cannot"),
    (("shm_size: 256m", "shm_size: 256m\n    labels: {team: '${PGPARITY_NOPE}'}"),
     "services.db.labels.team: ${PGPARITY_NOPE} is not set"),
])
def test_a_bad_compose_file_leaves_the_running_server_running(project, docker_client, edit, key):
    own_compose(project)
    assert project.run("db.up").returncode == 0
    before = docker_client.containers.get(f"{project.name}-db-1")
    own_compose(project, edit)
    result = project.run("db.up")
    assert_one_line_error(result, f"compose/compose.yaml: {key}")
    after = docker_client.containers.get(f"{project.name}-db-1")
    assert after.id == before.id and after.status == "running"


def test_user_labels_and_every_volume_reach_the_container(project, docker_client):  # B32, B36
    (project.root / "conf").mkdir()
    (project.root / "conf" / "note.txt").write_text("from the host\n")
    own_compose(project, ("shm_size: 256m", "shm_size: 256m\n    labels:\n      - team=${PGPARITY_DATABASE}"),
                ("      - data:/var/lib/postgresql/data",
                 "      - data:/var/lib/postgresql/data\n      - wal:/wal\n      - ../conf:/etc/pgparity-conf:ro"),  # relative to the compose file
                ("volumes:\n  data:", "volumes:\n  data:\n  wal:"))
    assert project.run("db.up").returncode == 0
    container = docker_client.containers.get(f"{project.name}-db-1")
    assert container.labels["team"] == "app" and container.labels["pgparity.project"] == project.name
    mounts = {mount["Destination"]: mount for mount in container.attrs["Mounts"]}
    assert mounts["/wal"]["Name"] == f"{project.name}_wal" and mounts["/wal"]["RW"] is True
    assert mounts["/etc/pgparity-conf"]["Source"] == str((project.root / "conf").resolve())
    assert mounts["/etc/pgparity-conf"]["RW"] is False
    assert docker_client.volumes.get(f"{project.name}_wal").attrs["Labels"]["pgparity.project"] == project.name
    read = project.run("db.psql", "-c", "select pg_read_file('/etc/pgparity-conf/note.txt')")
    assert "from the host" in read.stdout, read.stderr
    assert container.attrs["HostConfig"]["ShmSize"] == 256 * 1024**2

    own_compose(project, ("shm_size: 256m", "shm_size: 256m\n    labels:\n      - team=platform"))
    again = project.run("db.up")
    assert again.returncode == 0 and "recreated" in again.stdout, again.stderr
    assert docker_client.containers.get(f"{project.name}-db-1").labels["team"] == "platform"

    own_compose(project, ("      - data:/var/lib/postgresql/data", "      - data:/var/lib/postgresql/data\n      - wal:/wal"),
                ("volumes:\n  data:", "volumes:\n  data:\n  wal:"))
    gone = project.run("db.down", "--volumes", "--yes")
    assert gone.returncode == 0 and f"volume {project.name}_wal" in gone.stdout, gone.stderr
    assert docker_client.volumes.list(filters={"label": f"pgparity.project={project.name}"}) == []


def test_a_port_beyond_loopback_is_refused_unless_allowed_and_then_warned(project, docker_client):  # B34
    port = project.env["PGPARITY_PORT"]
    own_compose(project, ('"127.0.0.1:${PGPARITY_PORT}:5432"', '"0.0.0.0:${PGPARITY_PORT}:5432"'))
    refused = project.run("db.up")
    assert_one_line_error(refused, f"compose/compose.yaml: services.db.ports[0]: publishes port {port} on 0.0.0.0")
    assert "PGPARITY_ALLOW_PUBLIC_PORT=true" in refused.stderr
    assert docker_client.containers.list(all=True, filters={"label": f"pgparity.project={project.name}"}) == []

    allowed = project.run("db.up", extra={"PGPARITY_ALLOW_PUBLIC_PORT": "true"})
    assert allowed.returncode == 0, allowed.stderr
    assert "pgparity: warning: " in allowed.stderr and f"port {port} is published on 0.0.0.0" in allowed.stderr
    assert f"@0.0.0.0:{port}/app" in allowed.stdout
    bindings = docker_client.containers.get(f"{project.name}-db-1").attrs["HostConfig"]["PortBindings"]["5432/tcp"]
    assert bindings == [{"HostIp": "0.0.0.0", "HostPort": port}]


def status_of(project: str, user: str | None) -> engines.Status:
    return engines.Status(project, f"{project}-db-1", "postgres:15", "running", "-", None, f"{project}_data", None,
                          None, user, None if user is None else f"/home/{user}/{project}")


def test_down_all_acts_on_your_own_environments_unless_everyone(monkeypatch):
    monkeypatch.setenv("LOGNAME", "ann")
    mine, theirs, unknown = status_of("shop", "ann"), status_of("shop-bob", "bob"), status_of("old", None)
    assert engines.owned([mine, theirs, unknown], everyone=False) == ([mine], [theirs, unknown])
    assert engines.owned([mine, theirs, unknown], everyone=True) == ([mine, theirs, unknown], [])


def test_the_owner_is_the_login_name_else_the_user_id(monkeypatch, tmp_path):
    monkeypatch.setenv("LOGNAME", "ann")
    assert engines.owner_labels(tmp_path) == {engines.LABEL_USER: "ann", engines.LABEL_FOLDER: str(tmp_path)}

    def nameless() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(engines.getpass, "getuser", nameless)
    assert engines.owner_labels() == {engines.LABEL_USER: f"uid-{engines.os.getuid()}"}
