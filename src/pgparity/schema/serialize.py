"""Snapshot <-> JSON: deterministic text meant to be committed and read in `git diff`."""

from __future__ import annotations

import functools
import json
import types
import typing
from dataclasses import MISSING, dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pgparity.errors import SnapshotError, shown
from pgparity.lazy import later
from pgparity.versions import major

if TYPE_CHECKING:
    from pgparity.schema.model import Snapshot

# Its dozens of classes are built only when a whole snapshot is read: the head of a profile needs none.
model = later("pgparity.schema.model")

FORMAT = 4
# Format 1 kept only pgparity's own ledger rows, as `migrations`; format 2 keeps any tool's, as `ledger`.
# Format 3 added fields with defaults (role settings, reloptions, virtual columns): a format 2 document
# lacks them and loads with the defaults. Format 4 reads the privileges of schemas, functions and types
# and default privileges: an older document loads with the ones a fresh object has (`assumed_privileges`);
# and column storage, compression and statistics targets, replica identity, constraint validation and
# event triggers, which an older document lacks and loads with their defaults. So do the kinds read later in
# format 4: extended statistics, rules, extensions' configuration tables, operators, operator classes and
# families, text search objects, aggregates, casts, collations, publications, subscriptions, foreign-data
# wrappers, servers, user mappings, foreign tables and foreign columns' options.
READABLE = (1, 2, 3, FORMAT)


def dump_snapshot(snapshot: Snapshot) -> str:
    """JSON with a format version first, fields in declaration order, indent 2, final newline.

    Collections are already in canonical order (see model), so equal snapshots give equal text.
    """
    document = {"format": FORMAT, **to_plain(snapshot)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_snapshot(path: str | Path) -> Snapshot:
    """Reads a file written from `dump_snapshot`; anything else raises SnapshotError naming it."""
    name, version, document = _document(Path(path))
    try:
        snapshot = from_plain(model.Snapshot, upgraded(document) if version == 1 else document, "snapshot")
    except ValueError as error:
        raise SnapshotError(f"{name} is not a valid pgparity snapshot: {error}") from error
    return snapshot if version == FORMAT else assumed_privileges(snapshot)


@dataclass(frozen=True)
class Head:
    """What a profile says of production's server, read without its objects: what dev's container mirrors,
    wanted by every command that reaches dev (a profile of a thousand tables takes 0.2 s to read whole)."""

    major: int
    settings: dict[str, str]  # by lower-cased name

    @classmethod
    def of(cls, snapshot: Snapshot) -> Head:
        return cls(snapshot.server.major, {setting.name.lower(): setting.value for setting in snapshot.settings})


def load_head(path: str | Path) -> Head:
    """The head of a file written from `dump_snapshot`, its shape checked as `load_snapshot` checks it."""
    name, _, document = _document(Path(path))
    server, settings = document.get("server"), document.get("settings")
    try:
        expect(isinstance(server, dict) and type(server.get("version_num")) is int, "snapshot.server",
               "an object with version, version_num")
        expect(isinstance(settings, list) and all(
            isinstance(each, dict) and type(each.get("name")) is str and type(each.get("value")) is str
            for each in settings), "snapshot.settings", "a list of objects with name, value")
    except ValueError as error:
        raise SnapshotError(f"{name} is not a valid pgparity snapshot: {error}") from error
    return Head(major(server["version_num"]), {each["name"].lower(): each["value"] for each in settings})


def _document(path: Path) -> tuple[str, int, dict]:
    """The file's name as shown, its format and its document without the format field."""
    name = shown(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SnapshotError(f"cannot read snapshot {name}: {error.strerror or error}") from error
    except ValueError as error:
        raise SnapshotError(f"{name} is not a pgparity snapshot: invalid JSON ({error})") from error
    if not isinstance(document, dict) or "format" not in document:
        raise SnapshotError(f"{name} is not a pgparity snapshot: it has no format field")
    version = document.pop("format")
    if version not in READABLE:
        raise SnapshotError(
            f"{name} has snapshot format {version!r}; this pgparity reads formats {', '.join(map(str, READABLE))}"
        )
    return name, version, document


def assumed_privileges(snapshot: Snapshot) -> Snapshot:
    """A snapshot from before format 4, which never read these privileges, with the ones a fresh object gets:
    EXECUTE or USAGE to PUBLIC on functions and types, and the public schema's as initdb of its major leaves
    them. So upgrading pgparity shows no drift the profile did not record; capturing it again compares them."""
    def public(*privileges: str) -> tuple[model.Privilege, ...]:
        return tuple(model.Privilege("", "PUBLIC", privilege, False) for privilege in sorted(privileges))

    schema_public = public("USAGE") if snapshot.server.major >= 15 else public("CREATE", "USAGE")
    typed = {name: tuple(replace(each, privileges=public("USAGE")) for each in getattr(snapshot, name))
             for name in ("enums", "domains", "types")}
    return replace(
        snapshot,
        schemas=tuple(replace(s, privileges=schema_public if s.name == "public" else ()) for s in snapshot.schemas),
        functions=tuple(replace(f, privileges=public("EXECUTE")) for f in snapshot.functions), **typed)


def upgraded(document: dict) -> dict:
    """A format 1 document in format 2: its pgparity ledger rows become a pgparity ledger."""
    rows = document.pop("migrations", None)
    if not isinstance(rows, list):
        raise ValueError("snapshot.migrations should be a list")
    entries = [{"version": str(row.get("version")), "name": row.get("name"), "checksum": row.get("checksum"),
                "through": False, "failed": False} for row in rows if isinstance(row, dict)]
    ledger = {"kind": "pgparity", "table": "pgparity.schema_migrations", "entries": entries} if rows else None
    return {**document, "ledger": ledger}


def to_plain(value: object) -> object:
    if is_dataclass(value):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [to_plain(item) for item in value]
    return value


@functools.cache
def hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def from_plain(hint: object, value: object, where: str) -> object:
    """Rebuilds a value of type `hint` from JSON, checking its shape; `where` names the spot."""
    if isinstance(hint, types.UnionType):  # only ever `X | None`
        if value is None:
            return None
        (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
    if typing.get_origin(hint) is tuple:
        expect(isinstance(value, list), where, "a list")
        (element, _) = typing.get_args(hint)
        return tuple(from_plain(element, item, f"{where}[{i}]") for i, item in enumerate(value))
    if is_dataclass(hint):
        names = [f.name for f in fields(hint)]
        required = {f.name for f in fields(hint) if f.default is MISSING}
        expect(isinstance(value, dict) and required <= set(value) <= set(names), where,
               f"an object with {', '.join(names)}")
        return hint(**{name: from_plain(hints(hint)[name], value[name], f"{where}.{name}")
                       for name in names if name in value})
    expect(type(value) is hint, where, hint.__name__)
    return value


def expect(condition: bool, where: str, what: str) -> None:
    if not condition:
        raise ValueError(f"{where} should be {what}")
