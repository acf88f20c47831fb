"""Settings from `.env`, then `.env.local`, then the process environment (later wins).

Every key is prefixed `PGPARITY_`. Each value remembers where it came from, so a bad value is
reported as one line naming the key and its file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tomllib
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from pgparity.errors import ConfigError, shown
from pgparity.folders import write_whole
from pgparity.lazy import later, psycopg
from pgparity.migrations import formats
from pgparity.migrations.model import SEVERITIES, Baseline, HazardPolicy, MigrationPolicy

if TYPE_CHECKING:
    from pgparity.data.sanitize import Rules

sanitizing = later("pgparity.data.sanitize")  # read only where pgparity.toml has sanitize rules, or for a dump

PREFIX = "PGPARITY_"
ENV_FILES = (".env", ".env.local")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ROLE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
MAX_ROLE = 63  # PostgreSQL's identifier limit, in bytes
URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)\S+")  # a keyword DSN's `password=...`
PORT_BASE, PORT_RANGE = 25432, 1000  # below every OS's ephemeral ports, which a client may hold
MAX_DATABASE = 30
MAX_PROJECT = 48  # an environment name, so `<name>-db-1` and `<name>_data` stay short names for Docker and compose
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PROJECT_PLACEHOLDERS = ("folder", "branch", "hash")
HASH_LENGTH = 8
DEFAULT_MAJOR = 15  # the dev server's major when no production profile says which


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _port(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"must be a port number between 1 and 65535, got {value!r}")
    return int(value)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"must be a number of seconds, got {value!r}") from None
    if seconds <= 0:
        raise ValueError(f"must be positive, got {value!r}")
    return seconds


def _name(value: str, written: str | None = None) -> str:
    """A name of lowercase letters, digits, '-' and '_'; `written` is what the person wrote, when `value` was
    derived from it."""
    if not NAME_PATTERN.match(value):
        raise ValueError(
            f"must be lowercase letters, digits, '-' or '_' and start with a letter or digit, got {written or value!r}"
        )
    return value


def _project(value: str) -> str:
    """An environment name, or a template of one: `{folder}`, `{branch}` and `{hash}` are filled in by
    `project_name`; the rest is written as it is, so it follows the name's own rules."""
    unknown = [found for found in PLACEHOLDER.findall(value) if found not in PROJECT_PLACEHOLDERS]
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PROJECT_PLACEHOLDERS)
        raise ValueError(f"has an unknown placeholder {{{unknown[0]}}} (known: {known}), got {value!r}")
    shortest = PLACEHOLDER.sub(lambda found: "0" * HASH_LENGTH if found.group(1) == "hash" else "a", value)
    if "{" in shortest or "}" in shortest:
        raise ValueError(f"has an unmatched brace, got {value!r}")
    _name(shortest, value)
    if len(shortest) > MAX_PROJECT:
        raise ValueError(f"must be at most {MAX_PROJECT} characters once filled in, got {len(shortest)} at least")
    return value


def _role(value: str) -> str:
    """A superuser name that initdb, the image's entrypoint and a URL all take as it is written."""
    if not ROLE_PATTERN.match(value) or len(value.encode()) > MAX_ROLE:
        raise ValueError(f"must be letters, digits, '_', '-' or '.' (at most {MAX_ROLE}, starting with a letter "
                         f"or '_'), got {value!r}")
    return value


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"must be true or false, got {value!r}")
    return lowered in ("true", "1", "yes")


def _database(value: str) -> str:
    """A name that leaves room for sync's derived names (`<name>__pgparity_scratch_<id>`) within 63 bytes."""
    if len(value.encode()) > MAX_DATABASE:
        raise ValueError(f"must be at most {MAX_DATABASE} characters, got {len(value)}")
    return _name(value)


def _url(value: str) -> str:
    """A postgresql:// URL; whether libpq can read it is asked by `Settings.prod_url`, where it is used."""
    if urlsplit(value).scheme not in ("postgresql", "postgres"):
        raise ValueError("must be a postgresql:// URL")
    return value


def _readable_url(value: str) -> str:
    """A URL libpq can read, checked before any connection, where a bad one can be named with its setting."""
    parts = urlsplit(value)
    try:
        psycopg.conninfo.conninfo_to_dict(value)
    except psycopg.ProgrammingError as error:  # libpq's words may quote the password
        said = mask(" ".join(str(error).split()), [parts.password or ""])
        raise ValueError(f"is not a URL libpq can read ({said}); percent-encode reserved characters in the user, "
                         "password and database name (`%` as %25, a space as %20, `/` as %2F)") from None
    return value


def _repository(value: str) -> str:
    """An image repository (`postgres`, `registry.example.com:5000/postgres`): pgparity adds the major as its tag."""
    text = _text(value)
    if ":" in text.rsplit("/", 1)[-1] or "@" in text:
        raise ValueError(f"must be an image repository without a tag (pgparity adds the major), got {value!r}")
    return text


def _optional_text(value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class Key:
    """One documented setting: its parser and its default (None: derived or optional)."""

    name: str
    parse: Callable[[str], Any]
    default: str | None
    help: str


KEYS: dict[str, Key] = {
    key.name: key
    for key in (
        Key("PROJECT", _project, "{folder}-{hash}", "environment name, or a template of one with {folder}, {branch} (git) "
            "and {hash} (of the folder's path); container, volume, port and labels derive from it"),
        Key("IMAGE", _text, None, "PostgreSQL image pinned for the dev server (default: <IMAGE_REPOSITORY>:<production's major>)"),
        Key("IMAGE_REPOSITORY", _repository, "postgres", "where the images of each PostgreSQL major are found, tagged by major"),
        Key("PORT", _port, None, "host port, bound to 127.0.0.1 only (default: derived from the environment name)"),
        Key("ALLOW_PUBLIC_PORT", _flag, "false", "let the compose file publish the dev server beyond loopback (0.0.0.0, a LAN address); warned at every db.up"),
        Key("USER", _role, "postgres", "superuser created in the dev container"),
        Key("PASSWORD", _text, "pgparity", "password of that user (dev only; masked wherever printed)"),
        Key("DATABASE", _database, "app", "the dev database"),
        Key("MIGRATIONS", _text, "migrations", "directory of migrations: pgparity's NNN_name.sql, or Flyway's, golang-migrate's, dbmate's, goose's or Sqitch's layout as it is"),
        Key("PROD_URL", _url, None, "read-only production URL, used by snapshot and dump"),
        Key("ENCODING", _text, "UTF8", "server encoding given to initdb"),
        Key("LOCALE", _text, "en_US.utf8", "locale given to initdb (must exist in the image)"),
        Key("TIMEZONE", _text, "UTC", "server TimeZone"),
        Key("DURABLE", _flag, "false", "fsync the dev server's writes; off by default, trading crash safety for speed"),
        Key("TIMEOUT", _seconds, "60", "seconds to wait for the server to accept connections"),
        Key("COMPOSE_FILE", _text, None, "compose file describing the db service (default: compose/compose.yaml, else pgparity's own)"),
        Key("CONFIG", _optional_text, "pgparity.toml", "project configuration file (lint, ignore lists, sanitize rules)"),
        Key("PROFILE", _text, "parity/production.json", "committed production profile written by db.snapshot"),
        Key("SANITIZE_SECRET", _text, None, "HMAC key for sanitized dumps (16+ characters); keep it in .env.local, never commit it"),
        Key("REPORT", _text, "pgparity-report.json", "verify and diff also write their JSON report here: when this is set, or in CI (CI set)"),
    )
}


@dataclass(frozen=True)
class Settings:
    """Validated settings of one environment."""

    root: Path
    project: str
    image: str | None  # the user's pin; None: the image follows production's major
    image_repository: str
    port: int
    allow_public_port: bool
    user: str
    password: str
    database: str
    migrations: Path
    production: tuple[str, str] | None  # PROD_URL as given, and where: read it as `prod_url`
    encoding: str
    locale: str
    timezone: str
    durable: bool
    timeout: float
    compose_file: Path
    config_file: Path
    profile: Path
    report_file: Path
    report_named: bool  # PGPARITY_REPORT set: the report is written outside CI too
    sanitize_secret: str | None

    @cached_property
    def prod_url(self) -> str | None:
        """The production URL, checked with libpq when a task first reads it: the others never load psycopg."""
        if self.production is None:
            return None
        value, source = self.production
        try:
            return _readable_url(value)
        except ValueError as error:
            raise ConfigError(f"{source}: {PREFIX}PROD_URL {error}") from None

    def image_of(self, major: int) -> str:
        """The image of a PostgreSQL major: the repository's tag for it, as the official images are tagged."""
        return f"{self.image_repository}:{major}"

    def dev_image(self, major: int | None) -> str:
        """The dev server's image: the pin, else the image of production's major (or the default one)."""
        return self.image or self.image_of(major or DEFAULT_MAJOR)

    @property
    def container_name(self) -> str:
        return f"{self.project}-db-1"

    @property
    def volume_name(self) -> str:
        return f"{self.project}_data"

    @property
    def cache_folder(self) -> Path:
        """Where pgparity keeps what it can recompute (lint results); the folder ignores itself in git."""
        return self.root / ".pgparity-cache"

    def url(self, database: str | None = None, host: str = "127.0.0.1") -> str:
        """The dev server's URL as seen from the host (contains the password: mask before printing).

        The password is percent-encoded, so quotes, spaces, `@` or `$` in it reach the server as written.
        """
        password = quote(self.password, safe="")
        return f"postgresql://{self.user}:{password}@{host}:{self.port}/{database or self.database}"


def mask_url(url: str) -> str:
    """Replace the password in a URL (and in a `password=` keyword DSN) with `****`."""
    parts = urlsplit(url)
    if parts.password is not None:
        userinfo, _, hostinfo = parts.netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        return urlunsplit(parts._replace(netloc=f"{user}:****@{hostinfo}"))
    return KEYWORD_PASSWORD.sub(r"\1****", url)


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """Text safe to show: every given secret, and the password of any URL or `password=` in it, as `****`."""
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "****")
    return KEYWORD_PASSWORD.sub(r"\1****", URL_IN_TEXT.sub(lambda match: _masked(match.group()), text))


def _masked(url: str) -> str:
    try:
        return mask_url(url)
    except ValueError:  # not parseable as a URL (a stray `[`): hide everything after the scheme
        return url.partition("://")[0] + "://****"


def secrets(root: Path | None = None, environ: Mapping[str, str] | None = None) -> list[str]:
    """The configured secrets, as written and as a URL carries them, for masking messages.

    Read without validation, since the message being masked may be about a bad setting; when the
    files cannot be read, the process environment's secrets alone.
    """
    environ = os.environ if environ is None else environ
    try:
        found = gather((root or Path.cwd()).resolve(), environ)
    except ConfigError:
        found = {name: (value, "environment") for name, value in environ.items() if name.startswith(PREFIX)}
    password = found.get(PREFIX + "PASSWORD", (KEYS["PASSWORD"].default, ""))[0]
    prod_password = urlsplit(found.get(PREFIX + "PROD_URL", ("", ""))[0]).password or ""
    sanitize = found.get(PREFIX + "SANITIZE_SECRET", ("", ""))[0]
    values = [password, quote(password, safe="")] if password != KEYS["PASSWORD"].default else []
    return [*values, prod_password, unquote(prod_password), sanitize]


def git_branch(root: Path) -> str | None:
    """The checked-out branch of the repository or worktree at `root`; while a rebase or bisect has HEAD
    detached, the branch it started from; else the short commit."""
    for folder in (root, *root.parents):
        marker = folder / ".git"
        if marker.is_file():  # a worktree: `gitdir: <path>`
            git_dir = (folder / marker.read_text().partition("gitdir:")[2].strip()).resolve()
        elif marker.is_dir():
            git_dir = marker
        else:
            continue
        try:
            head = (git_dir / "HEAD").read_text().strip()
        except OSError:
            return None
        if head.startswith("ref: "):
            return head.removeprefix("ref: refs/heads/")
        return _started_from(git_dir) or head[:8]
    return None


def _started_from(git_dir: Path) -> str | None:
    """The branch a rebase or bisect in progress started from, as git records it."""
    for record in ("rebase-merge/head-name", "rebase-apply/head-name", "BISECT_START"):
        try:
            name = (git_dir / record).read_text().strip()
        except OSError:
            continue
        if name and name != "detached HEAD":
            return name.removeprefix("refs/heads/")
    return None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")


def path_hash(root: Path) -> str:
    """A short hash of the folder's resolved path: two clones of one repository, both named `app`, differ."""
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:HASH_LENGTH]


def project_name(template: str, root: Path) -> str:
    """The environment name a PGPARITY_PROJECT value (a name or a template) gives for the folder `root`.

    The folder and branch are shortened, never the hash or the written text, so the name stays within
    MAX_PROJECT and two folders keep apart."""
    root = root.resolve()
    names = PLACEHOLDER.findall(template)
    if not names:
        return template
    values = {"folder": slug(root.name) or "pgparity", "branch": slug(git_branch(root) or ""),
              "hash": path_hash(root)}
    shortened = sorted((name for name in names if name != "hash"), key=lambda name: len(values[name]))
    room = MAX_PROJECT - len(PLACEHOLDER.sub("", template)) - HASH_LENGTH * names.count("hash")
    for index, name in enumerate(shortened):  # the shorter first, so a longer one has what they leave
        values[name] = values[name][:max(room // (len(shortened) - index), 0)].strip("-_")
        room -= len(values[name])
    name = PLACEHOLDER.sub(lambda found: values[found.group(1)], template)
    return re.sub(r"([-_])[-_]+", r"\1", name).strip("-_") or values["hash"]


def default_project(root: Path) -> str:
    """One environment per folder (worktree), whatever branch is checked out: its name plus its path's hash."""
    return project_name(KEYS["PROJECT"].default, root)


def default_port(project: str) -> int:
    """A port derived from the environment name (25432-26431): stable, and distinct per worktree."""
    return PORT_BASE + zlib.crc32(project.encode()) % PORT_RANGE


def compose_file(root: Path, configured: str | None) -> Path:
    """The project's compose file when it has one, else the file shipped with pgparity."""
    if configured:
        return root / configured
    own = root / "compose" / "compose.yaml"
    return own if own.is_file() else Path(__file__).with_name("compose.yaml")


def read_env_file(path: Path) -> dict[str, str | None]:
    """The values of one .env file; a line dotenv cannot parse is an error naming the file and line, since
    skipping it would silently drop whatever setting it was meant to hold."""
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ConfigError(f"{path.name}: is a directory, not a settings file; remove or rename it") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path.name}: cannot read the settings file ({error})") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise ConfigError(f"{path.name}:{binding.original.line}: not a KEY=value line (an unclosed quote?)")
    return dotenv_values(stream=io.StringIO(text))


def gather(root: Path, environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Every PGPARITY_ value with the name of the file (or 'environment') it came from."""
    found: dict[str, tuple[str, str]] = {}
    sources = [(name, read_env_file(root / name)) for name in ENV_FILES if (root / name).exists()]
    sources.append(("environment", dict(environ)))
    for source, values in sources:
        for name, value in values.items():
            if name.startswith(PREFIX):
                found[name] = (value if value is not None else "", source)
    return found


def load(root: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings; raise ConfigError naming the key and its source on bad input."""
    root = (root or Path.cwd()).resolve()
    found = gather(root, os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for name, (raw, source) in sorted(found.items()):
        key = KEYS.get(name.removeprefix(PREFIX))
        if key is None:
            raise ConfigError(f"{source}: unknown setting {name}; see .env.example for the known keys")
        try:
            values[key.name] = key.parse(raw)
        except ValueError as error:
            raise ConfigError(f"{source}: {name} {error}") from None
    for key in KEYS.values():
        if key.name not in values and key.default is not None:
            values[key.name] = key.parse(key.default)
    _check_config_file(root, values["CONFIG"], found.get(PREFIX + "CONFIG"))
    project = project_name(values["PROJECT"], root)
    return Settings(
        root=root,
        project=project,
        image=values.get("IMAGE"),
        image_repository=values["IMAGE_REPOSITORY"],
        port=values.get("PORT") or default_port(project),
        allow_public_port=values["ALLOW_PUBLIC_PORT"],
        user=values["USER"],
        password=values["PASSWORD"],
        database=values["DATABASE"],
        migrations=root / values["MIGRATIONS"],
        production=(values["PROD_URL"], found[PREFIX + "PROD_URL"][1]) if "PROD_URL" in values else None,
        encoding=values["ENCODING"],
        locale=values["LOCALE"],
        timezone=values["TIMEZONE"],
        durable=values["DURABLE"],
        timeout=values["TIMEOUT"],
        compose_file=compose_file(root, values.get("COMPOSE_FILE")),
        config_file=root / values["CONFIG"],
        profile=root / values["PROFILE"],
        report_file=root / values["REPORT"],
        report_named=PREFIX + "REPORT" in found,
        sanitize_secret=values.get("SANITIZE_SECRET"),
    )


def _check_config_file(root: Path, name: str, configured: tuple[str, str] | None) -> None:
    """A project file named on purpose must exist: without it every list setting would silently fall back
    to its default. The default name may be absent (no project file yet), as when the key is unset."""
    if configured and name and name != KEYS["CONFIG"].default and not (root / name).is_file():
        raise ConfigError(f"{configured[1]}: PGPARITY_CONFIG names {name}, which is not a file; "
                          "create it or remove the key")


@dataclass(frozen=True)
class LedgerTable:
    """`[production] ledger` from pgparity.toml: a ledger no known tool keeps; `source` names the file for errors."""

    schema: str
    table: str
    version: str  # the column holding a version number, a file name or a file stem
    source: str


@dataclass(frozen=True)
class ProductionPolicy:
    """What pgparity.toml says about production's position: its ledger table, or how far it has come."""

    applied_through: int | None = None  # every migration up to this version is applied in production
    ledger: LedgerTable | None = None


@dataclass(frozen=True)
class ProjectFile:
    """The committed project configuration (pgparity.toml): decisions that are lists, not single values."""

    migrations: MigrationPolicy = MigrationPolicy()
    ignore: tuple[str, ...] = ()  # accepted differences, `kind:object.name.attribute` globs
    owners: bool = False  # `[verify] owners = true`: who owns each object is compared too
    sanitize: Rules | None = None  # the [sanitize] section's rules; `rules` is what a dump applies
    production: ProductionPolicy = ProductionPolicy()
    seed: str | None = None  # `[seed] path`: a .sql file or a folder of them, applied to dev after each sync
    hazards: HazardPolicy = HazardPolicy()


def _applied_through(path: Path, value: Any) -> int | None:
    return None if value is None else parse_version(f"{path}: production.applied_through", value)


def parse_version(where: str, value: Any) -> int:
    """A migration version given as "006", 6 or "006_name.sql", as a number."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    digits = re.match(r"\d+", text) if isinstance(text, str) else None
    if digits is None:
        raise ConfigError(f'{where} must be a migration version such as "006", not {value!r}')
    return int(digits.group())


def _ledger(path: Path, value: Any) -> LedgerTable | None:
    if value is None:
        return None
    shape = '{ table = "schema.table", version = "column" }'
    if not isinstance(value, dict) or set(value) != {"table", "version"} \
            or not all(isinstance(item, str) and item for item in value.values()):
        raise ConfigError(f"{path}: production.ledger must be {shape}")
    schema, _, table = value["table"].rpartition(".")
    return LedgerTable(schema or "public", table, value["version"], str(path))


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return tuple(value)


def _hazards(path: Path, section: dict[str, Any]) -> HazardPolicy:
    """`[hazards]`: the sizes from which a rewrite or scan is high, and the severity `db.lint --hazards` fails on."""
    defaults = HazardPolicy()
    rows, size = (section.get(key, getattr(defaults, name)) for key, name in (("rewrite_rows", "rows"),
                                                                               ("rewrite_bytes", "bytes")))
    for key, value in (("rewrite_rows", rows), ("rewrite_bytes", size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{path}: hazards.{key} must be a whole number of at least 0, not {value!r}")
    return HazardPolicy(rows, size, severity(f"{path}: hazards.fail_on", section.get("fail_on")))


def severity(where: str, value: Any) -> str | None:
    """A hazard severity as a setting or flag gives it (None: not given)."""
    if value is None or value in SEVERITIES:
        return value
    raise ConfigError(f"{where} must be one of {', '.join(SEVERITIES)}, not {value!r}")


def _flag_setting(path: Path, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {name} must be true or false, not {value!r}")
    return value


def _format(path: Path, value: Any) -> str | None:
    """The migrations' layout, when the project names it rather than letting the files tell."""
    if value is None:
        return None
    return formats.named(value if isinstance(value, str) else repr(value), f"{path}: migrations.format").name


def _baseline(path: Path, value: Any) -> Baseline | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"file", "through"} or not isinstance(value["file"], str) \
            or not isinstance(value["through"], int) or isinstance(value["through"], bool):
        raise ConfigError(f"{path}: migrations.baseline must be {{ file = \"NNN_name.sql\", through = <version> }}")
    return Baseline(value["file"], value["through"])


def _check_keys(path: Path, section: str, table: Any, known: set[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    for key in table:
        if key not in known:
            raise ConfigError(f"{path}: unknown key {section}.{key}; known: {', '.join(sorted(known))}")
    return table


def stamp_production(path: Path, version: str) -> None:
    """Set `[production] applied_through` in pgparity.toml, keeping the rest of the file as it was written."""
    import tomlkit  # only this task edits the file; reading it needs only tomllib

    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else tomlkit.document()
    except (tomlkit.exceptions.ParseError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    section = document.setdefault("production", tomlkit.table())
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [production] must be a table")
    section["applied_through"] = version
    write_whole(path, tomlkit.dumps(document))


def add_sanitize_rules(path: Path, rules: list[tuple[str, str, str]]) -> None:
    """Append column rules (column, transformer, why) to `[sanitize.columns]`, each with its reason as a comment
    for the user to review; the rest of the file stays as it was written."""
    import tomlkit

    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else tomlkit.document()
    except (tomlkit.exceptions.ParseError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    sanitize = document.setdefault("sanitize", tomlkit.table(is_super_table=True))
    columns = sanitize.setdefault("columns", tomlkit.table())
    for column, transformer, why in rules:
        columns[column] = transformer
        columns[column].comment(f"review: {why}")
    write_whole(path, tomlkit.dumps(document))


def load_project_file(path: Path) -> ProjectFile:
    """Read pgparity.toml if present (absent means defaults); one ConfigError line names file and key."""
    if not path.is_file():
        return ProjectFile()
    named = Path(shown(path))  # the file as its messages name it: as typed in the project folder
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{named}: not valid TOML ({error})") from None
    _check_keys(named, "top level", document, {"migrations", "verify", "sanitize", "production", "seed",
                                                      "hazards"})
    seed = _check_keys(named, "seed", document.get("seed", {}), {"path"}).get("path")
    if seed is not None and not (isinstance(seed, str) and seed.strip()):
        raise ConfigError(f"{named}: seed.path must name a .sql file or a folder of them, not {seed!r}")
    production = _check_keys(named, "production", document.get("production", {}), {"applied_through", "ledger"})
    verify = _check_keys(named, "verify", document.get("verify", {}), {"ignore", "owners"})
    owners = _flag_setting(named, "verify.owners", verify.get("owners", False))
    section = _check_keys(named, "migrations", document.get("migrations", {}), {"skip", "order", "baseline", "format",
                                                                                        "verify"})
    return ProjectFile(
        migrations=MigrationPolicy(
            skip=frozenset(_strings(named, "migrations.skip", section.get("skip", []))),
            order=_strings(named, "migrations.order", section.get("order", [])),
            baseline=_baseline(named, section.get("baseline")),
            format=_format(named, section.get("format")),
            verify=_flag_setting(named, "migrations.verify", section.get("verify", False)),
        ),
        ignore=_strings(named, "verify.ignore", verify.get("ignore", [])),
        owners=owners,
        sanitize=sanitizing.parse_rules(document["sanitize"], named) if "sanitize" in document else None,
        production=ProductionPolicy(_applied_through(named, production.get("applied_through")),
                                    _ledger(named, production.get("ledger"))),
        seed=seed,
        hazards=_hazards(named, _check_keys(named, "hazards", document.get("hazards", {}),
                                            {"rewrite_rows", "rewrite_bytes", "fail_on"})),
    )
