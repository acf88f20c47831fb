"""Reading the db service from compose/compose.yaml."""

import re

import pytest
import yaml
from conftest import ROOT

from pgparity.container import compose
from pgparity.errors import ConfigError

VARIABLES = {
    "PGPARITY_IMAGE": "postgres:15", "PGPARITY_USER": "postgres", "PGPARITY_PASSWORD": "pw",
    "PGPARITY_DATABASE": "app", "PGPARITY_PORT": "55432", "PGPARITY_INITDB_ARGS": "--locale=C",
    "PGPARITY_SERVER_ARGS": "-c timezone=UTC -c 'datestyle=ISO, MDY'",
}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("${A}", "1"), ("$A-x", "1-x"), ("${MISSING:-d}", "d"), ("${EMPTY:-d}", "d"), ("${EMPTY-d}", ""),
        ("${MISSING-d}", "d"), ("$$A", "$A"), ("${A:+on}", "on"), ("${EMPTY:+on}", ""), ("${EMPTY+on}", "on"),
        ("${MISSING+on}", ""), ("${EMPTY?}", ""),
    ],
)
def test_interpolate(text, expected):
    assert compose.interpolate(text, {"A": "1", "EMPTY": ""}) == expected


@pytest.mark.parametrize("text, said", [("${MISSING}", "${MISSING} is not set"), ("$MISSING", "${MISSING} is not set"),
                                        ("${EMPTY:?give it}", "${EMPTY} is empty (give it)")])
def test_a_variable_that_is_not_set_is_an_error_not_an_empty_string(text, said):
    with pytest.raises(ValueError, match=re.escape(said) + ".*pgparity sets A, EMPTY"):
        compose.interpolate(text, {"A": "1", "EMPTY": ""})


def test_project_compose_file_gives_the_db_service():
    spec = compose.load_service(ROOT / "compose" / "compose.yaml", VARIABLES)
    assert spec.image == "postgres:15"
    assert dict(spec.environment)["POSTGRES_PASSWORD"] == "pw"
    assert spec.command == ("postgres", "-c", "timezone=UTC", "-c", "datestyle=ISO, MDY")
    assert spec.ports == (compose.PortBinding("127.0.0.1", 55432, 5432),) and spec.server == spec.ports[0]
    assert spec.mounts == (compose.Mount("volume", "data", "/var/lib/postgresql/data"),)
    assert spec.volume == "data" and spec.data_path == "/var/lib/postgresql/data"
    assert spec.shm_size == 256 * 1024**2 and spec.labels == ()
    check = dict(spec.healthcheck)
    assert "127.0.0.1" in check["test"] and check["interval"] == 2 * 10**9


@pytest.mark.parametrize("value, ns", [("2s", 2 * 10**9), ("500ms", 5 * 10**8), ("1m30s", 90 * 10**9)])
def test_durations(value, ns):
    assert compose.nanoseconds(value) == ns


@pytest.mark.parametrize("text", ["services: [", "services: {}\n", "services:\n  db:\n    image: x\n", "[]", ""])
def test_malformed_compose_file_is_one_line_naming_it(tmp_path, text):
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        compose.load_service(path, VARIABLES)
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_missing_compose_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the compose file"):
        compose.load_service(tmp_path / "nope.yaml", VARIABLES)


SERVICE = """services:
  db:
    image: postgres:15
    environment: {environment}
    ports: ["127.0.0.1:55432:5432"]
    volumes: ["data:/var/lib/postgresql/data"]
    healthcheck: {{test: ["CMD", "pg_isready"]}}
volumes:
  data:
"""


def test_environment_in_list_form_is_read_like_the_mapping(tmp_path):  # B35
    path = tmp_path / "compose.yaml"
    path.write_text(SERVICE.format(environment="""
      - POSTGRES_USER=${PGPARITY_USER}
      - POSTGRES_PASSWORD=${PGPARITY_PASSWORD}
      - OPTIONS=a=b
      - PGPARITY_DATABASE
      - UNSET_HERE"""))
    listed = compose.load_service(path, VARIABLES).environment
    path.write_text(SERVICE.format(environment="""
      POSTGRES_USER: ${PGPARITY_USER}
      POSTGRES_PASSWORD: ${PGPARITY_PASSWORD}
      OPTIONS: a=b
      PGPARITY_DATABASE:
      UNSET_HERE:"""))
    assert compose.load_service(path, VARIABLES).environment == listed
    assert dict(listed) == {"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "pw", "OPTIONS": "a=b",
                            "PGPARITY_DATABASE": "app"}


def test_environment_of_another_shape_is_one_line_naming_the_file(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(SERVICE.format(environment="POSTGRES_USER=x"))
    with pytest.raises(ConfigError, match=f"^{path}: .*environment must be a mapping or a list"):
        compose.load_service(path, VARIABLES)


BASE = {
    "image": "postgres:15",
    "ports": ["127.0.0.1:${PGPARITY_PORT}:5432"],
    "volumes": ["data:/var/lib/postgresql/data"],
}


def service(tmp_path, declared=None, allow_public=False, **keys):
    """The spec of a db service made of BASE and `keys` (None removes a key), written as a compose file."""
    path = tmp_path / "compose.yaml"
    db = {key: value for key, value in {**BASE, **keys}.items() if value is not None}
    path.write_text(yaml.safe_dump({"services": {"db": db}, "volumes": declared or {"data": None}}))
    return compose.load_service(path, VARIABLES, allow_public)


def refused(tmp_path, *fragments, declared=None, allow_public=False, **keys):
    with pytest.raises(ConfigError) as caught:
        service(tmp_path, declared, allow_public, **keys)
    said = str(caught.value)
    assert said.startswith(f"{tmp_path / 'compose.yaml'}: ") and "\n" not in said, said
    for fragment in fragments:
        assert fragment in said, said
    return said


def test_labels_in_both_forms_with_variables(tmp_path):  # B32
    mapped = service(tmp_path, labels={"team": "data", "owner": "${PGPARITY_USER}", "empty": None}).labels
    listed = service(tmp_path, labels=["team=data", "owner=${PGPARITY_USER}", "empty"]).labels
    assert mapped == listed == (("empty", ""), ("owner", "postgres"), ("team", "data"))


def test_a_label_with_a_variable_that_is_not_set_names_file_key_and_variable(tmp_path):  # B32
    refused(tmp_path, "services.db.labels.team: ${PGPARITY_NOPE} is not set", "${PGPARITY_NOPE:-value}",
            labels={"team": "${PGPARITY_NOPE}"})
    refused(tmp_path, "services.db.labels[0]: ${PGPARITY_NOPE} is not set", labels=["team=${PGPARITY_NOPE}"])


@pytest.mark.parametrize("name", ["pgparity.project", "pgparity.anything", "com.docker.compose.project"])
def test_labels_in_pgparitys_namespace_are_refused(tmp_path, name):
    refused(tmp_path, f"services.db.labels.{name}: labels beginning pgparity.", labels={name: "mine"})


@pytest.mark.parametrize("raw, ports", [
    (["127.0.0.1:${PGPARITY_PORT}:5432"], [("127.0.0.1", 55432, 5432, "tcp")]),
    (["localhost:55432:5432/tcp"], [("127.0.0.1", 55432, 5432, "tcp")]),
    (["[::1]:55432:5432"], [("::1", 55432, 5432, "tcp")]),
    (["::1:55432:5432"], [("::1", 55432, 5432, "tcp")]),
    (["127.0.0.1:55432:5432", "127.0.0.1::9187", "127.0.0.1:8125:8125/udp"],
     [("127.0.0.1", 55432, 5432, "tcp"), ("127.0.0.1", None, 9187, "tcp"), ("127.0.0.1", 8125, 8125, "udp")]),
    ([{"target": 5432, "published": "55432", "host_ip": "127.0.0.1"}], [("127.0.0.1", 55432, 5432, "tcp")]),
    ([{"target": 5432, "published": 55432, "host_ip": "127.0.0.1", "protocol": "tcp", "mode": "host"}],
     [("127.0.0.1", 55432, 5432, "tcp")]),
])
def test_every_port_in_short_and_long_syntax(tmp_path, raw, ports):
    assert service(tmp_path, ports=raw).ports == tuple(compose.PortBinding(*port) for port in ports)


@pytest.mark.parametrize("raw", [["0.0.0.0:55432:5432"], ["55432:5432"], ["192.168.1.5:55432:5432"],
                                 ["127.0.0.1:55432:5432", "9187"], [{"target": 5432, "published": 55432}],
                                 ["[::]:55432:5432"]])
def test_a_port_beyond_loopback_is_refused_unless_allowed(tmp_path, raw):  # B34
    said = refused(tmp_path, "services.db.ports[", "beyond this machine's loopback", "PGPARITY_ALLOW_PUBLIC_PORT=true",
                   ports=raw)
    assert re.search(r"publishes port (55432|\(any\)) on (0\.0\.0\.0|::|192\.168\.1\.5),", said), said
    assert not all(port.loopback for port in service(tmp_path, ports=raw, allow_public=True).ports)


@pytest.mark.parametrize("raw, key, fragment", [
    (["127.0.0.1:55432-55433:5432"], "ports[0]", "port ranges are not supported"),
    (["127.0.0.1:55432:5432/sctp"], "ports[0]", "the protocol must be tcp or udp"),
    (["127.0.0.1:99999:5432"], "ports[0]", "between 1 and 65535"),
    (["127.0.0.1:x:5432"], "ports[0]", "must be a whole number"),
    (["nowhere:55432:5432"], "ports[0]", "'nowhere' is not an IP address"),
    ([{"target": 5432, "published": 55432, "host_ip": "127.0.0.1", "name": "pg"}], "ports[0].name",
     "pgparity cannot honour this key"),
    ([{"published": 55432, "host_ip": "127.0.0.1"}], "ports[0]", "names no container port"),
    (["127.0.0.1:9187:9187"], "ports", "publishes no port to the container's 5432"),
    (["127.0.0.1:5433:5432"], "ports", "publishes 5432 on port 5433, but pgparity connects to PGPARITY_PORT, 55432"),
    ([], "ports", "must list the port PostgreSQL is published on"),
    ("127.0.0.1:55432:5432", "ports", "must list the port"),
])
def test_bad_ports_name_the_file_and_the_key(tmp_path, raw, key, fragment):
    refused(tmp_path, f"services.db.{key}: ", fragment, ports=raw)


def test_every_volume_named_or_bound_short_or_long_read_only_or_not(tmp_path):  # B36
    (tmp_path / "conf").mkdir()
    spec = service(tmp_path, declared={"data": None, "wal": {}}, volumes=[
        "data:/var/lib/postgresql/data", "wal:/wal:rw", "./conf:/etc/postgresql:ro", "/tmp:/host-tmp",
        {"type": "bind", "source": "./conf", "target": "/conf", "read_only": True},
        {"type": "volume", "source": "wal", "target": "/wal2"},
        {"type": "tmpfs", "target": "/scratch", "tmpfs": {"size": "64m"}},
    ])
    conf = str((tmp_path / "conf").resolve())
    assert spec.mounts == (
        compose.Mount("volume", "data", "/var/lib/postgresql/data"), compose.Mount("volume", "wal", "/wal"),
        compose.Mount("bind", conf, "/etc/postgresql", True), compose.Mount("bind", "/tmp", "/host-tmp"),
        compose.Mount("bind", conf, "/conf", True), compose.Mount("volume", "wal", "/wal2"),
    )
    assert spec.tmpfs == (("/scratch", f"size={64 * 1024**2}"),)


@pytest.mark.parametrize("raw, key, fragment", [
    (["/var/lib/postgresql/data"], "volumes[0]", "must be SOURCE:TARGET"),
    (["data:/var/lib/postgresql/data:z"], "volumes[0]", "the mode must be ro or rw"),
    (["./here:/var/lib/postgresql/data"], "volumes[0]", "the first volume holds the data: a named volume"),
    (["data:/var/lib/postgresql/data:ro"], "volumes[0]", "the first volume holds the data"),
    (["data:/var/lib/postgresql/data", "cache:/cache"], "volumes[1]", "volume 'cache' is not declared"),
    (["data:/var/lib/postgresql/data", "data:relative"], "volumes[1]", "needs a source and an absolute target"),
    (["data:/var/lib/postgresql/data", {"type": "npipe", "source": "x", "target": "/x"}], "volumes[1].type",
     "must be volume, bind or tmpfs"),
    (["data:/var/lib/postgresql/data", {"type": "bind", "source": ".", "target": "/x", "bind": {}}],
     "volumes[1].bind", "pgparity cannot honour this key"),
    (["data:/var/lib/postgresql/data", {"type": "tmpfs", "target": "/x", "tmpfs": {"size": "lots"}}],
     "volumes[1].tmpfs.size", "'lots' is not a size"),
    ([], "volumes", "must list the data volume first"),
])
def test_bad_volumes_name_the_file_and_the_key(tmp_path, raw, key, fragment):
    refused(tmp_path, f"services.db.{key}: ", fragment, volumes=raw)


def test_a_declared_volume_with_options_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r": volumes.data: pgparity creates this volume itself .*external"):
        service(tmp_path, declared={"data": {"external": True}})


@pytest.mark.parametrize("raw, size", [("256m", 256 * 1024**2), ("1g", 1024**3), ("1GB", 1024**3), ("512k", 512 * 1024),
                                       (1048576, 1048576), ("1048576", 1048576), ("1.5g", 3 * 1024**3 // 2)])
def test_shm_size(tmp_path, raw, size):
    assert service(tmp_path, shm_size=raw).shm_size == size


@pytest.mark.parametrize("raw", ["lots", "-1m", "0", "12q", True])
def test_a_bad_shm_size_names_the_file_and_the_key(tmp_path, raw):  # B33
    refused(tmp_path, "services.db.shm_size: ", "is not a size", shm_size=raw)


def test_command_user_tmpfs_ulimits_restart_and_healthcheck(tmp_path):
    spec = service(tmp_path, command=["postgres", "-c", "work_mem=${PGPARITY_DATABASE}"], user="999:999",
                   tmpfs=["/run/x:size=1m", "/tmp"], ulimits={"nofile": {"soft": 1024, "hard": 4096}, "core": 0},
                   restart="on-failure:3", healthcheck={"test": "pg_isready", "interval": "1s", "retries": 3})
    assert spec.command == ("postgres", "-c", "work_mem=app") and spec.user == "999:999"
    assert spec.tmpfs == (("/run/x", "size=1m"), ("/tmp", ""))
    assert spec.ulimits == (("core", 0, 0), ("nofile", 1024, 4096)) and spec.restart == ("on-failure", 3)
    assert dict(spec.healthcheck) == {"test": ["CMD-SHELL", "pg_isready"], "interval": 10**9, "retries": 3}
    assert service(tmp_path, command="postgres -c 'a=b c'").command == ("postgres", "-c", "a=b c")
    assert service(tmp_path, restart="no").restart is None and service(tmp_path, restart=False).restart is None
    assert service(tmp_path, healthcheck={"disable": True}).healthcheck == (("test", ["NONE"]),)
    assert service(tmp_path, **{"x-note": "compose's own comment"}).healthcheck == ()


@pytest.mark.parametrize("keys, key, fragment", [
    ({"container_name": "mine"}, "container_name", "pgparity cannot honour this key; it reads image, environment"),
    ({"networks": ["back"]}, "networks", "pgparity cannot honour this key"),
    ({"env_file": ".env"}, "env_file", "pgparity cannot honour this key"),
    ({"image": None}, "image", "must name the dev server's image"),
    ({"command": {"a": 1}}, "command", "must be a string or a list"),
    ({"healthcheck": {"test": ["CMD", "true"], "start_interval": "1s"}}, "healthcheck.start_interval",
     "pgparity cannot honour this key"),
    ({"healthcheck": {"test": ["CMD", "true"], "interval": "soon"}}, "healthcheck.interval", "not a duration"),
    ({"healthcheck": {"test": ["CMD", "true"], "retries": "many"}}, "healthcheck.retries", "must be a whole number"),
    ({"tmpfs": "relative"}, "tmpfs[0]", "must be an absolute path"),
    ({"ulimits": {"nofile": {"soft": 1}}}, "ulimits.nofile", "needs both soft and hard"),
    ({"ulimits": {"nofile": "lots"}}, "ulimits.nofile", "must be a whole number"),
    ({"restart": "sometimes"}, "restart", "must be no, always, unless-stopped, on-failure"),
    ({"environment": {"A": "${PGPARITY_NOPE}"}}, "environment.A", "${PGPARITY_NOPE} is not set"),
    ({"command": "postgres -c x=${NOPE}"}, "command", "${NOPE} is not set"),
])
def test_keys_pgparity_cannot_honour_and_bad_values_name_the_file_and_the_key(tmp_path, keys, key, fragment):
    refused(tmp_path, f"services.db.{key}: ", fragment, **keys)


def test_a_variable_in_another_service_is_not_read(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump({"services": {"db": BASE, "app": {"image": "${UNSET_ELSEWHERE}"}},
                                    "volumes": {"data": None}}))
    assert compose.load_service(path, VARIABLES).image == "postgres:15"
