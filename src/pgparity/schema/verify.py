"""The pre-push check: dev vs the migrations (local drift), production vs the migrations it applied.

Which migrations production applied is its position (see `position`); the ones after it are pending.

Both "expected" schemas come from replays through the template cache, so an unchanged tree costs a
lookup, not a replay.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pgparity.migrations.model import Migration
from pgparity.migrations.position import Position
from pgparity.schema.diff import Change, Difference, compare
from pgparity.schema.model import ServerVersion, Snapshot

LOCAL, PRODUCTION, DIFF = "local", "production", "diff"


@dataclass(frozen=True)
class Finding:
    """A difference in a scope, and whether the project accepted it in its ignore list."""

    scope: str
    difference: Difference
    ignored: bool



SAME, MINOR, MAJOR = "same", "minor_mismatch", "major_mismatch"


@dataclass(frozen=True)
class ServerCheck:
    """The servers' versions on the two sides of a scope: not schema, so no finding and no fix.

    Another major fails the check: its catalogs print objects differently and its features differ. Another
    minor release of the same major is only worth a warning.
    """

    scope: str
    source: ServerVersion
    target: ServerVersion

    @property
    def status(self) -> str:
        if self.source.major != self.target.major:
            return MAJOR
        return MINOR if self.source.version_num != self.target.version_num else SAME


@dataclass(frozen=True)
class Verdict:
    """Everything verify (or diff) found; drift when any finding is not ignored.

    `position` is production's (verify with a profile): the migrations pending there are listed, not drift.
    `server` compares the versions of the servers (None for verify without a profile). `checked` names the
    scopes compared, those without a finding too (a report lists each check that passed).
    """

    findings: tuple[Finding, ...]
    position: Position | None = None
    server: ServerCheck | None = None
    checked: tuple[str, ...] = ()
    hazards: tuple = ()  # migrations.hazards.Reviewed: what the files pending in production will do there

    @property
    def drift(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.ignored and not f.difference.version_only)

    @property
    def failed(self) -> bool:
        """Drift, or servers of another major: either fails the check."""
        return bool(self.drift) or self.server is not None and self.server.status == MAJOR

    @property
    def pending_in_production(self) -> tuple[Migration, ...]:
        return self.position.pending if self.position else ()

    @property
    def status(self) -> str:
        if self.drift:
            return "drift"
        return "version_mismatch" if self.failed else "parity"


def pattern_of(difference: Difference) -> str:
    """How an ignore entry names a difference: `kind:object.name.attribute` (empty parts left out)."""
    parts = [difference.object] + [part for part in (difference.name, difference.attribute) if part]
    return f"{difference.kind}:" + ".".join(parts)


def ignored(difference: Difference, ignore: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(pattern_of(difference), pattern) for pattern in ignore)


def scoped(scope: str, differences: Sequence[Difference], ignore: Sequence[str]) -> list[Finding]:
    return [Finding(scope, d, ignored(d, ignore)) for d in differences]


def rows(changes: Sequence[Change]) -> tuple[Difference, ...]:
    return tuple(change.difference for change in changes)


def without_ledger(snapshot: Snapshot) -> Snapshot:
    return replace(snapshot, ledger=None)


def production_drift(built: Snapshot, profile: Snapshot, position: Position,
                     owners: bool = False) -> tuple[Difference, ...]:
    """Production vs a replay of exactly what it applied, plus its ledger's disagreements with the files."""
    return rows(compare(without_ledger(built), without_ledger(profile), owners)) + position.differences


def verdict(local: Sequence[Difference], production: Sequence[Difference], position: Position | None,
            ignore: Sequence[str], server: ServerCheck | None = None) -> Verdict:
    """Verify's verdict: production is checked when there is a profile (its position) or a difference."""
    checked = (LOCAL, PRODUCTION) if position is not None or production else (LOCAL,)
    return Verdict(tuple(scoped(LOCAL, local, ignore) + scoped(PRODUCTION, production, ignore)), position, server,
                   checked)


def diff_verdict(source: Snapshot, target: Snapshot, ignore: Sequence[str], position: Position | None = None,
                 owners: bool = False) -> Verdict:
    """Any two schemas; pgparity ledgers are compared only when both sides keep one."""
    return Verdict(tuple(scoped(DIFF, rows(compare(source, target, owners)), ignore)), position,
                   ServerCheck(DIFF, source.server, target.server), (DIFF,))
