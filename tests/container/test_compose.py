"""Reading the db service from compose/compose.yaml."""

import pytest
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
        ("${MISSING-d}", "d"), ("$$A", "$A"), ("${MISSING}", ""),
    ],
)
def test_interpolate(text, expected):
    assert compose.interpolate(text, {"A": "1", "EMPTY": ""}) == expected


def test_project_compose_file_gives_the_db_service():
    spec = compose.load_service(ROOT / "compose" / "compose.yaml", VARIABLES)
    assert spec.image == "postgres:15"
    assert dict(spec.environment)["POSTGRES_PASSWORD"] == "pw"
    assert spec.command == ("postgres", "-c", "timezone=UTC", "-c", "datestyle=ISO, MDY")
    assert (spec.port.host_ip, spec.port.host_port, spec.port.container_port) == ("127.0.0.1", 55432, 5432)
    assert spec.volume == "data" and spec.data_path == "/var/lib/postgresql/data"
    check = dict(spec.healthcheck)
    assert "127.0.0.1" in check["test"] and check["interval"] == 2 * 10**9


@pytest.mark.parametrize("value, ns", [("2s", 2 * 10**9), ("500ms", 5 * 10**8), ("1m30s", 90 * 10**9)])
def test_durations(value, ns):
    assert compose.nanoseconds(value) == ns


@pytest.mark.parametrize("text", ["services: [", "services: {}\n", "services:\n  db:\n    image: x\n"])
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
