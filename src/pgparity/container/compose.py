"""Read the db service from the compose file: the one source of truth for the container's spec.

Every key of the service is either honoured or refused: a key pgparity cannot give the container is an
error naming the file and the key, never dropped. Values Docker would only reject once the old container is
gone (a size, a port, a path) are checked here, so a bad compose file never takes a running server down.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pgparity.errors import ConfigError, shown

SERVICE = "db"
SERVER_PORT = 5432  # the port PostgreSQL listens on in the container
VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<sep>:?[-?+])(?P<default>[^}]*))?\}"
                      r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
UNIT_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
SIZE = re.compile(r"(\d+(?:\.\d+)?) ?([kmgt]?)i?b?", re.IGNORECASE)
UNIT_BYTES = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
RESERVED_LABELS = ("pgparity.", "com.docker.compose.")  # pgparity's own labels, and those it sets for compose
RESTART = ("no", "always", "unless-stopped", "on-failure")
PUBLIC_SETTING = "PGPARITY_ALLOW_PUBLIC_PORT"


class Invalid(ValueError):
    """One value of the service that pgparity cannot use; `key` is where it is, under `services.db`."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class PortBinding:
    host_ip: str  # an address; 0.0.0.0 or :: when the compose file names none (every interface)
    host_port: int | None  # None: the engine picks a free one
    container_port: int
    protocol: str = "tcp"

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.host_ip).is_loopback

    @property
    def wildcard(self) -> bool:
        return ipaddress.ip_address(self.host_ip).is_unspecified


@dataclass(frozen=True)
class Mount:
    """A named volume (`source` as the compose file names it) or a bind mount (`source` an absolute host path)."""

    kind: str  # "volume" or "bind"
    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class ServiceSpec:
    """What the container is made of, after variables are filled in. The first mount is the data volume."""

    image: str
    environment: tuple[tuple[str, str], ...]
    command: tuple[str, ...]
    ports: tuple[PortBinding, ...]
    mounts: tuple[Mount, ...]
    healthcheck: tuple[tuple[str, Any], ...]
    shm_size: int | None = None  # bytes
    labels: tuple[tuple[str, str], ...] = ()
    user: str | None = None
    tmpfs: tuple[tuple[str, str], ...] = ()  # target, mount options
    ulimits: tuple[tuple[str, int, int], ...] = ()  # name, soft, hard
    restart: tuple[str, int] | None = None  # policy, retries (on-failure only)

    @property
    def volume(self) -> str:
        return self.mounts[0].source

    @property
    def data_path(self) -> str:
        return self.mounts[0].target

    @property
    def server(self) -> PortBinding:
        """The binding through which the host reaches PostgreSQL."""
        return next(port for port in self.ports if (port.container_port, port.protocol) == (SERVER_PORT, "tcp"))


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Fill `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?why}`, `${NAME:+other}` and `$NAME` as
    compose does; `$$` is `$`. A variable that is not set, without a default, is an error: compose would fill
    in an empty string, which hides the typo."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        value, sep, given = variables.get(name), match.group("sep") or "", match.group("default")
        present = bool(value) if sep.startswith(":") else value is not None
        if sep.endswith("-"):
            return value if present else given
        if sep.endswith("+"):
            return given if present else ""
        if value is None or sep.endswith("?") and not present:
            why = f" ({given})" if sep.endswith("?") and given else ""
            state = "is empty" if value == "" else "is not set"
            raise ValueError(f"${{{name}}} {state}{why}; pgparity sets {', '.join(sorted(variables))}, "
                             f"any other variable needs a default: ${{{name}:-value}}")
        return value

    return VARIABLE.sub(replace, text)


def _fill(node: Any, variables: Mapping[str, str], key: str) -> Any:
    if isinstance(node, str):
        try:
            return interpolate(node, variables)
        except ValueError as error:
            raise Invalid(key, str(error)) from None
    if isinstance(node, list):
        return [_fill(item, variables, f"{key}[{index}]") for index, item in enumerate(node)]
    if isinstance(node, dict):
        return {name: _fill(value, variables, f"{key}.{name}") for name, value in node.items()}
    return node


def nanoseconds(value: str) -> int:
    """A compose duration such as `1m30s` or `500ms` in nanoseconds, as the Docker API wants."""
    parts = DURATION.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"not a duration: {value!r}")
    return int(sum(float(number) * UNIT_NS[unit] for number, unit in parts))


def size_in_bytes(value: Any) -> int:
    """A compose size (`256m`, `1g`, `512kb`, plain bytes) in bytes; the units are powers of 1024, as Docker's."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    found = SIZE.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None or float(found.group(1)) <= 0:
        raise ValueError(f"{value!r} is not a size: bytes, or a number with b, k, m or g (256m, 1g)")
    return int(float(found.group(1)) * UNIT_BYTES[found.group(2).lower()])


def _mapping(raw: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise Invalid(key, f"must be a mapping, not {raw!r}")
    return raw


def _known(raw: Mapping[str, Any], key: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    for name in raw:
        if name not in known:
            raise Invalid(f"{key}.{name}", f"pgparity cannot honour this key (it reads {', '.join(known)})")
    return raw


def _pairs(raw: Any, key: str, what: str) -> list[tuple[str, str | None]]:
    """`environment:` or `labels:` in either of compose's forms: a mapping, or a list of `KEY=value`."""
    if isinstance(raw, Mapping):
        return [(str(name), None if value is None else str(value)) for name, value in raw.items()]
    if isinstance(raw, list):
        return [(name, value if sep else None) for name, sep, value in (str(item).partition("=") for item in raw)]
    raise Invalid(key, f"{what} must be a mapping or a list of KEY=value, not {raw!r}")


def _environment(raw: Any, variables: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """A key without a value takes the variable of that name, and is left out when there is none, as compose does."""
    filled = [(name, variables.get(name) if value is None else value)
              for name, value in _pairs(raw, "environment", "environment")]
    return tuple(sorted((name, value) for name, value in filled if value is not None))


def _labels(raw: Any) -> tuple[tuple[str, str], ...]:
    labels = _pairs(raw, "labels", "labels")
    for name, _ in labels:
        if name.startswith(RESERVED_LABELS):
            raise Invalid(f"labels.{name}", f"labels beginning {' or '.join(RESERVED_LABELS)} are pgparity's own")
    return tuple(sorted((name, value or "") for name, value in labels))


def _command(raw: Any, key: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(shlex.split(raw))
    if isinstance(raw, list) and all(isinstance(item, (str, int, float)) for item in raw):
        return tuple(map(str, raw))
    raise Invalid(key, f"must be a string or a list of strings, not {raw!r}")


def _healthcheck(raw: Any) -> tuple[tuple[str, Any], ...]:
    raw = _known(_mapping(raw, "healthcheck"), "healthcheck",
                 ("test", "interval", "timeout", "start_period", "retries", "disable"))
    if raw.get("disable") is True:
        return (("test", ["NONE"]),)
    test = raw.get("test")
    shell = isinstance(test, str)  # a string is run by the container's shell, as compose runs it
    check: dict[str, Any] = {"test": ["CMD-SHELL", test] if shell else list(_command(test, "healthcheck.test"))}
    for name in ("interval", "timeout", "start_period"):
        if name in raw:
            try:
                check[name] = nanoseconds(str(raw[name]))
            except ValueError as error:
                raise Invalid(f"healthcheck.{name}", str(error)) from None
    if "retries" in raw:
        check["retries"] = _number(raw["retries"], "healthcheck.retries", 0)
    return tuple(sorted(check.items()))


def _number(raw: Any, key: str, least: int, most: int | None = None) -> int:
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.lstrip("-").isdigit() or int(text) < least or most and int(text) > most:
        bounds = f"between {least} and {most}" if most else f"at least {least}"
        raise Invalid(key, f"must be a whole number {bounds}, not {raw!r}")
    return int(text)


def _address(text: str, key: str) -> str:
    address = "127.0.0.1" if text == "localhost" else text.strip("[]")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise Invalid(key, f"{text!r} is not an IP address to bind") from None


def _port(raw: Any, key: str) -> PortBinding:
    """A port in the short syntax (`[IP:][HOST:]CONTAINER[/PROTOCOL]`) or the long one."""
    if isinstance(raw, Mapping):
        raw = _known(raw, key, ("target", "published", "host_ip", "protocol", "mode"))
        ip, published, target, protocol = (raw.get("host_ip"), raw.get("published"), raw.get("target"),
                                           raw.get("protocol", "tcp"))
        if raw.get("mode", "host") not in ("host", "ingress"):
            raise Invalid(f"{key}.mode", f"must be host or ingress, not {raw['mode']!r}")
    elif isinstance(raw, (str, int)) and not isinstance(raw, bool):
        text, _, protocol = str(raw).partition("/")
        parts = text.rsplit(":", 2)  # an IPv6 address keeps its colons, with or without brackets
        ip, published, target = parts[0] if len(parts) == 3 else None, parts[-2] if len(parts) > 1 else None, parts[-1]
    else:
        raise Invalid(key, f"must be a port such as \"127.0.0.1:5432:5432\", not {raw!r}")
    if any("-" in str(part) for part in (published, target) if part is not None):
        raise Invalid(key, f"{raw!r}: port ranges are not supported; publish each port")
    if (protocol or "tcp") not in ("tcp", "udp"):
        raise Invalid(key, f"{raw!r}: the protocol must be tcp or udp")
    if target is None or str(target) == "":
        raise Invalid(key, f"{raw!r} names no container port")
    host_port = None if published in (None, "") else _number(published, key, 1, 65535)
    return PortBinding(_address(str(ip), key) if ip else "0.0.0.0", host_port, _number(target, key, 1, 65535),
                       protocol or "tcp")


def _ports(raw: Any, expected: str, allow_public: bool) -> tuple[PortBinding, ...]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("ports", f"must list the port PostgreSQL is published on (\"127.0.0.1:${{PGPARITY_PORT}}:"
                               f"{SERVER_PORT}\"), not {raw!r}")
    ports = tuple(_port(item, f"ports[{index}]") for index, item in enumerate(raw))
    for index, port in enumerate(ports):
        if not port.loopback and not allow_public:
            raise Invalid(f"ports[{index}]", f"publishes port {port.host_port or '(any)'} on {port.host_ip}, beyond "
                                             f"this machine's loopback; bind it to 127.0.0.1, or set "
                                             f"{PUBLIC_SETTING}=true to expose the dev server")
    server = next((port for port in ports if (port.container_port, port.protocol) == (SERVER_PORT, "tcp")), None)
    if server is None:
        raise Invalid("ports", f"publishes no port to the container's {SERVER_PORT}, where PostgreSQL listens")
    if str(server.host_port) != expected:
        raise Invalid("ports", f"publishes {SERVER_PORT} on port {server.host_port or '(any)'}, but pgparity connects "
                               f"to PGPARITY_PORT, {expected}: write \"127.0.0.1:${{PGPARITY_PORT}}:{SERVER_PORT}\"")
    return ports


def _mount(raw: Any, key: str, folder: Path, declared: Mapping[str, Any]) -> Mount | tuple[str, str]:
    """A volume in the short syntax (`SOURCE:TARGET[:ro|rw]`) or the long one; a tmpfs is (target, options)."""
    if isinstance(raw, Mapping):
        raw = _known(raw, key, ("type", "source", "target", "read_only", "tmpfs"))
        kind, source, target, read_only = raw.get("type"), raw.get("source"), raw.get("target"), raw.get("read_only")
        if kind == "tmpfs":
            return _tmpfs_entry(raw.get("target"), _mapping(raw.get("tmpfs", {}), f"{key}.tmpfs"), key)
        if kind not in ("volume", "bind"):
            raise Invalid(f"{key}.type", f"must be volume, bind or tmpfs, not {kind!r}")
        if not isinstance(read_only, (bool, type(None))):
            raise Invalid(f"{key}.read_only", f"must be true or false, not {read_only!r}")
        read_only = bool(read_only)
    elif isinstance(raw, str):
        parts = raw.split(":")
        if len(parts) not in (2, 3):
            raise Invalid(key, f"{raw!r} must be SOURCE:TARGET or SOURCE:TARGET:ro (a volume needs a name)")
        source, target, mode = parts[0], parts[1], (parts[2:] or ["rw"])[0]
        if mode not in ("ro", "rw"):
            raise Invalid(key, f"{raw!r}: the mode must be ro or rw")
        kind, read_only = "bind" if source.startswith((".", "/", "~")) else "volume", mode == "ro"
    else:
        raise Invalid(key, f"must be SOURCE:TARGET or a mapping, not {raw!r}")
    if not isinstance(source, str) or not source or not isinstance(target, str) or not target.startswith("/"):
        raise Invalid(key, f"{raw!r} needs a source and an absolute target path")
    if kind == "volume" and source not in declared:
        raise Invalid(key, f"volume {source!r} is not declared under the top-level volumes:")
    if kind == "bind":
        source = str((folder / Path(source).expanduser()).resolve())
        if ":" in source:
            raise Invalid(key, f"the host path {source} holds a ':', which Docker cannot bind")
    return Mount(kind, source, target, read_only)


def _tmpfs_entry(target: Any, options: Mapping[str, Any], key: str) -> tuple[str, str]:
    if not isinstance(target, str) or not target.startswith("/"):
        raise Invalid(key, f"a tmpfs needs an absolute target path, not {target!r}")
    _known(options, f"{key}.tmpfs", ("size", "mode"))
    given = []
    if "size" in options:
        given.append(f"size={_size(options['size'], f'{key}.tmpfs.size')}")
    if "mode" in options:
        given.append(f"mode={options['mode']}")
    return target, ",".join(given)


def _size(raw: Any, key: str) -> int:
    try:
        return size_in_bytes(raw)
    except ValueError as error:
        raise Invalid(key, str(error)) from None


def _tmpfs(raw: Any) -> list[tuple[str, str]]:
    entries = [raw] if isinstance(raw, str) else raw
    if not isinstance(entries, list) or not all(isinstance(entry, str) for entry in entries):
        raise Invalid("tmpfs", f"must be a path or a list of paths, not {raw!r}")
    found = []
    for index, entry in enumerate(entries):
        target, _, options = entry.partition(":")
        if not target.startswith("/"):
            raise Invalid(f"tmpfs[{index}]", f"{entry!r} must be an absolute path")
        found.append((target, options))
    return found


def _ulimits(raw: Any) -> tuple[tuple[str, int, int], ...]:
    limits = []
    for name, value in _mapping(raw, "ulimits").items():
        key = f"ulimits.{name}"
        if isinstance(value, Mapping):
            _known(value, key, ("soft", "hard"))
            if set(value) != {"soft", "hard"}:
                raise Invalid(key, "needs both soft and hard")
            soft, hard = _number(value["soft"], f"{key}.soft", -1), _number(value["hard"], f"{key}.hard", -1)
        else:
            soft = hard = _number(value, key, -1)
        limits.append((str(name), soft, hard))
    return tuple(sorted(limits))


def _restart(raw: Any) -> tuple[str, int] | None:
    policy, _, retries = ("no" if raw is False else str(raw)).partition(":")
    if policy not in RESTART or retries and policy != "on-failure":
        raise Invalid("restart", f"must be {', '.join(RESTART)} or on-failure:N, not {raw!r}")
    return None if policy == "no" else (policy, _number(retries, "restart", 0) if retries else 0)


def _declared_volumes(document: Mapping[str, Any], variables: Mapping[str, str]) -> Mapping[str, Any]:
    """The top-level `volumes:`; pgparity creates each one itself (`<project>_<name>`), so none may carry options."""
    declared = _fill(document.get("volumes") or {}, variables, "volumes")
    for name, options in _mapping(declared, "volumes").items():
        if options:
            raise Invalid(f"volumes.{name}", "pgparity creates this volume itself (<project>_<name>) and cannot "
                          f"honour {', '.join(options) if isinstance(options, Mapping) else repr(options)}")
    return declared


def _service(service: Mapping[str, Any], variables: Mapping[str, str], folder: Path, declared: Mapping[str, Any],
             allow_public: bool) -> ServiceSpec:
    if not isinstance(service.get("image"), str) or not service["image"]:
        raise Invalid("image", "must name the dev server's image (image: ${PGPARITY_IMAGE})")
    volumes = service.get("volumes")
    if not isinstance(volumes, list) or not volumes:
        raise Invalid("volumes", "must list the data volume first (data:/var/lib/postgresql/data)")
    entries = [_mount(item, f"volumes[{index}]", folder, declared) for index, item in enumerate(volumes)]
    mounts = tuple(entry for entry in entries if isinstance(entry, Mount))
    if not isinstance(entries[0], Mount) or entries[0].kind != "volume" or entries[0].read_only:
        raise Invalid("volumes[0]", "the first volume holds the data: a named volume, writable")
    read = {name: parse(service[name]) for name, parse in OPTIONAL.items() if name in service}
    return ServiceSpec(
        image=service["image"],
        environment=_environment(service.get("environment", {}), variables),
        command=_command(service.get("command", ["postgres"]), "command"),
        ports=_ports(service.get("ports"), variables["PGPARITY_PORT"], allow_public),
        mounts=mounts,
        healthcheck=read.get("healthcheck", ()),
        shm_size=read.get("shm_size"),
        labels=read.get("labels", ()),
        user=read.get("user"),
        tmpfs=tuple(sorted(read.get("tmpfs", []) + [entry for entry in entries if not isinstance(entry, Mount)])),
        ulimits=read.get("ulimits", ()),
        restart=read.get("restart"),
    )


# The keys a service may leave out, each with its reader.
OPTIONAL: dict[str, Callable[[Any], Any]] = {
    "healthcheck": _healthcheck,
    "shm_size": lambda raw: _size(raw, "shm_size"),
    "labels": _labels,
    "user": str,
    "tmpfs": _tmpfs,
    "ulimits": _ulimits,
    "restart": _restart,
}
READ = ("image", "environment", "command", "ports", "volumes", *OPTIONAL)


def load_service(path: Path, variables: Mapping[str, str], allow_public: bool = False) -> ServiceSpec:
    """Parse the compose file and return the db service; one ConfigError line names the file and the key on
    failure. A port published beyond loopback is refused unless `allow_public`."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{shown(path)}: cannot read the compose file ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{shown(path)}: not valid YAML ({error})".replace("\n", " ")) from None
    services = document.get("services") if isinstance(document, Mapping) else None
    service = services.get(SERVICE) if isinstance(services, Mapping) else None
    if not isinstance(service, Mapping):
        raise ConfigError(f"{shown(path)}: no service {SERVICE!r} under services:")
    try:
        declared = _declared_volumes(document, variables)
    except Invalid as error:
        raise ConfigError(f"{shown(path)}: {error.key}: {error}") from None
    try:
        for name in service:
            if name not in READ and not str(name).startswith("x-"):  # x- keys are compose's comments
                raise Invalid(str(name), f"pgparity cannot honour this key; it reads {', '.join(READ)}")
        filled = {name: _fill(value, variables, name) for name, value in service.items()
                  if not str(name).startswith("x-")}
        return _service(filled, variables, path.parent, declared, allow_public)
    except Invalid as error:
        raise ConfigError(f"{shown(path)}: services.{SERVICE}.{error.key}: {error}".replace("\n", " ")) from None
