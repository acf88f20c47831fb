"""Read the db service from the compose file: the one source of truth for the container's spec."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pgparity.errors import ConfigError

SERVICE = "db"
VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<sep>:?-)(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
UNIT_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


@dataclass(frozen=True)
class PortBinding:
    host_ip: str
    host_port: int
    container_port: int


@dataclass(frozen=True)
class ServiceSpec:
    """What the container is made of, after variables are filled in."""

    image: str
    environment: tuple[tuple[str, str], ...]
    command: tuple[str, ...]
    port: PortBinding
    volume: str
    data_path: str
    healthcheck: tuple[tuple[str, Any], ...]
    shm_size: str | None


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Fill `${NAME}`, `${NAME:-default}`, `${NAME-default}` and `$NAME` as compose does; `$$` is `$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        value = variables.get(name)
        sep = match.group("sep")
        if sep == ":-" and not value or sep == "-" and value is None:
            return match.group("default")
        return value or ""

    return VARIABLE.sub(replace, text)


def _fill(node: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [_fill(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: _fill(value, variables) for key, value in node.items()}
    return node


def nanoseconds(value: str) -> int:
    """A compose duration such as `1m30s` or `500ms` in nanoseconds, as the Docker API wants."""
    parts = DURATION.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"not a duration: {value!r}")
    return int(sum(float(number) * UNIT_NS[unit] for number, unit in parts))


def _healthcheck(raw: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    check: dict[str, Any] = {"test": list(raw["test"])}
    for key in ("interval", "timeout", "start_period"):
        if key in raw:
            check[key] = nanoseconds(str(raw[key]))
    if "retries" in raw:
        check["retries"] = int(raw["retries"])
    return tuple(sorted(check.items()))


def _environment(raw: Any, variables: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """`environment:` in either of compose's forms, a mapping or a list of `KEY=value`; a key without a
    value takes the variable of that name, and is left out when there is none, as compose does."""
    if isinstance(raw, Mapping):
        pairs = [(str(key), value) for key, value in raw.items()]
    elif isinstance(raw, list):
        pairs = [(key, value if sep else None) for key, sep, value in (str(item).partition("=") for item in raw)]
    else:
        raise ValueError(f"environment must be a mapping or a list of KEY=value, not {raw!r}")
    filled = [(key, variables.get(key) if value is None else str(value)) for key, value in pairs]
    return tuple(sorted((key, value) for key, value in filled if value is not None))


def _port(raw: str) -> PortBinding:
    host_ip, host_port, container_port = raw.rsplit(":", 2)
    return PortBinding(host_ip, int(host_port), int(container_port))


def _volume(raw: str) -> tuple[str, str]:
    name, path = raw.split(":", 1)
    return name, path.split(":")[0]


def load_service(path: Path, variables: Mapping[str, str]) -> ServiceSpec:
    """Parse the compose file and return the db service; one ConfigError line names the file on failure."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the compose file ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})".replace("\n", " ")) from None
    try:
        service = _fill(document["services"][SERVICE], variables)
        command = service.get("command", ["postgres"])
        volume, data_path = _volume(service["volumes"][0])
        return ServiceSpec(
            image=service["image"],
            environment=_environment(service.get("environment", {}), variables),
            command=tuple(shlex.split(command) if isinstance(command, str) else map(str, command)),
            port=_port(service["ports"][0]),
            volume=volume,
            data_path=data_path,
            healthcheck=_healthcheck(service["healthcheck"]),
            shm_size=service.get("shm_size"),
        )
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise ConfigError(f"{path}: service {SERVICE!r} is incomplete or malformed ({error!r})") from None
